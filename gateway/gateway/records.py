"""Records on the company card: contacts, projects, agreements, tasks,
meetings, activities, invoices, the timeline and the field history.

The card's lower half is one component, ``#records``: a row of tabs, each a
URL of its own (``/companies/7?tab=tasks``, pushed into history), and the
selected tab's list. Each record type has one partial, ``records/_<type>.html``,
that renders one wrapper in four states: the "add" button, the new form, the
row, the row's edit form. A change that moves the card's counts answers with
``HX-Trigger: countsChanged``; the card's header listens.
"""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from . import errors, rpc
from .companies import PROJECT_TYPES
from .forms import Form, multidict
from .idempotency import form_key
from .web import is_htmx, login_required

bp = Blueprint("records", __name__)

TABS = [
    ("timeline", _l("Timeline")),
    ("contacts", _l("Contacts")),
    ("projects", _l("Projects & agreements")),
    ("tasks", _l("Tasks")),
    ("meetings", _l("Meetings")),
    ("activities", _l("Activity log")),
    ("invoices", _l("Invoices")),
    ("history", _l("History")),
]
PROJECT_STATUSES = [
    ("request", _l("Request")),
    ("not_started", _l("Not started")),
    ("active", _l("Active")),
    ("active_urgent", _l("Active – urgent")),
    ("solved_ended", _l("Solved – ended")),
    ("solved_ongoing", _l("Solved – ongoing")),
]
AGREEMENT_KINDS = [("cooperation", _l("Cooperation agreement")), ("price", _l("Price agreement")),
                   ("framework", _l("Framework agreement")), ("other", _l("Other"))]
AGREEMENT_STATUSES = [("draft", _l("Draft")), ("sent", _l("Sent")), ("signed", _l("Signed"))]
PRIORITIES = [("low", _l("Low")), ("normal", _l("Normal")), ("high", _l("High"))]
ACTIVITY_KINDS = [("call", _l("Phone call")), ("visit", _l("Customer visit")), ("sales_meeting", _l("Sales meeting")),
                  ("follow_up", _l("Follow-up")), ("email", _l("E-mail")), ("note", _l("Note"))]
DURATIONS = [15, 30, 45, 60, 90, 120, 180, 240, 480]


def choices() -> dict:
    return {"tabs": TABS, "project_types": PROJECT_TYPES, "project_statuses": PROJECT_STATUSES,
            "agreement_kinds": AGREEMENT_KINDS, "agreement_statuses": AGREEMENT_STATUSES,
            "priorities": PRIORITIES, "activity_kinds": ACTIVITY_KINDS, "durations": DURATIONS,
            "labels": {**dict(PROJECT_TYPES), **dict(PROJECT_STATUSES), **dict(AGREEMENT_STATUSES),
                       **dict(PRIORITIES), **dict(ACTIVITY_KINDS)},
            "agreement_kind_labels": dict(AGREEMENT_KINDS)}


def _tz() -> str:
    from .i18n import select_timezone  # issue 14: the tenant's time zone, else the gateway's

    return select_timezone()


# -- tabs ---------------------------------------------------------------------------------
def tab_name(value: str | None) -> str:
    return value if value in dict(TABS) else "timeline"


def tab_calls(cid: int, tab: str, args, have_company: bool = False):
    """The calls one tab needs (run in parallel by the caller) and how to build its context."""
    if tab == "timeline":
        return [lambda: rpc.company_timeline(cid, 50)], lambda r, c=None: {"timeline": r[0]}
    if tab == "contacts":
        inactive = args.get("inactive") == "1"
        from .rpc.mail import list_opt_outs  # issue 9: e-mail opt-outs shown on each contact

        return ([lambda: rpc.list_contacts(cid, inactive), lambda: list_opt_outs(cid)],
                lambda r, c=None: {"contacts": r[0], "include_inactive": inactive, "opt_outs": r[1]})
    if tab == "projects":
        return ([lambda: rpc.list_projects(cid), lambda: rpc.list_agreements(cid)],
                lambda r, c=None: {"projects": r[0], "agreements": r[1]})
    if tab == "tasks":
        done = args.get("done") != "0"
        return ([lambda: rpc.list_tasks(cid, done), lambda: rpc.list_contacts(cid, True)],
                lambda r, c=None: {"tasks": r[0], "include_done": done,
                                   "contact_names": {x["id"]: x["name"] for x in r[1]}})
    if tab == "meetings":
        return [lambda: rpc.list_meetings(cid)], lambda r, c=None: {"meetings": r[0]}
    if tab == "activities":
        return [lambda: rpc.list_activities(cid, 50)], lambda r, c=None: {"activities": r[0]}
    if tab == "invoices":
        if have_company:
            return [lambda: rpc.list_invoices(cid)], lambda r, c=None: {"invoices": r[0], "company": c}
        return ([lambda: rpc.list_invoices(cid), lambda: rpc.get_company(cid)],
                lambda r, c=None: {"invoices": r[0], "company": r[1]})
    if tab == "history":
        return [lambda: rpc.company_history(cid)], lambda r, c=None: {"history": r[0]}
    raise ValueError(tab)


