"""Contacts, projects, agreements, tasks, meetings and activities: happy
paths, exact counters, typed errors and tenant isolation, over real RabbitMQ
on SQLite and PostgreSQL."""
from conftest import remote_error


def counts(rpc, cid):
    card = rpc.get_company(cid)["counts"]
    item = next(c for c in rpc.list_companies({"q": rpc.get_company(cid)["name"], "per_page": 200})["items"]
                if c["id"] == cid)
    assert {k: item[k] for k in ("active_projects", "unresolved_tasks", "unsigned_agreements")} == {
        k: card[k] for k in ("active_projects", "unresolved_tasks", "unsigned_agreements")}
    return card


def test_contacts(clients):
    rpc = clients["admin"]
    cid = rpc.create_company({"name": "Kontakt AB", "country": "SE"})["id"]
    contact = rpc.create_contact({"company_id": cid, "first_name": "Anna", "last_name": "Lind", "title": "HR-chef",
                                  "email": "anna.lind@kontakt.se", "phone": "070-123 45 67", "notes": "Föredrar mejl"})
    assert contact["phone"] == "+46701234567" and contact["name"] == "Anna Lind" and contact["active"]
    for bad, field in (({"email": "anna@"}, "email"), ({"phone": "99"}, "phone"), ({"first_name": ""}, "first_name")):
        err = remote_error(rpc.create_contact, {"company_id": cid, "first_name": "A", **bad})
        assert err.exc_type == "ValidationError" and field in str(err), bad
    updated = rpc.update_contact(contact["id"], {"title": "HR-direktör", "phone": "+47 912 34 567"})
    assert updated["title"] == "HR-direktör" and updated["phone"] == "+4791234567"
    assert "phone" in str(remote_error(rpc.update_contact, contact["id"], {"phone": "abc"}))
    assert rpc.set_contact_active(contact["id"], False)["active"] is False
    assert rpc.list_contacts(cid) == []
    assert [c["id"] for c in rpc.list_contacts(cid, {"include_inactive": True})] == [contact["id"]]
    assert "active" in str(remote_error(rpc.set_contact_active, contact["id"], "no"))
    history = {(h["entity"], h["field"], h["new"]) for h in rpc.company_history(cid)}
    assert ("contact", "title", "HR-direktör") in history and ("contact", "active", "false") in history


def test_counters_stay_exact_through_every_change(clients, world):
    rpc = clients["admin"]
    cid = rpc.create_company({"name": "Tellerverk AS", "country": "NO"})["id"]
    assert counts(rpc, cid)["active_projects"] == 0
    project = rpc.create_project({"company_id": cid, "name": "Lager", "type": "staffing", "status": "active",
                                  "start_date": "2026-01-01", "owner_id": world["kari"]})
    assert project["active"] and project["owner"] == {"id": world["kari"], "name": "Kari User"}
    urgent = rpc.create_project({"company_id": cid, "name": "Hast", "status": "active_urgent"})
    rpc.create_project({"company_id": cid, "name": "Forespørsel"})
    assert counts(rpc, cid)["active_projects"] == 2
    assert rpc.update_project(urgent["id"], {"status": "solved_ended"})["active"] is False
    assert counts(rpc, cid)["active_projects"] == 1
    assert "end_date" in str(remote_error(rpc.update_project, project["id"], {"end_date": "2025-01-01"}))
    assert "status" in str(remote_error(rpc.update_project, project["id"], {"status": "paused"}))

    task = rpc.create_task({"company_id": cid, "title": "Ring", "due_date": "2026-12-01", "priority": "high",
                            "assignee_id": world["kari"]})
    rpc.create_task({"company_id": cid, "title": "Send tilbud"})
    assert counts(rpc, cid)["unresolved_tasks"] == 2
    done = rpc.set_task_done(task["id"], True)
    assert done["done"] and done["done_at"]
    assert counts(rpc, cid)["unresolved_tasks"] == 1
    rpc.set_task_done(task["id"], True)  # twice is once
    assert counts(rpc, cid)["unresolved_tasks"] == 1
    assert rpc.set_task_done(task["id"], False)["done_at"] is None
    assert counts(rpc, cid)["unresolved_tasks"] == 2
    assert rpc.update_task(task["id"], {"title": "Ring igjen", "priority": "low"})["title"] == "Ring igjen"
    assert "priority" in str(remote_error(rpc.update_task, task["id"], {"priority": "urgent"}))
    assert "assignee_id" in str(remote_error(rpc.create_task, {"company_id": cid, "title": "x",
                                                               "assignee_id": world["b_admin"]}))

    agreement = rpc.create_agreement({"company_id": cid, "project_id": project["id"], "title": "Rammeavtale",
                                      "kind": "framework", "status": "draft", "valid_from": "2026-01-01",
                                      "valid_to": "2027-01-01"})
    rpc.create_agreement({"company_id": cid, "title": "Prisavtale", "kind": "price", "status": "sent"})
    assert counts(rpc, cid)["unsigned_agreements"] == 2
    signed = rpc.update_agreement(agreement["id"], {"status": "signed"})
    assert signed["signed_at"] and counts(rpc, cid)["unsigned_agreements"] == 1
    assert rpc.update_agreement(agreement["id"], {"status": "sent"})["signed_at"] is None
    assert counts(rpc, cid)["unsigned_agreements"] == 2
    assert "valid_to" in str(remote_error(rpc.update_agreement, agreement["id"], {"valid_to": "2020-01-01"}))
    other = rpc.create_company({"name": "Annet AS", "country": "NO"})["id"]
    assert "project_id" in str(remote_error(rpc.create_agreement, {"company_id": other, "title": "x",
                                                                    "project_id": project["id"]}))
    meeting = rpc.create_meeting({"company_id": cid, "title": "Statusmøte", "starts_at": "2026-12-02T10:00:00+01:00",
                                  "follow_up": {"title": "Send referat", "due_date": "2026-12-03"}})
    assert meeting["follow_up_task_id"]
    assert counts(rpc, cid) == {"active_projects": 1, "unresolved_tasks": 3, "unsigned_agreements": 2,
                                "invoiced_this_year": "0.00"}
    history = {(h["entity"], h["field"]) for h in rpc.company_history(cid)}
    assert {("project", "status"), ("task", "done"), ("agreement", "status"), ("task", "title"),
            ("meeting", "created")} <= history


