"""export_rows / export_columns: a selection's rows for a report, paged by keyset,
typed values, contacts for the second sheet, tenant-scoped."""
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Attribute, Company, CompanyAttributeValue, Contact

from conftest import remote_error

DEFAULT = ["name", "org_number", "city", "country", "relationship", "owners", "active_projects", "unresolved_tasks",
           "unsigned_agreements", "invoiced_this_year"]


def test_pages_cover_the_selection_in_id_order_without_gaps_or_repeats(clients, world, engine):
    crm = clients["admin"]
    with Session(engine) as s:
        expected = list(s.scalars(select(Company.id).where(Company.tenant_id == world["a"]).order_by(Company.id)))
    seen, after, pages = [], 0, 0
    while True:
        page = crm.export_rows({"filter": {}}, DEFAULT, after, 5)
        pages += 1
        if after == 0:
            assert page["total"] == len(expected)
        else:
            assert "total" not in page
        seen += [r[0] for r in page["rows"]]
        if not page["more"]:
            break
        after = page["last_id"]
    assert seen == expected
    assert pages == -(-len(expected) // 5)
    assert [c["key"] for c in page["columns"]] == DEFAULT
    assert page["currency"] == "NOK"


def test_values_are_typed(clients, world, engine):
    crm = clients["admin"]
    with Session(engine) as s:
        c = s.scalars(select(Company).where(Company.tenant_id == world["a"]).order_by(Company.id)).first()
        c.name = '=HYPERLINK("http://x")'
        c.employees = 42
        s.add(Attribute(tenant_id=world["a"], name="Rating", type="stars", options="[]"))
        s.commit()
        attr_id = s.scalar(select(Attribute.id).where(Attribute.name == "Rating"))
        s.add(CompanyAttributeValue(company_id=c.id, attribute_id=attr_id, value="4", tenant_id=world["a"]))
        s.commit()
        cid = c.id
    crm.record_invoice({"invoice_number": "EXP-1", "company_id": cid, "issued_on": date.today().isoformat(),
                        "amount": "1234.50", "currency": "NOK"})
    cols = ["name", "employees", "invoiced_this_year", "created_at", "relationship", f"attr.{attr_id}", "active_projects"]
    page = crm.export_rows({"ids": [cid]}, cols)
    row = page["rows"][0]
    assert row[0] == cid
    assert row[1] == '=HYPERLINK("http://x")'  # raw text; the writer neutralises it
    assert row[2] == 42
    assert isinstance(row[3], int) and row[3] >= 123450
    assert date.fromisoformat(row[4])
    assert row[5] in ("Prospect", "Customer", "Suspect", "Supplier", "Partner", "Former customer")
    assert row[6] == 4
    assert isinstance(row[7], int)
    assert [c["type"] for c in page["columns"]] == ["text", "int", "money", "date", "text", "int", "int"]


def test_contacts_come_with_the_page_of_their_companies(clients, world, engine):
    crm = clients["admin"]
    page = crm.export_rows({"filter": {}}, ["name"], 0, 3, True)
    ids = {r[0] for r in page["rows"]}
    with Session(engine) as s:
        n = len(list(s.scalars(select(Contact.id).where(Contact.company_id.in_(ids), Contact.active.is_(True)))))
    assert len(page["contacts"]) == n
    assert all(c[0] in ids for c in page["contacts"])
    assert [c["key"] for c in page["contact_columns"]][:2] == ["company_id", "company"]


def test_other_tenants_companies_are_never_exported(clients, world, engine):
    with Session(engine) as s:
        b_ids = list(s.scalars(select(Company.id).where(Company.tenant_id == world["b"])))
    page = clients["admin"].export_rows({"ids": b_ids}, ["name"])
    assert page["rows"] == [] and page["total"] == 0
    page = clients["b"].export_rows({"filter": {}}, ["name"])
    assert sorted(r[0] for r in page["rows"]) == sorted(b_ids)
    assert page["currency"] == "SEK"


def test_filter_and_exclusions_match_the_overview(clients, world):
    crm = clients["admin"]
    listed = crm.list_companies({"relationship": ["customer"], "per_page": 200})
    page = crm.export_rows({"filter": {"relationship": ["customer"]}}, ["name"], 0, 5000)
    assert sorted(r[0] for r in page["rows"]) == sorted(i["id"] for i in listed["items"])
    if listed["items"]:
        skip = listed["items"][0]["id"]
        page = crm.export_rows({"filter": {"relationship": ["customer"]}, "exclude_ids": [skip]}, ["name"])
        assert skip not in {r[0] for r in page["rows"]}
        assert page["total"] == listed["total"] - 1


@pytest.mark.parametrize("args,field", [
    (({"filter": {}}, ["nope"]), "columns.0"),
    (({"filter": {}}, ["name", "attr.999999"]), "columns.1"),
    (({"filter": {}}, []), "columns"),
    (({"filter": {}}, ["name"], -1), "after_id"),
    (({"filter": {}}, ["name"], 0, 5001), "limit"),
    (({}, ["name"]), "selection"),
])
def test_bad_input_is_a_validation_error_naming_the_field(clients, args, field):
    err = remote_error(clients["admin"].export_rows, *args)
    assert err.exc_type == "ValidationError"
    assert field in err.value


def test_columns_catalogue_lists_defaults_and_attributes(clients, world, engine):
    with Session(engine) as s:
        s.add(Attribute(tenant_id=world["a"], name="Key account", type="bool", options="[]"))
        s.commit()
    cat = clients["admin"].export_columns()
    assert cat["default"] == DEFAULT
    keys = {c["key"]: c for c in cat["columns"]}
    assert keys["invoiced_this_year"]["type"] == "money" and keys["name"]["default"]
    assert keys["credit_band"]["type"] == "text" and keys["credit_score"]["type"] == "int"
    page = clients["admin"].export_rows({"filter": {}}, ["credit_band", "credit_score"], 0, 3)
    assert all(len(r) == 3 for r in page["rows"])
    assert any(c["title"] == "Key account" and c["type"] == "bool" for c in cat["columns"])
