"""record_invoice / credit_invoice / list_invoices: idempotency, Conflict,
credit notes and the invoiced totals, over real RabbitMQ on SQLite and PostgreSQL."""
from datetime import date

from conftest import remote_error

THIS_YEAR = date.today().year


def test_invoices_are_idempotent_conflict_on_other_details_and_feed_the_totals(clients):
    rpc = clients["admin"]
    company = rpc.create_company({"name": "Faktura AS", "country": "NO", "org_number": "976030788"})
    cid = company["id"]
    first = {"invoice_number": "F-100", "company_id": cid, "issued_on": f"{THIS_YEAR}-02-01",
             "due_on": f"{THIS_YEAR}-02-15", "amount": "12500.00", "currency": "NOK"}
    recorded = rpc.record_invoice(first)
    assert recorded["amount"] == "12500.00" and recorded["kind"] == "invoice"
    assert rpc.record_invoice(first) == recorded  # a redelivered message records nothing new
    err = remote_error(rpc.record_invoice, {**first, "amount": "12500.01"})
    assert err.exc_type == "Conflict"
    by_orgnr = rpc.record_invoice({"invoice_number": "F-101", "country": "NO", "org_number": "976 030 788",
                                   "issued_on": f"{THIS_YEAR}-03-01", "amount": 2500, "currency": "NOK"})
    assert by_orgnr["company_id"] == cid
    rpc.record_invoice({"invoice_number": "F-099", "company_id": cid, "issued_on": f"{THIS_YEAR - 1}-12-01",
                        "amount": "999.99", "currency": "NOK"})
    assert rpc.get_company(cid)["counts"]["invoiced_this_year"] == "15000.00"

    credit = {"invoice_number": "F-100", "credit_note_number": "K-1", "amount": "500.00",
              "issued_on": f"{THIS_YEAR}-02-10"}
    note = rpc.credit_invoice(credit)
    assert note["kind"] == "credit_note" and note["amount"] == "-500.00" and note["credited_invoice_number"] == "F-100"
    assert rpc.credit_invoice(credit) == note
    assert remote_error(rpc.credit_invoice, {**credit, "amount": "600.00"}).exc_type == "Conflict"
    assert rpc.get_company(cid)["counts"]["invoiced_this_year"] == "14500.00"
    rest = rpc.credit_invoice({"invoice_number": "F-100", "credit_note_number": "K-2",
                               "issued_on": f"{THIS_YEAR}-02-11"})  # defaults to what is left
    assert rest["amount"] == "-12000.00"
    err = remote_error(rpc.credit_invoice, {"invoice_number": "F-100", "credit_note_number": "K-3", "amount": "1.00",
                                            "issued_on": f"{THIS_YEAR}-02-12"})
    assert err.exc_type == "ValidationError" and "amount" in str(err)
    assert rpc.get_company(cid)["counts"]["invoiced_this_year"] == "2500.00"
    item = rpc.list_companies({"q": "faktura"})["items"][0]
    assert item["invoiced_this_year"] == "2500.00"

    listed = rpc.list_invoices(cid)
    assert [i["invoice_number"] for i in listed] == ["F-101", "K-2", "K-1", "F-100", "F-099"]
    assert set(listed[0]) == {"id", "company_id", "invoice_number", "kind", "issued_on", "due_on", "amount",
                              "currency", "credited_invoice_number"}

    for bad, field, kind in (({**first, "invoice_number": "F-200", "currency": "SEK"}, "currency", "ValidationError"),
                             ({**first, "invoice_number": "F-201", "amount": "-5"}, "amount", "ValidationError"),
                             ({**first, "invoice_number": "F-202", "amount": "1.005"}, "amount", "ValidationError"),
                             ({"invoice_number": "F-203", "issued_on": "2026-01-01", "amount": 1, "currency": "NOK"},
                              "company_id", "ValidationError"),
                             ({"invoice_number": "F-204", "country": "NO", "org_number": "123456789",
                               "issued_on": "2026-01-01", "amount": 1, "currency": "NOK"}, "org_number",
                              "ValidationError"),
                             ({"invoice_number": "F-205", "country": "NO", "org_number": "923609016",
                               "issued_on": "2026-01-01", "amount": 1, "currency": "NOK"}, "org_number", "NotFound")):
        err = remote_error(rpc.record_invoice, bad)
        assert err.exc_type == kind and (kind == "NotFound" or field in str(err)), bad
    assert remote_error(rpc.credit_invoice, {"invoice_number": "NOPE", "credit_note_number": "K-9",
                                             "issued_on": "2026-01-01"}).exc_type == "NotFound"