def test_meetings_calendar_file_and_activities(clients, world):
    rpc = clients["admin"]
    cid = rpc.create_company({"name": "Møte AS", "country": "NO"})["id"]
    contact = rpc.create_contact({"company_id": cid, "first_name": "Per", "last_name": "Dahl",
                                  "email": "per@mote.no"})
    meeting = rpc.create_meeting({"company_id": cid, "title": "Salgsmøte; runde 2, vår", "place": "Kontoret",
                                  "starts_at": "2026-12-02T09:00:00+01:00", "duration_minutes": 90,
                                  "user_ids": [world["admin"], world["kari"]], "contact_ids": [contact["id"]],
                                  "notes": "Ta med prisliste"})
    assert meeting["starts_at"] == "2026-12-02T08:00:00+00:00"
    assert {u["name"] for u in meeting["users"]} == {"Anne Admin", "Kari User"}
    assert meeting["contacts"] == [{"id": contact["id"], "name": "Per Dahl"}]
    assert rpc.list_meetings(cid) == [meeting]
    ics = rpc.get_meeting_ics(meeting["id"])
    assert ics["filename"].endswith(".ics")
    text = ics["content"]
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    unfolded = text.replace("\r\n ", "")
    assert "DTSTART:20261202T080000Z" in unfolded and "DTEND:20261202T093000Z" in unfolded
    assert "SUMMARY:Salgsmøte\\; runde 2\\, vår" in unfolded
    assert "mailto:per@mote.no" in unfolded and "mailto:kari@example.com" in unfolded
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    for bad, field in (({"user_ids": [world["b_admin"]]}, "user_ids"), ({"contact_ids": [999999]}, "contact_ids"),
                       ({"starts_at": "tomorrow"}, "starts_at"), ({"duration_minutes": 0}, "duration_minutes")):
        err = remote_error(rpc.create_meeting, {"company_id": cid, "title": "x", "starts_at": "2026-12-02T09:00:00Z",
                                                **bad})
        assert err.exc_type == "ValidationError" and field in str(err), bad

    call = rpc.log_activity({"company_id": cid, "kind": "call", "contact_id": contact["id"], "text": "Interessert"})
    assert call["user"] == {"id": world["admin"], "name": "Anne Admin"} and call["contact"]["name"] == "Per Dahl"
    rpc.log_activity({"company_id": cid, "kind": "visit", "at": "2026-01-05T12:00:00Z", "user_id": world["kari"]})
    assert [a["kind"] for a in rpc.list_activities(cid)] == ["call", "visit"]
    assert len(rpc.list_activities(cid, {"limit": 1})) == 1
    assert "kind" in str(remote_error(rpc.log_activity, {"company_id": cid, "kind": "party"}))
    kinds = {t["kind"] for t in rpc.company_timeline(cid)}
    assert {"meeting", "activity", "contact"} <= kinds
    older = rpc.company_timeline(cid, {"limit": 50, "before": "2026-06-01T00:00:00Z"})
    assert [t["kind"] for t in older] == ["activity"] and older[0]["title"] == "Visit"


