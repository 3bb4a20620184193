"""The company card: boxes edited in place, 422 inline errors, logo checks, escaping, counts refresh."""
import base64
import io

import pytest

from gateway_fakes import HX, company, validation_error

def _image(fmt: str, size=(64, 32), mode="RGB") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")
WEBP = _image("WEBP")
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"


def test_card_is_one_parallel_round(client, rpc):
    response = client.get("/companies/7")
    assert response.status_code == 200
    assert sorted(rpc.methods()) == ["company_timeline", "get_company"]
    assert 'id="card-head"' in response.text and 'hx-trigger="countsChanged from:body, companyChanged from:body"' in response.text
    for box in ("general", "ownership", "invoice", "addresses", "logo", "tags", "attributes"):
        assert f'id="box-{box}"' in response.text


def test_tab_switch_is_a_fragment_and_full_page_on_reload(client, rpc):
    rpc.on("list_tasks", lambda cid, opts: [])
    rpc.on("list_contacts", lambda cid, opts: [])
    fragment = client.get("/companies/7?tab=tasks", headers=HX)
    assert fragment.text.lstrip().startswith('<section id="records"')
    assert "get_company" not in rpc.methods()
    full = client.get("/companies/7?tab=tasks")
    assert "<!doctype html>" in full.text and 'aria-selected="true" aria-controls="tabpanel" tabindex="0">Tasks<' in full.text
    restored = client.get("/companies/7?tab=tasks", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<!doctype html>" in restored.text


def test_edit_returns_the_form_in_the_same_wrapper(client):
    body = client.get("/companies/7/general/edit", headers=HX).text
    assert body.lstrip().startswith('<section id="box-general"')
    assert 'hx-target="this" hx-swap="outerHTML"' in body
    assert 'hx-put="/companies/7/general"' in body
    assert 'name="csrf_token"' in body
    assert 'value="Fjord Bemanning AS"' in body


def test_saving_a_box_returns_the_box_and_tells_the_header(client, rpc):
    rpc.on("update_company", lambda cid, changes: company(id=cid, **{k: v for k, v in changes.items() if k != "parent_id"}))
    response = client.put("/companies/7/general", headers=HX, data={
        "name": "Fjord AS", "org_number": "923609016", "country": "NO", "relationship": "partner",
        "employees": "50", "website": "fjord.no", "parent_id": ""})
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "companyChanged"
    changes = rpc.last("update_company").args[1]
    assert changes["name"] == "Fjord AS" and changes["employees"] == 50 and changes["website"] == "https://fjord.no"
    assert changes["parent_id"] is None and changes["legal_form"] is None
    assert "Fjord AS" in response.text and "<form" not in response.text


def test_gateway_validation_is_422_inline_and_keeps_the_input(client, rpc):
    response = client.put("/companies/7/invoice", headers=HX,
                          data={"type": "email_pdf", "email": "", "credit_days": "400"})
    assert response.status_code == 422
    body = response.text
    assert "An invoice e-mail is required" in body
    assert 'id="inv-credit_days-err"' in body and 'value="400"' in body
    assert 'value="email_pdf" checked' in body
    assert "update_invoice_settings" not in rpc.methods()


def test_service_validation_is_mapped_to_the_field(client, rpc):
    rpc.on("update_company", validation_error("org_number", "Not a valid Norwegian organisation number"))
    response = client.put("/companies/7/general", headers=HX, data={
        "name": "Fjord", "org_number": "123", "country": "NO", "relationship": "customer"})
    assert response.status_code == 422
    assert 'id="gen-org_number-err">Not a valid Norwegian organisation number<' in response.text
    assert 'aria-invalid="true" aria-describedby="gen-org_number-err"' in response.text
    assert 'value="123"' in response.text


def test_paper_invoice_needs_no_email(client, rpc):
    rpc.on("update_invoice_settings", lambda cid, s: company(id=cid, invoice=s))
    response = client.put("/companies/7/invoice", headers=HX, data={"type": "paper", "email": "", "credit_days": "14"})
    assert response.status_code == 200
    assert rpc.last("update_invoice_settings").args[1] == {"type": "paper", "email": None, "credit_days": 14}


def test_ownership_adds_and_removes_several(client, rpc):
    rpc.on("update_company", lambda cid, ch: company(id=cid))
    client.put("/companies/7/ownership", headers=HX, data={"owner_ids": ["1", "2"], "department_id": "2"})
    assert rpc.last("update_company").args[1] == {"owner_ids": [1, 2], "department_id": 2}


def test_addresses_save_all_three_and_copy(client, rpc):
    rpc.on("update_addresses", lambda cid, a: company(id=cid))
    rpc.on("copy_address", lambda cid, pair: company(id=cid))
    client.put("/companies/7/addresses", headers=HX, data={
        "addresses.visiting.street": "Gate 1", "addresses.visiting.city": "Oslo", "addresses.visiting.country": "NO"})
    sent = rpc.last("update_addresses").args[1]
    assert sent["visiting"]["street"] == "Gate 1" and sent["billing"] == dict.fromkeys(sent["billing"])
    response = client.post("/companies/7/addresses/copy", headers=HX, data={"from": "postal", "to": "billing"})
    assert response.status_code == 200
    assert rpc.last("copy_address").args[1] == {"from": "postal", "to": "billing"}
    assert client.post("/companies/7/addresses/copy", headers=HX, data={"from": "billing", "to": "visiting"}).status_code == 400


def test_address_box_has_copy_buttons(client):
    body = client.get("/companies/7/addresses", headers=HX).text
    assert "Copy postal to billing" in body and "Copy visiting to postal" in body
    assert 'data-copy-target="addr-visiting"' in body


def test_tags_are_cleaned_and_deduplicated(client, rpc):
    rpc.on("set_tags", lambda cid, tags: company(id=cid, tags=tags))
    client.put("/companies/7/tags", headers=HX, data={"tags": ["vip"], "new_tags": "VIP, oil  and gas,, new"})
    assert rpc.last("set_tags").args[1] == ["vip", "oil and gas", "new"]


def test_tag_autocomplete_completes_the_last_tag(client, rpc):
    rpc.on("list_tags", lambda opts: ["viking", "vip"])
    body = client.get("/companies/tags?new_tags=oil,%20vi", headers=HX).text
    assert rpc.last("list_tags").args[0] == {"prefix": "vi", "limit": 10}
    assert '<option value="oil, viking">' in body


def test_attributes_send_only_changes_in_their_types(client, rpc):
    rpc.on("set_attribute_value", lambda cid, aid, value: company(id=cid))
    response = client.put("/companies/7/attributes", headers=HX, data={
        "attr.1": "yes", "attr.2": "5", "attr.3": "Silver", "attr.4": ["Staffing", "Recruitment"], "attr.5": "hello"})
    assert response.status_code == 200
    sent = {c.args[1]: c.args[2] for c in rpc.calls if c.method == "set_attribute_value"}
    assert sent == {2: 5, 3: "Silver", 4: ["Staffing", "Recruitment"], 5: "hello"}


def test_attribute_dropdown_outside_options_is_422(client, rpc):
    response = client.put("/companies/7/attributes", headers=HX, data={"attr.3": "Platinum"})
    assert response.status_code == 422
    assert 'id="attr-attr-3-err"' in response.text


# -- logo ----------------------------------------------------------------------------------------------
def _upload(client, data: bytes, filename: str):
    return client.post("/companies/7/logo", headers=HX, content_type="multipart/form-data",
                       data={"logo": (io.BytesIO(data), filename)})


@pytest.fixture
def logo_rpc(rpc):
    rpc.on("set_logo", lambda cid, payload: {"logo_version": 4})
    return rpc


def test_png_named_jpg_is_accepted_as_png(client, logo_rpc):
    response = _upload(client, PNG, "logo.jpg")
    assert response.status_code == 200
    sent = logo_rpc.last("set_logo").args[1]
    assert sent["content_type"] == "image/png"
    assert base64.b64decode(sent["data"]).startswith(b"\x89PNG")  # re-encoded by Pillow
    assert response.headers["HX-Trigger"] == "companyChanged"


@pytest.mark.parametrize("data,kind", [(JPEG, "image/jpeg"), (WEBP, "image/webp")])
def test_jpeg_and_webp_by_content(client, logo_rpc, data, kind):
    assert _upload(client, data, "logo.bin").status_code == 200
    assert logo_rpc.last("set_logo").args[1]["content_type"] == kind


@pytest.mark.parametrize("data,name,message", [
    (SVG, "logo.svg", "SVG logos are not accepted"),
    (SVG, "logo.png", "SVG logos are not accepted"),
    (HTML, "logo.png", "is a web page, not an image"),
    (b"GIF89a" + b"\x00" * 20, "logo.png", "not a PNG, JPEG or WebP"),
    (b"", "logo.png", "Choose an image file"),
    (PNG + b"\x00" * (1024 * 1024), "big.png", "the limit is 1 MiB"),
])
def test_bad_logos_are_refused_before_the_rpc(client, logo_rpc, data, name, message):
    response = _upload(client, data, name)
    assert response.status_code == 422
    assert message in response.text
    assert 'id="logo-err"' in response.text
    assert "set_logo" not in logo_rpc.methods()


def test_logo_is_served_with_its_type_and_long_cache(client, rpc):
    rpc.on("get_logo", {"content_type": "image/png", "data": base64.b64encode(PNG).decode(), "version": 3})
    response = client.get("/companies/7/logo?v=3")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert "max-age=31536000" in response.headers["Cache-Control"] and "immutable" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == PNG


def test_logo_of_another_type_is_never_served(client, rpc):
    rpc.on("get_logo", {"content_type": "text/html", "data": base64.b64encode(HTML).decode(), "version": 3})
    assert client.get("/companies/7/logo?v=3").status_code == 404


def test_logo_shows_on_card_and_list(client, rpc):
    assert 'src="/companies/7/logo?v=3"' in client.get("/companies/7").text
    from gateway_fakes import list_item, list_result
    rpc.on("list_companies", lambda q: list_result(q, items=[list_item(logo_version=5)]))
    assert 'src="/companies/7/logo?v=5&amp;size=list"' in client.get("/companies", headers=HX).text  # the small copy


# -- escaping ---------------------------------------------------------------------------------------------
EVIL = "<script>alert(1)</script>"


def test_company_name_is_escaped_on_card_and_list(client, rpc):
    rpc.on("get_company", lambda cid: company(id=cid, name=EVIL, tags=[EVIL], website="javascript:alert(1)"))
    from gateway_fakes import list_item, list_result
    rpc.on("list_companies", lambda q: list_result(q, items=[list_item(name=EVIL)]))
    for body in (client.get("/companies/7").text, client.get("/companies?q=%3Cscript%3E").text,
                 client.get("/companies/7/general/edit", headers=HX).text):
        assert EVIL not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'href="javascript:' not in client.get("/companies/7").text


def test_every_error_of_the_general_box_comes_back_at_once(client, rpc):
    """Issue 13: the box's own errors (e-mail, web address, employees) and the crm's (organisation
    number, phone) in one answer; nothing is saved."""
    from test_new_company import _errors_of

    rpc.on("check_company", _errors_of([("org_number", "Not a valid Norwegian organisation number."),
                                        ("phone", "Enter a phone number with its country code, like +47 22 33 44 55.")]))
    response = client.put("/companies/7/general", headers=HX, data={
        "name": "Fjord", "org_number": "123", "country": "NO", "relationship": "customer", "phone": "12",
        "email": "nope", "website": "not a site", "employees": "many"})
    assert response.status_code == 422
    for field in ("org_number", "phone", "email", "website", "employees"):
        assert f'id="gen-{field}-err"' in response.text, field
    sent, partial = rpc.last("check_company").args
    assert partial is True and sent["org_number"] == "123" and "email" not in sent
    assert "update_company" not in rpc.methods()
