"""Records on the card: create/edit in place, 422 inline, counts refresh, .ics download."""
import pytest

from gateway_fakes import HX, validation_error

CONTACT = {"id": 11, "company_id": 7, "first_name": "Kari", "last_name": "Nord", "name": "Kari Nord", "title": "HR",
           "email": "kari@x.no", "phone": "+4790000000", "notes": None, "active": True}
TASK = {"id": 41, "company_id": 7, "title": "Call back", "due_date": "2026-04-01", "assignee": {"id": 1, "name": "Ada Admin"},
        "priority": "normal", "contact_id": None, "done": False, "done_at": None}


@pytest.fixture(autouse=True)
def lists(rpc):
    rpc.on("list_contacts", lambda cid, opts: [CONTACT])
    rpc.on("list_tasks", lambda cid, opts: [TASK])
    rpc.on("list_projects", lambda cid: [])
    rpc.on("list_agreements", lambda cid: [])
    rpc.on("list_meetings", lambda cid: [])
    rpc.on("list_activities", lambda cid, opts: [])


def test_creating_a_contact_rerenders_the_tab_and_refreshes_counts(client, rpc):
    rpc.on("create_contact", lambda data: {**CONTACT, **data, "id": 12})
    response = client.post("/companies/7/contacts", headers=HX, data={
        "first_name": "Ola", "last_name": "Nordmann", "email": "ola@x.no", "phone": "+47 900 00 000"})
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#records" and response.headers["HX-Reswap"] == "outerHTML"
    assert response.headers["HX-Trigger"] == "countsChanged"
    assert rpc.last("create_contact").args[0] == {"company_id": 7, "first_name": "Ola", "last_name": "Nordmann",
                                                  "title": None, "email": "ola@x.no", "phone": "+47 900 00 000", "notes": None}


def test_contact_errors_are_inline_and_keep_input(client, rpc):
    response = client.post("/companies/7/contacts", headers=HX, data={"first_name": "Ola", "email": "not-an-email"})
    assert response.status_code == 422
    body = response.text
    assert body.lstrip().startswith('<div id="contact-new"')
    assert 'id="contact-new-last_name-err">Last name is required.<' in body
    assert "Enter a valid e-mail address" in body and 'value="not-an-email"' in body and 'value="Ola"' in body
    assert "create_contact" not in rpc.methods()


def test_service_phone_error_lands_on_the_phone_field(client, rpc):
    rpc.on("update_contact", validation_error("phone", "Not a valid phone number for NO"))
    response = client.put("/companies/7/contacts/11", headers=HX, data={"first_name": "Kari", "last_name": "Nord", "phone": "12"})
    assert response.status_code == 422
    assert 'id="contact-11-phone-err">Not a valid phone number for NO<' in response.text


def test_contact_edit_and_deactivate_in_place(client, rpc):
    body = client.get("/companies/7/contacts/11/edit", headers=HX).text
    assert body.lstrip().startswith('<div id="contact-11"') and 'hx-put="/companies/7/contacts/11"' in body
    rpc.on("set_contact_active", lambda cid, active: {**CONTACT, "active": active})
    response = client.post("/companies/7/contacts/11/active", headers=HX, data={"active": "0"})
    assert rpc.last("set_contact_active").args == [11, False]
    assert "Reactivate" in response.text and "Deactivated" in response.text


def test_task_done_checkbox(client, rpc):
    rpc.on("set_task_done", lambda tid, done: {**TASK, "done": done, "done_at": "2026-03-02T10:00:00+00:00"})
    response = client.post("/companies/7/tasks/41/done", headers=HX, data={"done": "1"})
    assert rpc.last("set_task_done").args == [41, True]
    assert response.headers["HX-Trigger"] == "countsChanged"
    assert 'name="done" value="1" checked' in response.text
    response = client.post("/companies/7/tasks/41/done", headers=HX, data={})
    assert rpc.last("set_task_done").args == [41, False]
    assert response.status_code == 200 and 'name="done" value="1" checked' not in response.text