def test_meetings_and_activities_are_edited_after_creation(clients, world):
    """issue 13: update_meeting / update_activity change only the fields given and log each change."""
    rpc = clients["admin"]
    cid = rpc.create_company({"name": "Rediger AS", "country": "NO"})["id"]
    per = rpc.create_contact({"company_id": cid, "first_name": "Per", "last_name": "Dahl"})
    eva = rpc.create_contact({"company_id": cid, "first_name": "Eva", "last_name": "Lie"})
    meeting = rpc.create_meeting({"company_id": cid, "title": "Statusmøte", "starts_at": "2026-12-02T09:00:00+01:00",
                                  "duration_minutes": 60, "place": "Kontoret", "notes": "Prisliste",
                                  "user_ids": [world["admin"]], "contact_ids": [per["id"]]})
    same = rpc.update_meeting(meeting["id"], {"title": "Statusmøte 2"})
    assert same["title"] == "Statusmøte 2"
    assert {k: v for k, v in same.items() if k != "title"} == {k: v for k, v in meeting.items() if k != "title"}
    changed = rpc.update_meeting(meeting["id"], {"starts_at": "2026-12-03T10:30:00+01:00", "duration_minutes": 45,
                                                 "place": None, "notes": "Ny agenda", "user_ids": [world["kari"]],
                                                 "contact_ids": [eva["id"], per["id"]]})
    assert changed["starts_at"] == "2026-12-03T09:30:00+00:00" and changed["duration_minutes"] == 45
    assert changed["place"] is None and changed["notes"] == "Ny agenda" and changed["title"] == "Statusmøte 2"
    assert [u["name"] for u in changed["users"]] == ["Kari User"]
    assert [c["name"] for c in changed["contacts"]] == ["Eva Lie", "Per Dahl"]
    assert rpc.list_meetings(cid) == [changed]
    history = {(h["entity"], h["field"]): h for h in rpc.company_history(cid)}
    assert history[("meeting", "title")]["new"] == "Statusmøte 2"
    assert history[("meeting", "users")]["old"] == "Anne Admin" and history[("meeting", "users")]["new"] == "Kari User"
    assert history[("meeting", "contacts")]["new"] == "Eva Lie, Per Dahl"
    assert ("meeting", "duration_minutes") in history and ("meeting", "place") in history
    for bad, field in (({"title": ""}, "title"), ({"title": None}, "title"), ({"duration_minutes": 1}, "duration_minutes"),
                       ({"user_ids": [world["b_admin"]]}, "user_ids"), ({"contact_ids": [999999]}, "contact_ids"),
                       ({"starts_at": "soon"}, "starts_at"), ({"company_id": 1}, "company_id")):
        err = remote_error(rpc.update_meeting, meeting["id"], bad)
        assert err.exc_type == "ValidationError" and field in str(err), bad
    assert rpc.list_meetings(cid) == [changed]

    call = rpc.log_activity({"company_id": cid, "kind": "call", "contact_id": per["id"], "text": "Interessert",
                             "at": "2026-03-01T10:00:00Z"})
    edited = rpc.update_activity(call["id"], {"text": "Svært interessert"})
    assert edited == {**call, "text": "Svært interessert"}
    edited = rpc.update_activity(call["id"], {"kind": "visit", "at": "2026-03-02T11:00:00Z", "contact_id": eva["id"],
                                              "user_id": world["kari"]})
    assert edited["kind"] == "visit" and edited["at"] == "2026-03-02T11:00:00+00:00"
    assert edited["contact"]["name"] == "Eva Lie" and edited["user"]["name"] == "Kari User"
    assert edited["text"] == "Svært interessert"
    assert rpc.list_activities(cid) == [edited]
    assert {("activity", "text"), ("activity", "kind")} <= {(h["entity"], h["field"]) for h in rpc.company_history(cid)}
    for bad, field in (({"kind": "party"}, "kind"), ({"kind": None}, "kind"), ({"contact_id": 999999}, "contact_id"),
                       ({"user_id": world["b_admin"]}, "user_id"), ({"company_id": 1}, "company_id")):
        err = remote_error(rpc.update_activity, call["id"], bad)
        assert err.exc_type == "ValidationError" and field in str(err), bad
    b = clients["b"]
    assert remote_error(b.update_meeting, meeting["id"], {"title": "x"}).exc_type == "NotFound"
    assert remote_error(b.update_activity, call["id"], {"text": "x"}).exc_type == "NotFound"
    assert rpc.list_activities(cid) == [edited]


