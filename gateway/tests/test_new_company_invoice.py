"""The new-company form's invoice box (issue 13): its defaults pass the card's own validation."""
import re

from gateway_fakes import HX, company

BASE = {"name": "Nord AS", "country": "NO", "relationship": "prospect", "owner_ids": ["1"]}


def test_the_form_has_the_invoice_box_with_a_default_that_needs_no_e_mail(client):
    body = client.get("/companies/new").text
    assert "<legend>Invoice</legend>" in body
    assert re.search(r'name="invoice\.type"[^>]*>\s*<option value="">Default: e-mail with PDF', body)
    assert 'name="invoice.email"' in body and 'name="invoice.credit_days" type="number" value="14"' in body


def test_untouched_invoice_box_leaves_the_default_to_the_crm(client, rpc):
    rpc.on("create_company", lambda data: company(id=99))
    response = client.post("/companies/new", headers=HX, data={**BASE, "invoice.type": "", "invoice.credit_days": "14"})
    assert response.status_code == 204
    assert "invoice" not in rpc.last("create_company").args[0]


def test_an_invoice_box_filled_in_is_sent_with_the_create(client, rpc):
    rpc.on("create_company", lambda data: company(id=99))
    client.post("/companies/new", headers=HX, data={**BASE, "email": "post@nord.no", "invoice.type": "email_link",
                                                    "invoice.email": "faktura@nord.no", "invoice.credit_days": "30"})
    assert rpc.last("create_company").args[0]["invoice"] == {"type": "email_link", "email": "faktura@nord.no",
                                                             "credit_days": 30}


def test_an_e_mail_invoice_uses_the_company_e_mail_when_none_is_given(client, rpc):
    rpc.on("create_company", lambda data: company(id=99))
    client.post("/companies/new", headers=HX, data={**BASE, "email": "post@nord.no", "invoice.type": "email_pdf",
                                                    "invoice.credit_days": "14"})
    assert rpc.last("create_company").args[0]["invoice"] == {"type": "email_pdf", "email": "post@nord.no",
                                                             "credit_days": 14}


def test_an_e_mail_invoice_without_any_e_mail_is_refused_where_it_was_typed(client, rpc):
    response = client.post("/companies/new", headers=HX, data={**BASE, "invoice.type": "email_pdf",
                                                               "invoice.credit_days": "400", "invoice.email": ""})
    assert response.status_code == 422
    assert "An invoice e-mail is required when invoices go by e-mail." in response.text
    assert 'id="new-invoice.credit_days-err"' in response.text or "365" in response.text
    assert "create_company" not in rpc.methods()


# -- "Enter manually" keeps what was typed in the registry search (issue 13) -------------------
def test_enter_manually_keeps_a_typed_name(client, rpc):
    rpc.on("search", lambda q: {"items": [], "failed_countries": [], "errors": []})
    body = client.get("/registry/suggest", query_string={"q": "Fjellbris Bemanning", "countries": ["NO"]}, headers=HX).text
    link = re.search(r'hx-get="([^"]*)"[^>]*>Enter manually', body).group(1)
    form = client.get(link.replace("&amp;", "&"), headers=HX).text
    assert 'name="name" type="text" value="Fjellbris Bemanning"' in form


def test_enter_manually_puts_a_typed_number_into_the_number_field(client):
    form = client.get("/companies/new", query_string={"q": "923 609 016"}, headers=HX).text
    assert 'name="org_number" type="text" value="923 609 016"' in form
    assert 'name="name" type="text" value=""' in form


def test_the_start_project_shows_and_sends_its_status(client, rpc):
    body = client.get("/companies/new").text
    assert re.search(r'name="start_project\.status"[^>]*>.*?<option value="request" selected>', body, re.S)
    rpc.on("create_company", lambda data: company(id=99))
    client.post("/companies/new", headers=HX, data={**BASE, "with_project": "1", "start_project.name": "Ramme",
                                                    "start_project.type": "staffing", "start_project.status": "active"})
    assert rpc.last("create_company").args[0]["start_project"] == {"name": "Ramme", "type": "staffing", "status": "active"}
