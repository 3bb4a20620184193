"""Every page and fragment renders (catches template errors early)."""
import pytest

from gateway_fakes import HX


@pytest.fixture(autouse=True)
def records(rpc):
    rpc.on("list_contacts", lambda cid, opts: [{"id": 11, "company_id": cid, "first_name": "Kari", "last_name": "Nord",
                                                "name": "Kari Nord", "title": "HR", "email": "kari@x.no", "phone": "+4790000000",
                                                "notes": "n", "active": True}])
    rpc.on("list_projects", lambda cid: [{"id": 21, "company_id": cid, "name": "Spring", "type": "staffing", "status": "active",
                                          "start_date": "2026-03-01", "end_date": None, "owner": {"id": 1, "name": "Ada Admin"}, "active": True}])
    rpc.on("list_agreements", lambda cid: [
        {"id": 31, "company_id": cid, "project_id": 21, "title": "Price list", "kind": "price", "status": "draft", "valid_from": None, "valid_to": None, "signed_at": None},
        {"id": 32, "company_id": cid, "project_id": None, "title": "Cooperation", "kind": "cooperation", "status": "signed", "valid_from": "2026-01-01", "valid_to": None, "signed_at": "2026-01-02T10:00:00+00:00"}])
    rpc.on("list_tasks", lambda cid, opts: [{"id": 41, "company_id": cid, "title": "Call back", "due_date": "2026-04-01",
                                             "assignee": {"id": 1, "name": "Ada Admin"}, "priority": "high", "contact_id": 11, "done": False, "done_at": None}])
    rpc.on("list_meetings", lambda cid: [{"id": 51, "company_id": cid, "title": "Sales meeting", "starts_at": "2026-04-02T09:00:00+02:00",
                                          "duration_minutes": 90, "place": "Their office", "users": [{"id": 1, "name": "Ada Admin"}],
                                          "contacts": [{"id": 11, "name": "Kari Nord"}], "notes": None, "follow_up_task_id": 41}])
    rpc.on("list_activities", lambda cid, opts: [{"id": 61, "company_id": cid, "kind": "call", "at": "2026-03-01T10:00:00+00:00",
                                                  "user": {"id": 1, "name": "Ada Admin"}, "contact": {"id": 11, "name": "Kari Nord"}, "text": "Talked"}])
    rpc.on("list_invoices", lambda cid: [{"id": 71, "invoice_number": "1001", "kind": "invoice", "issued_on": "2026-02-01",
                                          "due_on": "2026-03-01", "amount": "125000.00", "currency": "NOK", "credited_invoice_number": None}])
    rpc.on("company_history", lambda cid: [{"at": "2026-03-01T10:00:00+00:00", "user": {"id": 1, "name": "Ada Admin"},
                                            "entity": "company", "entity_id": cid, "field": "city", "old": "Bergen", "new": "Oslo"}])
    rpc.on("list_tags", lambda opts: ["vip", "viking"])


PAGES = [
    "/companies", "/companies?relationship=customer&owner=mine&attr.3=Gold&stars.2=3&flag.1=yes&page=2&sort=-active_projects",
    "/companies/new", "/companies/7",
] + [f"/companies/7?tab={t}" for t in ("timeline", "contacts", "projects", "tasks", "meetings", "activities", "invoices", "history")]

FRAGMENTS = PAGES + [
    "/companies/7/head", "/companies/7/general/edit", "/companies/7/ownership/edit", "/companies/7/invoice/edit",
    "/companies/7/addresses/edit", "/companies/7/tags/edit", "/companies/7/attributes/edit", "/companies/7/general",
    "/companies/7/logo/box", "/companies/7/contacts/new", "/companies/7/contacts/new?closed=1", "/companies/7/contacts/11/edit",
    "/companies/7/contacts/11", "/companies/7/projects/new", "/companies/7/projects/21/edit", "/companies/7/projects/21",
    "/companies/7/agreements/new?project_id=21", "/companies/7/agreements/31/edit", "/companies/7/agreements/31",
    "/companies/7/tasks/new", "/companies/7/tasks/41/edit", "/companies/7/tasks/41", "/companies/7/meetings/new",
    "/companies/7/activities/new?kind=visit", "/companies/7/activities/new?closed=1",
    "/companies/7/timeline?before=2026-03-01T10:00:00%2B00:00", "/companies/tags?new_tags=vip,%20vi",
    "/companies/picker?parent_q=fj&exclude=7",
]


@pytest.mark.parametrize("url", PAGES)
def test_full_pages_render(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.text[:2000]
    assert "<!doctype html>" in response.text


@pytest.mark.parametrize("url", FRAGMENTS)
def test_fragments_render(client, url):
    response = client.get(url, headers=HX)
    assert response.status_code == 200, response.text[:2000]
    assert "<!doctype html>" not in response.text
