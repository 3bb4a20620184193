"""The company card: create with everything, update each box, history,
logo, tags and attributes, over real RabbitMQ on SQLite and PostgreSQL."""
import base64

from conftest import remote_error

def _image(fmt: str, size=(64, 32)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (20, 90, 160)).save(out, fmt)
    return out.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")


def test_create_company_with_owners_addresses_and_a_start_project(clients, world):
    rpc = clients["admin"]
    dept = rpc.create_department({"name": "Sarpsborg"})
    parent = rpc.create_company({"name": "Konsern Holding AS", "country": "NO"})
    created = rpc.create_company({
        "name": "Østfold Bygg AS", "country": "NO", "org_number": "976 030 788", "relationship": "customer",
        "legal_form": "AS", "industry_code": "41.200", "industry_text": "Oppføring av bygninger", "employees": 42,
        "website": "https://ostfoldbygg.no", "phone": "69 10 20 30", "email": "Post@OstfoldBygg.no",
        "parent_id": parent["id"], "owner_ids": [world["admin"], world["kari"]], "department_id": dept["id"],
        "addresses": {"visiting": {"street": "Storgata 1", "postcode": "1706", "city": "Sarpsborg",
                                   "region": "Østfold", "country": "NO"},
                      "postal": {"street": "Postboks 5", "postcode": "1701", "city": "Sarpsborg"}},
        "start_project": {"name": "Sommervikarer", "type": "staffing"},
    })
    assert created["org_number"] == "976030788" and created["phone"] == "+4769102030"
    assert created["city"] == "Sarpsborg" and created["region"] == "Østfold"
    assert {o["name"] for o in created["owners"]} == {"Anne Admin", "Kari User"}
    assert created["department"] == {"id": dept["id"], "name": "Sarpsborg"}
    assert created["parent"] == {"id": parent["id"], "name": "Konsern Holding AS"}
    assert created["addresses"]["postal"]["street"] == "Postboks 5"
    assert created["addresses"]["billing"] == {"street": None, "postcode": None, "city": None, "region": None,
                                               "country": None}
    assert created["counts"] == {"active_projects": 0, "unresolved_tasks": 0, "unsigned_agreements": 0,
                                 "invoiced_this_year": "0.00"}
    assert created["currency"] == "NOK" and created["invoice"]["type"] == "email_pdf"
    assert [p["status"] for p in rpc.list_projects(created["id"])] == ["request"]
    assert rpc.get_company(parent["id"])["children"] == [{"id": created["id"], "name": "Østfold Bygg AS",
                                                         "city": "Sarpsborg"}]
    assert rpc.get_company(created["id"]) == created
    history = rpc.company_history(created["id"])
    assert {(h["entity"], h["field"]) for h in history} >= {("company", "created"), ("project", "created"),
                                                           ("company", "owners"), ("address", "visiting.street")}
    err = remote_error(rpc.create_company, {"name": "X AS", "country": "NO", "phone": "123"})
    assert err.exc_type == "ValidationError" and "phone" in str(err)
    err = remote_error(rpc.create_company, {"name": "X AS", "owner_ids": [world["b_admin"]]})
    assert "owner_ids" in str(err)