def tab_context(cid: int, tab: str, args) -> dict:
    thunks, build = tab_calls(cid, tab, args)
    return build(rpc.parallel(*thunks))


def render_tab(cid: int, tab: str, args, status: int = 200, headers: dict | None = None):
    context = tab_context(cid, tab, args)
    context.setdefault("company", {"id": cid})
    return render_template("records/_records.html", company_id=cid, tab=tab, **context, **choices()), \
        status, headers or {}


def _tab_after_create(cid: int, tab: str):
    """After a create: the whole tab again, swapped over #records, and the counts refresh."""
    if not is_htmx():
        return redirect(url_for("card.show", company_id=cid, tab=tab), code=303)
    return render_tab(cid, tab, MultiDict(), headers={
        "HX-Retarget": "#records", "HX-Reswap": "outerHTML", "HX-Trigger": "countsChanged"})


def _find(items: list[dict], rid: int) -> dict:
    for item in items:
        if item["id"] == rid:
            return item
    raise errors.NotFound(_("That record does not exist (any more)."))


@bp.app_template_filter("phone")
def phone_text(value: str | None) -> str:
    """A stored phone number (E.164) as people write it: ``+47 22 33 44 55``; anything that
    does not parse is shown as it is."""
    if not value:
        return ""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def edit_data(record: dict):
    """A record as its edit form's fields. A reference the crm sends as ``{"id", "name"}`` (a
    project's ``owner``, a task's ``assignee``) becomes the form's ``<name>_id``: an edit form
    shows, and posts back, every value it does not change (issue 13: the project owner was lost)."""
    refs = {f"{k}_id": v["id"] for k, v in record.items() if isinstance(v, dict) and "id" in v}
    flat = {k: v for k, v in record.items() if not isinstance(v, dict)}
    return multidict({**refs, **flat})


def _users() -> list[dict]:
    return [u for u in rpc.list_users() if u.get("active", True)]


def _record(kind: str, cid: int, record: dict | None, *, editing: bool, data=None, field_errors=None,
            status: int = 200, headers: dict | None = None, **options):
    body = render_template(f"records/_{kind}.html", company_id=cid, record=record, editing=editing,
                           data=data if data is not None else MultiDict(), errors=field_errors or {},
                           **options, **choices())
    return body, status, headers or {}


def _invalid(kind: str, cid: int, record, form: Form, options: dict):
    return _record(kind, cid, record, editing=True, data=MultiDict(request.form), field_errors=form.errors,
                   status=422, **options)


# -- contacts ---------------------------------------------------------------------------------
def _read_contact(form: Form) -> dict:
    return {
        "first_name": form.text("first_name", required=True, max_len=100, label=_("First name")),
        "last_name": form.text("last_name", required=True, max_len=100, label=_("Last name")),
        "title": form.text("title", max_len=120),
        "email": form.email("email"),
        "phone": form.text("phone", max_len=40),
        "notes": form.text("notes", max_len=2000),
    }


@bp.get("/companies/<int:cid>/contacts/new")
@login_required
def contact_new(cid: int):
    return _record("contact", cid, None, editing=request.args.get("closed") != "1")


@bp.post("/companies/<int:cid>/contacts")
@login_required
def contact_create(cid: int):
    form = Form(request.form)
    payload = _read_contact(form)
    if form.ok:
        try:
            rpc.create_contact({"company_id": cid, **payload}, idempotency_key=form_key())
            return _tab_after_create(cid, "contacts")
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("contact", cid, None, form, {})