def test_task_create_maps_fields(client, rpc):
    rpc.on("create_task", lambda data, idempotency_key=None: {**TASK, **data})
    rpc.on("list_tasks", lambda cid, opts: [{**TASK, "title": "Send offer"}])
    response = client.post("/companies/7/tasks", headers=HX, data={
        "title": "Send offer", "due_date": "2026-05-01", "assignee_id": "2", "priority": "high", "contact_id": "11",
        "idempotency_key": "form-key-0001"})
    assert rpc.last("create_task").args[0] == {"company_id": 7, "title": "Send offer", "due_date": "2026-05-01",
                                               "assignee_id": 2, "priority": "high", "contact_id": 11}
    assert rpc.last("create_task").kwargs == {"idempotency_key": "form-key-0001"}  # a retry never doubles
    # the whole tab comes back over #records, with the new task, and the counts refresh
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#records"
    assert response.headers["HX-Trigger"] == "countsChanged" and "Send offer" in response.text


def test_bad_due_date_is_inline(client, rpc):
    response = client.post("/companies/7/tasks", headers=HX, data={"title": "x", "due_date": "next week"})
    assert response.status_code == 422 and "Enter a date as 31/12/2026." in response.text


def test_meeting_booking_with_follow_up(client, rpc):
    rpc.on("create_meeting", lambda data: {"id": 51, **data})
    response = client.post("/companies/7/meetings", headers=HX, data={
        "title": "Sales meeting", "starts_at": "2026-06-01T09:30", "duration_minutes": "90", "place": "Office",
        "user_ids": ["1", "2"], "contact_ids": ["11"], "with_follow_up": "1",
        "follow_up.title": "Send offer", "follow_up.due_date": "2026-06-03", "follow_up.assignee_id": "1"})
    assert response.status_code == 200
    sent = rpc.last("create_meeting").args[0]
    assert sent["starts_at"] == "2026-06-01T09:30+02:00"  # entered in the tenant's time zone (Oslo, summer)
    assert sent["user_ids"] == [1, 2] and sent["contact_ids"] == [11] and sent["duration_minutes"] == 90
    assert sent["follow_up"] == {"title": "Send offer", "due_date": "2026-06-03", "assignee_id": 1}


def test_meeting_follow_up_needs_a_title(client, rpc):
    response = client.post("/companies/7/meetings", headers=HX, data={
        "title": "M", "starts_at": "2026-06-01T09:30", "duration_minutes": "60", "with_follow_up": "1"})
    assert response.status_code == 422
    assert "The follow-up&#39;s title is required." in response.text
    assert 'name="with_follow_up" value="1" data-reveals' in response.text and "checked" in response.text


def test_activity_log(client, rpc):
    rpc.on("log_activity", lambda data, idempotency_key=None: {"id": 61, **data})
    response = client.post("/companies/7/activities", headers=HX, data={
        "kind": "visit", "at": "2026-01-10T14:00", "user_id": "1", "contact_id": "11", "text": "Visited the site"})
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#records"
    assert rpc.last("log_activity").args[0] == {"company_id": 7, "kind": "visit", "at": "2026-01-10T14:00+01:00",
                                                "user_id": 1, "contact_id": 11, "text": "Visited the site"}


def test_agreement_quick_status(client, rpc):
    rpc.on("update_agreement", lambda aid, ch: {"id": aid, "company_id": 7, "project_id": None, "title": "Price",
                                                "kind": "price", "status": ch["status"], "valid_from": None,
                                                "valid_to": None, "signed_at": None})
    response = client.post("/companies/7/agreements/31/status", headers=HX, data={"status": "signed"})
    assert rpc.last("update_agreement").args == [31, {"status": "signed"}]
    assert response.headers["HX-Trigger"] == "countsChanged"


def test_ics_download_headers(client, rpc):
    rpc.on("get_meeting_ics", {"filename": "sales meeting\r\nX: y.ics", "content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"})
    response = client.get("/meetings/51.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="sales-meeting-X-y.ics"'
    assert response.text.startswith("BEGIN:VCALENDAR")


def test_counts_header_refreshes_on_its_own(client):
    body = client.get("/companies/7/head", headers=HX).text
    assert body.lstrip().startswith('<header id="card-head"')
    assert 'id="count-unresolved_tasks">3<' in body
    assert "NOK\u00a0125,000" in body