def test_update_company_validates_per_country_and_keeps_field_history(clients, world):
    rpc = clients["admin"]
    company = rpc.create_company({"name": "Gammelt Navn AS", "country": "NO", "org_number": "976030788"})
    cid = company["id"]
    updated = rpc.update_company(cid, {"name": "Nytt Navn AS", "employees": 12, "email": "hei@nytt.no",
                                       "relationship": "customer", "owner_ids": [world["kari"]]})
    assert updated["name"] == "Nytt Navn AS" and updated["owners"] == [{"id": world["kari"], "name": "Kari User"}]
    assert rpc.list_companies({"q": "nytt navn"})["total"] == 1
    assert rpc.list_companies({"q": "gammelt"})["total"] == 0
    for changes, field in (({"org_number": "123456789"}, "org_number"), ({"country": "SE"}, "org_number"),
                           ({"phone": "12"}, "phone"), ({"email": "not-an-email"}, "email"),
                           ({"parent_id": cid}, "parent_id"), ({"department_id": 99999}, "department_id"),
                           ({"owner_ids": [world["b_admin"]]}, "owner_ids"), ({"name": ""}, "name"),
                           ({"relationship": "friend"}, "relationship"), ({"employees": -1}, "employees")):
        err = remote_error(rpc.update_company, cid, changes)
        assert err.exc_type == "ValidationError" and field in str(err), changes
    moved = rpc.update_company(cid, {"country": "SE", "org_number": "556036-0793"})
    assert moved["country"] == "SE" and moved["org_number"] == "5560360793"
    other = rpc.create_company({"name": "Annen AS", "country": "NO", "org_number": "923609016"})
    err = remote_error(rpc.update_company, other["id"], {"country": "SE", "org_number": "5560360793"})
    assert "org_number" in str(err) and "already exists" in str(err)
    history = rpc.company_history(cid)
    changes = {(h["field"], h["old"], h["new"]) for h in history}
    assert ("name", "Gammelt Navn AS", "Nytt Navn AS") in changes
    assert ("employees", None, "12") in changes and ("country", "NO", "SE") in changes
    assert ("owners", None, "Kari User") in changes
    assert all(h["user"] == {"id": world["admin"], "name": "Anne Admin"} for h in history)
    timeline = rpc.company_timeline(cid, {"limit": 50})
    assert any(t["kind"] == "change" and "name" in t["title"] for t in timeline)
    assert [t["at"] for t in timeline] == sorted((t["at"] for t in timeline), reverse=True)


def test_invoice_settings_and_addresses(clients):
    rpc = clients["admin"]
    cid = rpc.create_company({"name": "Adresse AS", "country": "NO"})["id"]
    err = remote_error(rpc.update_invoice_settings, cid, {"type": "email_link", "email": None, "credit_days": 10})
    assert err.exc_type == "ValidationError" and "email" in str(err)
    err = remote_error(rpc.update_invoice_settings, cid, {"type": "paper", "credit_days": 400})
    assert "credit_days" in str(err)
    card = rpc.update_invoice_settings(cid, {"type": "email_link", "email": "faktura@adresse.no", "credit_days": 30})
    assert card["invoice"] == {"type": "email_link", "email": "faktura@adresse.no", "credit_days": 30}
    card = rpc.update_addresses(cid, {"visiting": {"street": "Kongens gate 2", "postcode": "0153", "city": "Oslo",
                                                  "region": "Oslo", "country": "NO"},
                                     "postal": {"street": "Postboks 1", "postcode": "0101", "city": "Oslo"}})
    assert card["city"] == "Oslo" and card["addresses"]["visiting"]["street"] == "Kongens gate 2"
    card = rpc.copy_address(cid, {"from": "postal", "to": "billing"})
    assert card["addresses"]["billing"] == card["addresses"]["postal"]
    assert "to" in str(remote_error(rpc.copy_address, cid, {"from": "postal", "to": "postal"}))
    assert "from" in str(remote_error(rpc.copy_address, cid, {"from": "billing", "to": "postal"}))
    fields = {(h["entity"], h["field"]) for h in rpc.company_history(cid)}
    assert {("invoice_settings", "type"), ("invoice_settings", "credit_days"), ("address", "billing.street"),
            ("address", "visiting.city")} <= fields
    assert rpc.list_companies({"city": ["Oslo"], "q": "adresse"})["total"] == 1