@bp.get("/companies/<int:cid>/contacts/<int:rid>")
@login_required
def contact_row(cid: int, rid: int):
    return _record("contact", cid, _find(rpc.list_contacts(cid, True), rid), editing=False)


@bp.get("/companies/<int:cid>/contacts/<int:rid>/edit")
@login_required
def contact_edit(cid: int, rid: int):
    contact = _find(rpc.list_contacts(cid, True), rid)
    return _record("contact", cid, contact, editing=True, data=edit_data(contact))


@bp.route("/companies/<int:cid>/contacts/<int:rid>", methods=["PUT", "POST"])
@login_required
def contact_update(cid: int, rid: int):
    form = Form(request.form)
    changes = _read_contact(form)
    if form.ok:
        try:
            return _record("contact", cid, rpc.update_contact(rid, changes), editing=False,
                           headers={"HX-Trigger": "countsChanged"})
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("contact", cid, {"id": rid}, form, {})


@bp.post("/companies/<int:cid>/contacts/<int:rid>/active")
@login_required
def contact_active(cid: int, rid: int):
    contact = rpc.set_contact_active(rid, request.form.get("active") == "1")
    return _record("contact", cid, contact, editing=False, headers={"HX-Trigger": "countsChanged"})


# -- projects ------------------------------------------------------------------------------------
def _read_project(form: Form) -> dict:
    data = {
        "name": form.text("name", required=True, max_len=200, label=_("A name")),
        "type": form.choice("type", dict(PROJECT_TYPES)),
        "status": form.choice("status", dict(PROJECT_STATUSES)),
        "start_date": form.date("start_date"),
        "end_date": form.date("end_date"),
        "owner_id": form.integer("owner_id"),
    }
    if data["start_date"] and data["end_date"] and data["end_date"] < data["start_date"]:
        form.error("end_date", _("The end date is before the start date."))
    return data


@bp.get("/companies/<int:cid>/projects/new")
@login_required
def project_new(cid: int):
    editing = request.args.get("closed") != "1"
    data = multidict(type="staffing", status="request", owner_id=g.user["id"])
    return _record("project", cid, None, editing=editing, data=data, users=_users() if editing else [])


@bp.post("/companies/<int:cid>/projects")
@login_required
def project_create(cid: int):
    form = Form(request.form)
    payload = _read_project(form)
    if form.ok:
        try:
            rpc.create_project({"company_id": cid, **payload}, idempotency_key=form_key())
            return _tab_after_create(cid, "projects")
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("project", cid, None, form, {"users": _users()})


def _project_with_agreements(cid: int, rid: int):
    projects, agreements = rpc.parallel(lambda: rpc.list_projects(cid), lambda: rpc.list_agreements(cid))
    return _find(projects, rid), [a for a in agreements if a.get("project_id") == rid]


@bp.get("/companies/<int:cid>/projects/<int:rid>")
@login_required
def project_row(cid: int, rid: int):
    project, agreements = _project_with_agreements(cid, rid)
    return _record("project", cid, project, editing=False, agreements=agreements)


@bp.get("/companies/<int:cid>/projects/<int:rid>/edit")
@login_required
def project_edit(cid: int, rid: int):
    projects, agreements, users = rpc.parallel(
        lambda: rpc.list_projects(cid), lambda: rpc.list_agreements(cid), _users)
    project = _find(projects, rid)
    return _record("project", cid, project, editing=True, data=edit_data(project), users=users,
                   agreements=[a for a in agreements if a.get("project_id") == rid])


@bp.route("/companies/<int:cid>/projects/<int:rid>", methods=["PUT", "POST"])
@login_required
def project_update(cid: int, rid: int):
    form = Form(request.form)
    changes = _read_project(form)
    if form.ok:
        try:
            rpc.update_project(rid, changes)
            project, agreements = _project_with_agreements(cid, rid)
            return _record("project", cid, project, editing=False, agreements=agreements,
                           headers={"HX-Trigger": "countsChanged"})
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("project", cid, {"id": rid}, form, {"users": _users()})


