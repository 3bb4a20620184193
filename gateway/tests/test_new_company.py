"""The new-company form: the extra fields, the start project, errors inline."""
from gateway_fakes import HX, company, validation_error


def test_form_defaults_to_me_as_owner(client):
    body = client.get("/companies/new").text
    assert 'name="owner_ids" value="1" checked' in body
    assert "Create a start project" in body


def test_create_with_everything(client, rpc):
    rpc.on("create_company", lambda data: company(id=99))
    response = client.post("/companies/new", headers=HX, data={
        "name": "Nord AS", "country": "NO", "org_number": "923609016", "legal_form": "AS", "industry_code": "78.2",
        "industry_text": "Staffing", "employees": "12", "website": "https://nord.no", "phone": "+47 22 00 00 00",
        "email": "post@nord.no", "city": "Oslo", "relationship": "prospect", "owner_ids": ["1", "2"], "department_id": "2",
        "addresses.visiting.street": "Gate 2", "addresses.visiting.city": "Oslo",
        "with_project": "1", "start_project.name": "Framework 2026", "start_project.type": "recruitment"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/companies/99"
    sent = rpc.last("create_company").args[0]
    assert sent["owner_ids"] == [1, 2] and sent["department_id"] == 2 and sent["employees"] == 12
    assert sent["start_project"] == {"name": "Framework 2026", "type": "recruitment", "status": "request"}
    assert sent["addresses"] == {"visiting": {"street": "Gate 2", "postcode": None, "city": "Oslo", "region": None, "country": None}}


def test_start_project_needs_a_name_and_nothing_is_lost(client, rpc):
    response = client.post("/companies/new", headers=HX, data={
        "name": "Nord AS", "country": "NO", "relationship": "prospect", "owner_ids": ["2"], "with_project": "1",
        "start_project.name": "", "addresses.billing.city": "Bergen"})
    assert response.status_code == 422
    body = response.text
    assert "The project&#39;s name is required." in body
    assert 'value="Nord AS"' in body and 'value="Bergen"' in body
    assert 'name="owner_ids" value="2" checked' in body and 'name="owner_ids" value="1" checked' not in body
    assert "create_company" not in rpc.methods()


def test_service_error_on_org_number(client, rpc):
    rpc.on("create_company", validation_error("org_number", "Already registered"))
    response = client.post("/companies/new", headers=HX, data={"name": "X", "country": "NO", "relationship": "prospect",
                                                               "org_number": "923609016"})
    assert response.status_code == 422 and 'id="new-org_number-err">Already registered<' in response.text


def test_without_htmx_redirects(client, rpc):
    rpc.on("create_company", lambda data: company(id=5))
    response = client.post("/companies/new", data={"name": "X", "country": "NO", "relationship": "prospect"})
    assert response.status_code == 303 and response.headers["Location"] == "/companies/5"
    assert "start_project" not in rpc.last("create_company").args[0]