def test_logo_tags_and_attributes(clients):
    rpc, kari = clients["admin"], clients["kari"]
    cid = rpc.create_company({"name": "Logo AS", "country": "NO"})["id"]
    assert rpc.set_logo(cid, {"content_type": "image/png", "data": base64.b64encode(PNG).decode()}) == {"logo_version": 1}
    logo = rpc.get_logo(cid)
    assert logo["content_type"] == "image/png" and base64.b64decode(logo["data"]).startswith(b"\x89PNG") and logo["version"] == 1
    assert rpc.set_logo(cid, {"content_type": "image/jpeg", "data": base64.b64encode(JPEG).decode()})["logo_version"] == 2
    for logo_in, field in (({"content_type": "image/png", "data": base64.b64encode(JPEG).decode()}, "content_type"),
                           ({"content_type": "image/svg+xml", "data": base64.b64encode(b"<svg/>").decode()}, "content_type"),
                           ({"content_type": "image/png", "data": base64.b64encode(b"GIF89a...").decode()}, "data"),
                           ({"content_type": "image/png", "data": "@@not base64@@"}, "data"),
                           ({"content_type": "image/png",
                             "data": base64.b64encode(PNG + b"\x00" * (1024 * 1024)).decode()}, "data")):
        err = remote_error(rpc.set_logo, cid, logo_in)
        assert err.exc_type == "ValidationError" and field in str(err), logo_in["content_type"]
    assert rpc.list_companies({"q": "logo"})["items"][0]["logo_version"] == 2
    assert rpc.delete_logo(cid) == {"logo_version": None}
    assert remote_error(rpc.get_logo, cid).exc_type == "NotFound"

    card = rpc.set_tags(cid, ["Nøkkelkunde", " Ny   kunde ", "nøkkelkunde"])
    assert sorted(card["tags"]) == ["Ny kunde", "Nøkkelkunde"]
    assert "Ny kunde" in rpc.list_tags({"prefix": "ny", "limit": 10})
    assert rpc.set_tags(cid, [])["tags"] == []
    assert "tags" in str(remote_error(rpc.set_tags, cid, ["x" * 51]))

    assert remote_error(kari.create_attribute, {"name": "Nope", "type": "bool"}).exc_type == "Forbidden"
    err = remote_error(rpc.create_attribute, {"name": "Segment2", "type": "dropdown", "options": []})
    assert "options" in str(err)
    seg = rpc.create_attribute({"name": "Segment2", "type": "dropdown", "options": ["Privat", "Offentlig"]})
    multi = rpc.create_attribute({"name": "Tjenester2", "type": "multi", "options": ["Bemanning", "Rekruttering"]})
    flag = rpc.create_attribute({"name": "Flagg", "type": "bool"})
    note = rpc.create_attribute({"name": "Notat", "type": "text"})
    assert "name" in str(remote_error(rpc.create_attribute, {"name": "Flagg", "type": "bool"}))
    assert {a["name"] for a in rpc.list_attributes()} >= {"Segment2", "Tjenester2", "Flagg", "Notat"}
    rpc.set_attribute_value(cid, seg["id"], "Offentlig")
    rpc.set_attribute_value(cid, multi["id"], ["Rekruttering", "Bemanning"])
    rpc.set_attribute_value(cid, flag["id"], True)
    card = rpc.set_attribute_value(cid, note["id"], "Ring før jul")
    values = {a["name"]: a["value"] for a in card["attributes"]}
    assert values["Segment2"] == "Offentlig" and values["Tjenester2"] == ["Bemanning", "Rekruttering"]
    assert values["Flagg"] is True and values["Notat"] == "Ring før jul"
    for attr, bad in ((seg, "Ukjent"), (multi, ["Bemanning", "Nope"]), (flag, "yes"), (note, 5)):
        err = remote_error(rpc.set_attribute_value, cid, attr["id"], bad)
        assert err.exc_type == "ValidationError" and "value" in str(err)
    assert rpc.list_companies({"attr": {str(seg["id"]): ["Offentlig"]}})["total"] == 1
    assert rpc.list_companies({"attr": {str(multi["id"]): ["Rekruttering"]}, "q": "logo"})["total"] == 1
    assert rpc.list_companies({"attr": {str(flag["id"]): True}})["total"] == 1
    card = rpc.set_attribute_value(cid, flag["id"], None)
    assert {a["name"]: a["value"] for a in card["attributes"]}["Flagg"] is None
    fields = {(h["entity"], h["field"]) for h in rpc.company_history(cid)}
    assert {("company", "logo"), ("company", "tags"), ("attribute", "Segment2"), ("attribute", "Flagg")} <= fields