# -- agreements ------------------------------------------------------------------------------------
def _read_agreement(form: Form) -> dict:
    data = {
        "title": form.text("title", required=True, max_len=200, label=_("A title")),
        "kind": form.choice("kind", dict(AGREEMENT_KINDS)),
        "status": form.choice("status", dict(AGREEMENT_STATUSES)),
        "project_id": form.integer("project_id"),
        "valid_from": form.date("valid_from"),
        "valid_to": form.date("valid_to"),
    }
    if data["valid_from"] and data["valid_to"] and data["valid_to"] < data["valid_from"]:
        form.error("valid_to", _("The end date is before the start date."))
    return data


@bp.get("/companies/<int:cid>/agreements/new")
@login_required
def agreement_new(cid: int):
    editing = request.args.get("closed") != "1"
    projects = rpc.list_projects(cid) if editing else []
    data = multidict(kind="cooperation", status="draft", project_id=request.args.get("project_id", type=int))
    return _record("agreement", cid, None, editing=editing, data=data, projects=projects)


@bp.post("/companies/<int:cid>/agreements")
@login_required
def agreement_create(cid: int):
    form = Form(request.form)
    payload = _read_agreement(form)
    if form.ok:
        try:
            rpc.create_agreement({"company_id": cid, **payload}, idempotency_key=form_key())
            return _tab_after_create(cid, "projects")
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("agreement", cid, None, form, {"projects": rpc.list_projects(cid)})


@bp.get("/companies/<int:cid>/agreements/<int:rid>")
@login_required
def agreement_row(cid: int, rid: int):
    return _record("agreement", cid, _find(rpc.list_agreements(cid), rid), editing=False)


@bp.get("/companies/<int:cid>/agreements/<int:rid>/edit")
@login_required
def agreement_edit(cid: int, rid: int):
    agreements, projects = rpc.parallel(lambda: rpc.list_agreements(cid), lambda: rpc.list_projects(cid))
    agreement = _find(agreements, rid)
    return _record("agreement", cid, agreement, editing=True, data=edit_data(agreement), projects=projects)


@bp.route("/companies/<int:cid>/agreements/<int:rid>", methods=["PUT", "POST"])
@login_required
def agreement_update(cid: int, rid: int):
    form = Form(request.form)
    changes = _read_agreement(form)
    if form.ok:
        try:
            return _record("agreement", cid, rpc.update_agreement(rid, changes), editing=False,
                           headers={"HX-Trigger": "countsChanged"})
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("agreement", cid, {"id": rid}, form, {"projects": rpc.list_projects(cid)})


@bp.post("/companies/<int:cid>/agreements/<int:rid>/status")
@login_required
def agreement_status(cid: int, rid: int):
    status = request.form.get("status")
    if status not in dict(AGREEMENT_STATUSES):
        raise errors.ValidationFailed(_("Choose draft, sent or signed."), {"field": "status"})
    return _record("agreement", cid, rpc.update_agreement(rid, {"status": status}), editing=False,
                   headers={"HX-Trigger": "countsChanged"})


# -- tasks -------------------------------------------------------------------------------------------
def _read_task(form: Form) -> dict:
    return {
        "title": form.text("title", required=True, max_len=200, label=_("A title")),
        "due_date": form.date("due_date"),
        "assignee_id": form.integer("assignee_id"),
        "priority": form.choice("priority", dict(PRIORITIES), default="normal"),
        "contact_id": form.integer("contact_id"),
    }


def _task_options(cid: int) -> dict:
    users, contacts = rpc.parallel(_users, lambda: rpc.list_contacts(cid))
    return {"users": users, "contacts": contacts}


@bp.get("/companies/<int:cid>/tasks/new")
@login_required
def task_new(cid: int):
    editing = request.args.get("closed") != "1"
    data = multidict(priority="normal", assignee_id=g.user["id"])
    return _record("task", cid, None, editing=editing, data=data, **(_task_options(cid) if editing else {}))


@bp.post("/companies/<int:cid>/tasks")
@login_required
def task_create(cid: int):
    form = Form(request.form)
    payload = _read_task(form)
    if form.ok:
        try:
            rpc.create_task({"company_id": cid, **payload}, idempotency_key=form_key())
            return _tab_after_create(cid, "tasks")
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("task", cid, None, form, _task_options(cid))


def _task_row(cid: int, task: dict, headers=None):
    contacts = {c["id"]: c["name"] for c in rpc.list_contacts(cid, True)} if task.get("contact_id") else {}
    return _record("task", cid, task, editing=False, contact_names=contacts, headers=headers)