def test_another_tenant_can_neither_read_nor_change_any_record(clients, world):
    a, b = clients["admin"], clients["b"]
    cid = a.create_company({"name": "Hemmelig AS", "country": "NO"})["id"]
    contact = a.create_contact({"company_id": cid, "first_name": "Hemmelig"})
    project = a.create_project({"company_id": cid, "name": "P"})
    agreement = a.create_agreement({"company_id": cid, "title": "A"})
    task = a.create_task({"company_id": cid, "title": "T"})
    meeting = a.create_meeting({"company_id": cid, "title": "M", "starts_at": "2026-12-01T10:00:00Z"})
    invoice = a.record_invoice({"invoice_number": "H-1", "company_id": cid, "issued_on": "2026-02-01",
                                "amount": "100.00", "currency": "NOK"})
    attr = a.create_attribute({"name": "Hemmelig", "type": "bool"})
    view = a.save_view({"name": "Hemmelig", "query": "", "shared": True})
    not_found = [
        (b.get_company, cid), (b.update_company, cid, {"name": "Hacked"}), (b.company_history, cid),
        (b.company_timeline, cid), (b.update_invoice_settings, cid, {"type": "paper"}),
        (b.update_addresses, cid, {"visiting": {"city": "X"}}), (b.copy_address, cid, {"from": "postal", "to": "billing"}),
        (b.set_tags, cid, ["x"]), (b.set_attribute_value, cid, attr["id"], True), (b.get_logo, cid),
        (b.delete_logo, cid), (b.list_contacts, cid), (b.update_contact, contact["id"], {"title": "x"}),
        (b.set_contact_active, contact["id"], False), (b.list_projects, cid), (b.update_project, project["id"], {"name": "x"}),
        (b.list_agreements, cid), (b.update_agreement, agreement["id"], {"status": "signed"}), (b.list_tasks, cid),
        (b.update_task, task["id"], {"title": "x"}), (b.set_task_done, task["id"], True), (b.list_meetings, cid),
        (b.get_meeting_ics, meeting["id"]), (b.list_activities, cid), (b.list_invoices, cid),
        (b.create_contact, {"company_id": cid, "first_name": "X"}), (b.create_project, {"company_id": cid, "name": "X"}),
        (b.create_agreement, {"company_id": cid, "title": "X"}), (b.create_task, {"company_id": cid, "title": "X"}),
        (b.create_meeting, {"company_id": cid, "title": "X", "starts_at": "2026-12-01T10:00:00Z"}),
        (b.log_activity, {"company_id": cid, "kind": "call"}),
        (b.record_invoice, {"invoice_number": "H-2", "company_id": cid, "issued_on": "2026-02-01", "amount": "1.00",
                            "currency": "SEK"}),
        (b.credit_invoice, {"invoice_number": "H-1", "credit_note_number": "K-1", "issued_on": "2026-02-02"}),
        (b.delete_view, view["id"]),
    ]
    for call, *args in not_found:
        err = remote_error(call, *args)
        assert err.exc_type == "NotFound", (call, err.exc_type)
    assert remote_error(b.set_attribute_value, cid, attr["id"], True).exc_type == "NotFound"
    assert b.list_companies({"q": "hemmelig"})["total"] == 0
    assert b.list_attributes() and "Hemmelig" not in {x["name"] for x in b.list_attributes()}
    assert b.list_views() == []
    assert "Hemmelig" not in b.list_tags({"prefix": ""})
    # nothing changed on A's side
    assert a.get_company(cid)["name"] == "Hemmelig AS"
    assert a.list_tasks(cid)[0]["done"] is False and a.list_invoices(cid)[0]["id"] == invoice["id"]
