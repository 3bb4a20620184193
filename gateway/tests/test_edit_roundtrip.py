"""Every edit form round-trips every field it does not change (issue 13: editing a project erased
its owner). Each record, as the crm sends it, is opened in its edit form; the form is posted back
untouched exactly as a browser would post it; the update must carry the record's own values."""
from __future__ import annotations

import html
import re

import pytest

from gateway_fakes import HX

USERS = [{"id": 1, "name": "Ada Admin", "active": True}, {"id": 2, "name": "Bo Berg", "active": True}]
CONTACT = {"id": 11, "company_id": 7, "first_name": "Kari", "last_name": "Nord", "name": "Kari Nord", "title": "HR",
           "email": "kari@x.no", "phone": "+4790000000", "notes": "Prefers mail", "active": True}
PROJECT = {"id": 21, "company_id": 7, "name": "Framework 2026", "type": "recruitment", "status": "active",
           "start_date": "2026-01-05", "end_date": "2026-12-31", "owner": {"id": 2, "name": "Bo Berg"}, "active": True}
AGREEMENT = {"id": 31, "company_id": 7, "project_id": 21, "title": "Price list", "kind": "price", "status": "sent",
             "valid_from": "2026-02-01", "valid_to": "2027-01-31", "signed_at": None}
TASK = {"id": 41, "company_id": 7, "title": "Call back", "due_date": "2026-04-01", "assignee": {"id": 2, "name": "Bo Berg"},
        "priority": "high", "contact_id": 11, "done": False, "done_at": None}
MEETING = {"id": 51, "company_id": 7, "title": "Status", "starts_at": "2026-12-02T08:00:00+00:00",
           "duration_minutes": 90, "place": "Their office", "users": [{"id": 2, "name": "Bo Berg"}],
           "contacts": [{"id": 11, "name": "Kari Nord"}], "notes": "Bring the price list", "follow_up_task_id": 41}
ACTIVITY = {"id": 61, "company_id": 7, "kind": "visit", "at": "2026-03-01T10:00:00+00:00",
            "user": {"id": 2, "name": "Bo Berg"}, "contact": {"id": 11, "name": "Kari Nord"}, "text": "Wants 3 welders"}

# kind, record, edit url, update url, update rpc, expected changes (every field the form has)
CASES = [
    ("contact", CONTACT, "update_contact",
     {"first_name": "Kari", "last_name": "Nord", "title": "HR", "email": "kari@x.no", "phone": "+4790000000",
      "notes": "Prefers mail"}),
    ("project", PROJECT, "update_project",
     {"name": "Framework 2026", "type": "recruitment", "status": "active", "start_date": "2026-01-05",
      "end_date": "2026-12-31", "owner_id": 2}),
    ("agreement", AGREEMENT, "update_agreement",
     {"title": "Price list", "kind": "price", "status": "sent", "project_id": 21, "valid_from": "2026-02-01",
      "valid_to": "2027-01-31"}),
    ("task", TASK, "update_task",
     {"title": "Call back", "due_date": "2026-04-01", "assignee_id": 2, "priority": "high", "contact_id": 11}),
    # issue 13: meetings and activities are edited after creation (times in the tenant's zone, Europe/Oslo)
    ("meeting", MEETING, "update_meeting",
     {"title": "Status", "starts_at": "2026-12-02T09:00+01:00", "duration_minutes": 90, "place": "Their office",
      "user_ids": [2], "contact_ids": [11], "notes": "Bring the price list"}),
    ("activitie", ACTIVITY, "update_activity",
     {"kind": "visit", "at": "2026-03-01T11:00+01:00", "user_id": 2, "contact_id": 11, "text": "Wants 3 welders"}),
]