@bp.get("/companies/<int:cid>/tasks/<int:rid>")
@login_required
def task_row(cid: int, rid: int):
    return _task_row(cid, _find(rpc.list_tasks(cid, True), rid))


@bp.get("/companies/<int:cid>/tasks/<int:rid>/edit")
@login_required
def task_edit(cid: int, rid: int):
    tasks, users, contacts = rpc.parallel(lambda: rpc.list_tasks(cid, True), _users, lambda: rpc.list_contacts(cid))
    task = _find(tasks, rid)
    return _record("task", cid, task, editing=True, data=edit_data(task),
                   users=users, contacts=contacts)


@bp.route("/companies/<int:cid>/tasks/<int:rid>", methods=["PUT", "POST"])
@login_required
def task_update(cid: int, rid: int):
    form = Form(request.form)
    changes = _read_task(form)
    if form.ok:
        try:
            return _task_row(cid, rpc.update_task(rid, changes), headers={"HX-Trigger": "countsChanged"})
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("task", cid, {"id": rid}, form, _task_options(cid))


@bp.post("/companies/<int:cid>/tasks/<int:rid>/done")
@login_required
def task_done(cid: int, rid: int):
    task = rpc.set_task_done(rid, request.form.get("done") == "1")
    return _task_row(cid, task, headers={"HX-Trigger": "countsChanged"})


# -- meetings --------------------------------------------------------------------------------------
def _meeting_options(cid: int) -> dict:
    users, contacts = rpc.parallel(_users, lambda: rpc.list_contacts(cid))
    return {"users": users, "contacts": contacts}


def _read_meeting(form: Form, follow_up: bool = True) -> dict:
    data = {
        "title": form.text("title", required=True, max_len=200, label=_("A title")),
        "starts_at": form.datetime("starts_at", _tz(), required=True),
        "duration_minutes": form.integer("duration_minutes", min_value=5, max_value=1440, required=True),
        "place": form.text("place", max_len=200),
        "user_ids": form.ids("user_ids"),
        "contact_ids": form.ids("contact_ids"),
        "notes": form.text("notes", max_len=4000),
    }
    if not follow_up:  # an edit (issue 13): the follow-up task is a task of its own by then
        return data
    data["follow_up"] = None
    if form.flag("with_follow_up"):
        data["follow_up"] = {
            "title": form.text("follow_up.title", required=True, max_len=200, label=_("The follow-up's title")),
            "due_date": form.date("follow_up.due_date", required=True),
            "assignee_id": form.integer("follow_up.assignee_id"),
        }
    return data


@bp.get("/companies/<int:cid>/meetings/new")
@login_required
def meeting_new(cid: int):
    editing = request.args.get("closed") != "1"
    now = datetime.now(ZoneInfo(_tz())).replace(minute=0, second=0, microsecond=0)
    data = multidict({"duration_minutes": 60, "user_ids": [g.user["id"]], "follow_up.assignee_id": g.user["id"],
                      "starts_at": now.strftime("%Y-%m-%dT%H:%M")})
    return _record("meeting", cid, None, editing=editing, data=data, **(_meeting_options(cid) if editing else {}))


@bp.post("/companies/<int:cid>/meetings")
@login_required
def meeting_create(cid: int):
    form = Form(request.form)
    payload = _read_meeting(form)
    if form.ok:
        try:
            rpc.create_meeting({"company_id": cid, **payload}, idempotency_key=form_key())
            return _tab_after_create(cid, "meetings")
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("meeting", cid, None, form, _meeting_options(cid))


def _local(value: str | None) -> str | None:
    """A stored ISO time as its <input type=datetime-local> value in the tenant's time zone."""
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(ZoneInfo(_tz())).strftime("%Y-%m-%dT%H:%M")


def _meeting_edit_data(meeting: dict):
    """issue 13: a meeting as its edit form (attendees as ids, the start in local time)."""
    kept = {k: v for k, v in meeting.items() if k not in ("starts_at", "follow_up_task_id", "users", "contacts")}
    return multidict(kept, starts_at=_local(meeting.get("starts_at")), user_ids=meeting.get("users") or [],
                     contact_ids=meeting.get("contacts") or [])


@bp.get("/companies/<int:cid>/meetings/<int:rid>")
@login_required
def meeting_row(cid: int, rid: int):
    return _record("meeting", cid, _find(rpc.list_meetings(cid), rid), editing=False)


