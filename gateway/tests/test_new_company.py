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


def _errors_of(field_errors: list[tuple[str, str]]):
    from gateway.rpc.transport import RemoteFailure

    errors = [{"field": f, "message": m} for f, m in field_errors]
    first = errors[0]
    return RemoteFailure({"exc_type": "ValidationError", "exc_path": "service_common.errors.ValidationError",
                          "exc_args": [f"{first['field']}: {first['message']}", {"field": first["field"], "errors": errors}],
                          "value": f"{first['field']}: {first['message']}"})


def test_every_error_of_the_form_comes_back_at_once(client, rpc):
    """Issue 13: the form's own errors and the crm's (organisation number, phone) in one answer;
    the crm checks only the fields that passed here, and nothing is created."""
    rpc.on("check_company", _errors_of([("org_number", "Not a valid Norwegian organisation number."),
                                        ("phone", "Enter a phone number with its country code, like +47 22 33 44 55.")]))
    response = client.post("/companies/new", headers=HX, data={
        "name": "", "country": "NO", "relationship": "prospect", "org_number": "123", "phone": "12",
        "email": "not-an-address", "website": "not a site", "employees": "many", "invoice.credit_days": "999"})
    assert response.status_code == 422
    body = response.text
    for field in ("name", "org_number", "phone", "email", "website", "employees", "invoice-credit_days"):
        assert f'id="new-{field}-err"' in body, field
    assert "Not a valid Norwegian organisation number." in body and "+47 22 33 44 55" in body
    sent, partial = rpc.last("check_company").args
    assert partial is False and sent["org_number"] == "123" and sent["phone"] == "12"
    assert not {"name", "email", "website", "employees", "invoice"} & set(sent)  # refused here already
    assert "invoice.credit_days" not in rpc.last("check_company").args[0]
    assert "create_company" not in rpc.methods()


def test_a_valid_form_is_not_checked_twice(client, rpc):
    rpc.on("create_company", lambda data: company(id=5))
    client.post("/companies/new", headers=HX, data={"name": "X", "country": "NO", "relationship": "prospect"})
    assert "check_company" not in rpc.methods()


def test_the_new_company_form_has_the_logo_box(client, rpc):
    """Issue 13 (the help article's logo box): an optional logo, saved right after the company."""
    import io

    from PIL import Image

    body = client.get("/companies/new").text
    assert 'name="logo"' in body and 'hx-encoding="multipart/form-data"' in body
    png = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(png, "PNG")
    rpc.on("create_company", lambda data: company(id=7))
    rpc.on("set_logo", lambda cid, logo: {"logo_version": 1})
    response = client.post("/companies/new", headers=HX, content_type="multipart/form-data", data={
        "name": "Logo AS", "country": "NO", "relationship": "prospect", "logo": (io.BytesIO(png.getvalue()), "logo.png")})
    assert response.status_code == 204
    cid, logo = rpc.last("set_logo").args
    assert cid == 7 and logo["content_type"].startswith("image/") and logo["data"]
    response = client.post("/companies/new", headers=HX, content_type="multipart/form-data", data={
        "name": "", "country": "NO", "relationship": "prospect", "logo": (io.BytesIO(b"not an image"), "logo.png")})
    assert response.status_code == 422 and 'id="new-logo-err"' in response.text and 'id="new-name-err"' in response.text