def browser_post_data(body: str) -> dict[str, list[str]]:
    """What a browser posts for the first form in ``body``: inputs (ticked checkboxes only),
    each select's selected option (else its first), textareas."""
    form = body.split("</form>")[0]
    data: dict[str, list[str]] = {}
    for tag in re.findall(r"<input\b[^>]*>", form):
        name = re.search(r'\bname="([^"]+)"', tag)
        if not name:
            continue
        kind = (re.search(r'\btype="([^"]+)"', tag) or [None, "text"])[1]
        if kind in ("checkbox", "radio") and not re.search(r"\schecked\b", tag):
            continue
        value = re.search(r'\bvalue="([^"]*)"', tag)
        data.setdefault(name.group(1), []).append(html.unescape(value.group(1)) if value else "")
    for name, inner in re.findall(r'<select\b[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        options = re.findall(r'<option\b([^>]*)>', inner)
        chosen = [o for o in options if re.search(r"\sselected\b", o)] or options[:1]
        for o in chosen:
            value = re.search(r'value="([^"]*)"', o)
            data.setdefault(name, []).append(html.unescape(value.group(1)) if value else "")
    for name, text in re.findall(r'<textarea\b[^>]*\bname="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data.setdefault(name, []).append(html.unescape(text.lstrip("\n")))
    return data


@pytest.fixture(autouse=True)
def lists(rpc):
    rpc.on("list_users", lambda: USERS)
    rpc.on("list_contacts", lambda cid, *opts: [CONTACT])
    rpc.on("list_tasks", lambda cid, *opts: [TASK])
    rpc.on("list_projects", lambda cid: [PROJECT])
    rpc.on("list_agreements", lambda cid: [AGREEMENT])
    rpc.on("list_meetings", lambda cid: [MEETING])
    rpc.on("list_activities", lambda cid, opts: [ACTIVITY])


@pytest.mark.parametrize("kind, record, method, expected", CASES, ids=[c[0] for c in CASES])
def test_an_untouched_edit_form_saves_the_record_unchanged(client, rpc, kind, record, method, expected):
    rpc.on(method, lambda rid, changes: {**record, **changes})
    body = client.get(f"/companies/7/{kind}s/{record['id']}/edit", headers=HX).text
    data = browser_post_data(body)
    response = client.put(f"/companies/7/{kind}s/{record['id']}", data=data, headers=HX)
    assert response.status_code == 200, response.text[:500]
    rid, changes = rpc.last(method).args
    assert rid == record["id"]
    assert changes == expected  # every field the form has, as it was: nothing cleared, nothing changed


def test_an_edited_meeting_and_activity_show_their_edit_buttons_and_save_in_place(client, rpc):
    body = client.get("/companies/7?tab=meetings", headers=HX).text
    assert 'hx-get="/companies/7/meetings/51/edit"' in body
    form = client.get("/companies/7/meetings/51/edit", headers=HX).text
    assert 'hx-put="/companies/7/meetings/51"' in form and "with_follow_up" not in form
    rpc.on("update_meeting", lambda rid, changes: {**MEETING, **changes})
    data = {**browser_post_data(form), "title": ["Status, round 2"], "duration_minutes": ["1"]}
    bad = client.put("/companies/7/meetings/51", data=data, headers=HX)
    assert bad.status_code == 422 and "update_meeting" not in rpc.methods()
    body = client.get("/companies/7?tab=activities", headers=HX).text
    assert 'hx-get="/companies/7/activities/61/edit"' in body
    form = client.get("/companies/7/activities/61/edit", headers=HX).text
    assert 'hx-put="/companies/7/activities/61"' in form


def test_the_project_edit_form_shows_its_owner(client):
    body = client.get("/companies/7/projects/21/edit", headers=HX).text
    assert re.search(r'<option value="2" selected>Bo Berg</option>', body)


def test_phone_numbers_are_shown_formatted(client):
    body = client.get("/companies/7/contacts/11", headers=HX).text
    assert ">+47 90 00 00 00</a>" in body and 'href="tel:+4790000000"' in body


def test_a_too_big_logo_is_refused_with_its_real_size(client, rpc):
    import io

    from gateway_fakes import company

    rpc.on("get_company", lambda cid: company(id=7))
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (3 * 1024 * 1024 + 200_000)  # 3.2 MiB: under the 5 MiB request limit
    response = client.post("/companies/7/logo", headers=HX, content_type="multipart/form-data",
                           data={"logo": (io.BytesIO(big), "huge.png")})
    assert response.status_code == 422
    assert "The logo is 3.2 MiB; the limit is 1 MiB." in response.text
    assert "set_logo" not in rpc.methods()


def test_the_overview_search_answers_soon_after_the_last_keystroke(client):
    """Issue 13: a 60 ms debounce (the server answers in ~20 ms), the request in flight replaced."""
    body = client.get("/companies").text
    tag = re.search(r'<input id="search-q"[^>]*>', body, re.S).group(0)
    assert 'hx-trigger="input changed delay:60ms, search"' in tag and 'hx-sync="this:replace"' in tag