@bp.get("/companies/<int:cid>/meetings/<int:rid>/edit")
@login_required
def meeting_edit(cid: int, rid: int):
    meetings, users, contacts = rpc.parallel(lambda: rpc.list_meetings(cid), _users, lambda: rpc.list_contacts(cid))
    meeting = _find(meetings, rid)
    return _record("meeting", cid, meeting, editing=True, data=_meeting_edit_data(meeting), users=users,
                   contacts=contacts)


@bp.route("/companies/<int:cid>/meetings/<int:rid>", methods=["PUT", "POST"])
@login_required
def meeting_update(cid: int, rid: int):
    form = Form(request.form)
    changes = _read_meeting(form, follow_up=False)
    if form.ok:
        try:
            return _record("meeting", cid, rpc.update_meeting(rid, changes), editing=False)
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("meeting", cid, {"id": rid}, form, _meeting_options(cid))


@bp.get("/meetings/<int:meeting_id>.ics")
@login_required
def meeting_ics(meeting_id: int):
    found = rpc.get_meeting_ics(meeting_id)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", found.get("filename") or f"meeting-{meeting_id}").strip("-.") or "meeting"
    if not name.lower().endswith(".ics"):
        name += ".ics"
    response = Response(found["content"], mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# -- activities ---------------------------------------------------------------------------------------
def _read_activity(form: Form) -> dict:
    return {
        "kind": form.choice("kind", dict(ACTIVITY_KINDS)),
        "at": form.datetime("at", _tz(), required=True),
        "user_id": form.integer("user_id"),
        "contact_id": form.integer("contact_id"),
        "text": form.text("text", required=True, max_len=4000, label=_("A text")),
    }


@bp.get("/companies/<int:cid>/activities/new")
@login_required
def activity_new(cid: int):
    editing = request.args.get("closed") != "1"
    now = datetime.now(ZoneInfo(_tz()))
    kind = request.args.get("kind") if request.args.get("kind") in dict(ACTIVITY_KINDS) else "call"
    data = multidict(kind=kind, user_id=g.user["id"], at=now.strftime("%Y-%m-%dT%H:%M"))
    return _record("activity", cid, None, editing=editing, data=data, **(_meeting_options(cid) if editing else {}))


@bp.post("/companies/<int:cid>/activities")
@login_required
def activity_create(cid: int):
    form = Form(request.form)
    payload = _read_activity(form)
    if form.ok:
        try:
            rpc.log_activity({"company_id": cid, **payload}, idempotency_key=form_key())
            return _tab_after_create(cid, "activities")
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("activity", cid, None, form, _meeting_options(cid))


def _activity_edit_data(activity: dict):
    """issue 13: an activity as its edit form (who and the contact as ids, the time in local time)."""
    return multidict({**edit_data(activity).to_dict(flat=False), "at": _local(activity.get("at"))})


@bp.get("/companies/<int:cid>/activities/<int:rid>")
@login_required
def activity_row(cid: int, rid: int):
    return _record("activity", cid, _find(rpc.list_activities(cid, 500), rid), editing=False)


@bp.get("/companies/<int:cid>/activities/<int:rid>/edit")
@login_required
def activity_edit(cid: int, rid: int):
    activities, users, contacts = rpc.parallel(lambda: rpc.list_activities(cid, 500), _users,
                                               lambda: rpc.list_contacts(cid))
    activity = _find(activities, rid)
    return _record("activity", cid, activity, editing=True, data=_activity_edit_data(activity), users=users,
                   contacts=contacts)


@bp.route("/companies/<int:cid>/activities/<int:rid>", methods=["PUT", "POST"])
@login_required
def activity_update(cid: int, rid: int):
    form = Form(request.form)
    changes = _read_activity(form)
    if form.ok:
        try:
            return _record("activity", cid, rpc.update_activity(rid, changes), editing=False)
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    return _invalid("activity", cid, {"id": rid}, form, _meeting_options(cid))


# -- timeline paging ---------------------------------------------------------------------------------
@bp.get("/companies/<int:cid>/timeline")
@login_required
def timeline_more(cid: int):
    before = (request.args.get("before") or "")[:40] or None
    items = rpc.company_timeline(cid, 50, before)
    return render_template("records/_timeline_items.html", company_id=cid, timeline=items, **choices())
