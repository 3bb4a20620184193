"""The records on a company card: contacts, projects, agreements, tasks,
meetings and activities. Plain logic.

Every lookup by id is scoped by tenant (another tenant's id is NotFound).
Writes that change what the overview counts lock the company row, change the
rows, then recount (:mod:`crm.counters`) in the same transaction. Each create
and each changed field is logged (:mod:`crm.history`).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import card, counters, history, util
from .exceptions import NotFound, ValidationError
from .models import Activity, Agreement, Contact, Meeting, MeetingAttendee, Project, Task, User
from .schemas import (ACTIVE_PROJECT, ActivityChanges, ActivityIn, AgreementChanges, AgreementIn, ContactChanges,
                      ContactIn, MeetingChanges, MeetingIn, ProjectChanges, ProjectIn, TaskChanges, TaskIn)


def _get(session: Session, model, tenant_id: int, record_id, label: str):
    found = session.scalar(select(model).where(model.id == int(record_id), model.tenant_id == tenant_id))
    if found is None:
        raise NotFound(f"No such {label}", id=record_id)
    return found


# -- contacts ------------------------------------------------------------------
def dump_contact(c: Contact) -> dict:
    return {"id": c.id, "company_id": c.company_id, "first_name": c.first_name, "last_name": c.last_name,
            "name": f"{c.first_name} {c.last_name}".strip(), "title": c.title, "email": c.email, "phone": c.phone,
            "notes": c.notes, "active": c.active}


def list_contacts(session: Session, tenant_id: int, company_id: int, include_inactive: bool = False) -> list[dict]:
    util.company(session, tenant_id, company_id)
    stmt = select(Contact).where(Contact.tenant_id == tenant_id, Contact.company_id == company_id)
    if not include_inactive:
        stmt = stmt.where(Contact.active.is_(True))
    return [dump_contact(c) for c in session.scalars(stmt.order_by(Contact.last_name, Contact.first_name, Contact.id))]


def create_contact(session: Session, tenant_id: int, user_id: int | None, data: ContactIn) -> dict:
    company = util.company_for_field(session, tenant_id, data.company_id)
    contact = Contact(tenant_id=tenant_id, company_id=company.id, first_name=data.first_name, last_name=data.last_name,
                      title=data.title, email=data.email, phone=card.phone_for(data.phone, company.country),
                      notes=data.notes, active=True)
    session.add(contact)
    session.flush()
    history.created(session, tenant_id, company.id, user_id, "contact", contact.id, dump_contact(contact)["name"])
    session.commit()
    return dump_contact(contact)


def update_contact(session: Session, tenant_id: int, user_id: int | None, contact_id: int, data: ContactChanges) -> dict:
    contact = _get(session, Contact, tenant_id, contact_id, "contact person")
    changes = data.model_dump(include=data.model_fields_set)
    if "phone" in changes:
        country = util.company(session, tenant_id, contact.company_id).country
        changes["phone"] = card.phone_for(changes["phone"], country)
    history.apply(session, contact, changes, tenant_id, contact.company_id, user_id, "contact")
    session.commit()
    return dump_contact(contact)


def set_contact_active(session: Session, tenant_id: int, user_id: int | None, contact_id: int, active: bool) -> dict:
    contact = _get(session, Contact, tenant_id, contact_id, "contact person")
    history.apply(session, contact, {"active": bool(active)}, tenant_id, contact.company_id, user_id, "contact")
    session.commit()
    return dump_contact(contact)


# -- projects ------------------------------------------------------------------
def dump_project(p: Project, names: dict) -> dict:
    return {"id": p.id, "company_id": p.company_id, "name": p.name, "type": p.type, "status": p.status,
            "start_date": util.iso(p.start_date), "end_date": util.iso(p.end_date), "owner": util.ref(p.owner_id, names),
            "active": p.status in ACTIVE_PROJECT}


def _project_out(session: Session, p: Project) -> dict:
    return dump_project(p, util.names(session, p.tenant_id, [p.owner_id]))


def list_projects(session: Session, tenant_id: int, company_id: int) -> list[dict]:
    util.company(session, tenant_id, company_id)
    rows = session.scalars(select(Project).where(Project.tenant_id == tenant_id, Project.company_id == company_id)
                           .order_by(Project.created_at.desc(), Project.id.desc())).all()
    names = util.names(session, tenant_id, {p.owner_id for p in rows})
    return [dump_project(p, names) for p in rows]


def create_project(session: Session, tenant_id: int, user_id: int | None, data: ProjectIn) -> dict:
    company = util.company_for_field(session, tenant_id, data.company_id, lock=True)
    util.user(session, tenant_id, data.owner_id, "owner_id")
    project = Project(tenant_id=tenant_id, company_id=company.id, name=data.name, type=data.type, status=data.status,
                      start_date=data.start_date, end_date=data.end_date, owner_id=data.owner_id)
    session.add(project)
    session.flush()
    history.created(session, tenant_id, company.id, user_id, "project", project.id, project.name)
    counters.refresh(session, company.id)
    session.commit()
    return _project_out(session, project)


def update_project(session: Session, tenant_id: int, user_id: int | None, project_id: int, data: ProjectChanges) -> dict:
    project = _get(session, Project, tenant_id, project_id, "project")
    util.company(session, tenant_id, project.company_id, lock=True)
    changes = data.model_dump(include=data.model_fields_set)
    if "owner_id" in changes:
        util.user(session, tenant_id, changes["owner_id"], "owner_id")
    start = changes.get("start_date", project.start_date)
    end = changes.get("end_date", project.end_date)
    if start and end and end < start:
        raise ValidationError("The end date is before the start date", field="end_date")
    history.apply(session, project, changes, tenant_id, project.company_id, user_id, "project")
    counters.refresh(session, project.company_id)
    session.commit()
    return _project_out(session, project)


# -- agreements ----------------------------------------------------------------
def dump_agreement(a: Agreement) -> dict:
    return {"id": a.id, "company_id": a.company_id, "project_id": a.project_id, "title": a.title, "kind": a.kind,
            "status": a.status, "valid_from": util.iso(a.valid_from), "valid_to": util.iso(a.valid_to),
            "signed_at": util.iso(a.signed_at)}


def list_agreements(session: Session, tenant_id: int, company_id: int) -> list[dict]:
    util.company(session, tenant_id, company_id)
    rows = session.scalars(select(Agreement).where(Agreement.tenant_id == tenant_id, Agreement.company_id == company_id)
                           .order_by(Agreement.created_at.desc(), Agreement.id.desc()))
    return [dump_agreement(a) for a in rows]


def _check_project(session: Session, tenant_id: int, company_id: int, project_id: int | None) -> None:
    if project_id is not None and session.scalar(select(Project.id).where(
            Project.id == project_id, Project.tenant_id == tenant_id, Project.company_id == company_id)) is None:
        raise ValidationError("No such project at this company", field="project_id")


def create_agreement(session: Session, tenant_id: int, user_id: int | None, data: AgreementIn) -> dict:
    company = util.company_for_field(session, tenant_id, data.company_id, lock=True)
    _check_project(session, tenant_id, company.id, data.project_id)
    agreement = Agreement(tenant_id=tenant_id, company_id=company.id, project_id=data.project_id, title=data.title,
                          kind=data.kind, status=data.status, valid_from=data.valid_from, valid_to=data.valid_to,
                          signed_at=util.now() if data.status == "signed" else None)
    session.add(agreement)
    session.flush()
    history.created(session, tenant_id, company.id, user_id, "agreement", agreement.id, agreement.title)
    counters.refresh(session, company.id)
    session.commit()
    return dump_agreement(agreement)


def update_agreement(session: Session, tenant_id: int, user_id: int | None, agreement_id: int,
                     data: AgreementChanges) -> dict:
    agreement = _get(session, Agreement, tenant_id, agreement_id, "agreement")
    util.company(session, tenant_id, agreement.company_id, lock=True)
    changes = data.model_dump(include=data.model_fields_set)
    if "project_id" in changes:
        _check_project(session, tenant_id, agreement.company_id, changes["project_id"])
    start = changes.get("valid_from", agreement.valid_from)
    end = changes.get("valid_to", agreement.valid_to)
    if start and end and end < start:
        raise ValidationError("The end of validity is before its start", field="valid_to")
    if "status" in changes and changes["status"] != agreement.status:
        changes["signed_at"] = util.now() if changes["status"] == "signed" else None
    history.apply(session, agreement, changes, tenant_id, agreement.company_id, user_id, "agreement")
    counters.refresh(session, agreement.company_id)
    session.commit()
    return dump_agreement(agreement)


# -- tasks -----------------------------------------------------------------------
def dump_task(t: Task, names: dict) -> dict:
    return {"id": t.id, "company_id": t.company_id, "title": t.title, "due_date": util.iso(t.due_date),
            "assignee": util.ref(t.assignee_id, names), "priority": t.priority, "contact_id": t.contact_id,
            "done": t.done, "done_at": util.iso(t.done_at)}


def _task_out(session: Session, t: Task) -> dict:
    return dump_task(t, util.names(session, t.tenant_id, [t.assignee_id]))


def list_tasks(session: Session, tenant_id: int, company_id: int, include_done: bool = True) -> list[dict]:
    util.company(session, tenant_id, company_id)
    stmt = select(Task).where(Task.tenant_id == tenant_id, Task.company_id == company_id)
    if not include_done:
        stmt = stmt.where(Task.done.is_(False))
    rows = session.scalars(stmt.order_by(Task.done, Task.due_date.is_(None), Task.due_date, Task.id)).all()
    names = util.names(session, tenant_id, {t.assignee_id for t in rows})
    return [dump_task(t, names) for t in rows]


def _new_task(session: Session, tenant_id: int, company_id: int, user_id: int | None, title: str, due_date,
              assignee_id: int | None, priority: str = "normal", contact_id: int | None = None,
              field_prefix: str = "") -> Task:
    util.user(session, tenant_id, assignee_id, f"{field_prefix}assignee_id")
    util.contact(session, tenant_id, company_id, contact_id, f"{field_prefix}contact_id")
    task = Task(tenant_id=tenant_id, company_id=company_id, title=title, due_date=due_date, assignee_id=assignee_id,
                priority=priority, contact_id=contact_id, done=False)
    session.add(task)
    session.flush()
    history.created(session, tenant_id, company_id, user_id, "task", task.id, title)
    return task


def create_task(session: Session, tenant_id: int, user_id: int | None, data: TaskIn) -> dict:
    company = util.company_for_field(session, tenant_id, data.company_id, lock=True)
    task = _new_task(session, tenant_id, company.id, user_id, data.title, data.due_date, data.assignee_id,
                     data.priority, data.contact_id)
    counters.refresh(session, company.id)
    session.commit()
    return _task_out(session, task)


def update_task(session: Session, tenant_id: int, user_id: int | None, task_id: int, data: TaskChanges) -> dict:
    task = _get(session, Task, tenant_id, task_id, "task")
    changes = data.model_dump(include=data.model_fields_set)
    if "assignee_id" in changes:
        util.user(session, tenant_id, changes["assignee_id"], "assignee_id")
    if "contact_id" in changes:
        util.contact(session, tenant_id, task.company_id, changes["contact_id"], "contact_id")
    history.apply(session, task, changes, tenant_id, task.company_id, user_id, "task")
    session.commit()
    return _task_out(session, task)


def set_task_done(session: Session, tenant_id: int, user_id: int | None, task_id: int, done: bool) -> dict:
    task = _get(session, Task, tenant_id, task_id, "task")
    util.company(session, tenant_id, task.company_id, lock=True)
    done = bool(done)
    if task.done != done:
        history.apply(session, task, {"done": done, "done_at": util.now() if done else None}, tenant_id,
                      task.company_id, user_id, "task")
    counters.refresh(session, task.company_id)
    session.commit()
    return _task_out(session, task)


# -- meetings --------------------------------------------------------------------
def _meeting_out(session: Session, m: Meeting) -> dict:
    users, contacts = [], []
    for att in session.scalars(select(MeetingAttendee).where(MeetingAttendee.meeting_id == m.id)
                               .order_by(MeetingAttendee.id)):
        if att.user_id is not None:
            users.append(att.user_id)
        if att.contact_id is not None:
            contacts.append(att.contact_id)
    names = util.names(session, m.tenant_id, users)
    contact_names = {c.id: f"{c.first_name} {c.last_name}".strip()
                     for c in session.scalars(select(Contact).where(Contact.id.in_(contacts)))} if contacts else {}
    return {"id": m.id, "company_id": m.company_id, "title": m.title, "starts_at": util.iso(m.starts_at),
            "duration_minutes": m.duration_minutes, "place": m.place,
            "users": [util.ref(u, names) for u in users],
            "contacts": [{"id": c, "name": contact_names.get(c, "?")} for c in contacts],
            "notes": m.notes, "follow_up_task_id": m.follow_up_task_id}


def list_meetings(session: Session, tenant_id: int, company_id: int) -> list[dict]:
    util.company(session, tenant_id, company_id)
    rows = session.scalars(select(Meeting).where(Meeting.tenant_id == tenant_id, Meeting.company_id == company_id)
                           .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(500))
    return [_meeting_out(session, m) for m in rows]


def create_meeting(session: Session, tenant_id: int, user_id: int | None, data: MeetingIn) -> dict:
    company = util.company_for_field(session, tenant_id, data.company_id, lock=True)
    users = util.users(session, tenant_id, data.user_ids, "user_ids")
    contacts = []
    for i, contact_id in enumerate(dict.fromkeys(data.contact_ids)):
        contacts.append(util.contact(session, tenant_id, company.id, contact_id, "contact_ids"))
    meeting = Meeting(tenant_id=tenant_id, company_id=company.id, title=data.title, starts_at=util.utc(data.starts_at),
                      duration_minutes=data.duration_minutes, place=data.place, notes=data.notes, created_by=user_id)
    session.add(meeting)
    session.flush()
    rows = [{"meeting_id": meeting.id, "user_id": u.id, "contact_id": None} for u in users]
    rows += [{"meeting_id": meeting.id, "user_id": None, "contact_id": c.id} for c in contacts]
    if rows:
        session.execute(insert(MeetingAttendee), rows)
    history.created(session, tenant_id, company.id, user_id, "meeting", meeting.id, meeting.title)
    if data.follow_up is not None:
        task = _new_task(session, tenant_id, company.id, user_id, data.follow_up.title, data.follow_up.due_date,
                         data.follow_up.assignee_id, field_prefix="follow_up.")
        meeting.follow_up_task_id = task.id
        counters.refresh(session, company.id)
    session.commit()
    return _meeting_out(session, meeting)


def update_meeting(session: Session, tenant_id: int, user_id: int | None, meeting_id: int, data: MeetingChanges) -> dict:
    """issue 13: change a meeting after creation; each changed field is logged,
    attendees as one "users"/"contacts" entry with the names before and after."""
    meeting = _get(session, Meeting, tenant_id, meeting_id, "meeting")
    given = data.model_fields_set
    changes = data.model_dump(include=given & {"title", "duration_minutes", "place", "notes"})
    if "starts_at" in given:
        changes["starts_at"] = util.utc(data.starts_at)
    history.apply(session, meeting, changes, tenant_id, meeting.company_id, user_id, "meeting")
    attendees = session.scalars(select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id)
                                .order_by(MeetingAttendee.id)).all()
    at = history.save_time(session)
    for field, column, wanted in (("user_ids", "user_id", data.user_ids), ("contact_ids", "contact_id", data.contact_ids)):
        if field not in given:
            continue
        wanted = list(dict.fromkeys(wanted))
        if field == "user_ids":
            util.users(session, tenant_id, wanted, field)
            label = util.names(session, tenant_id, wanted)
        else:
            label = {}
            for contact_id in wanted:
                c = util.contact(session, tenant_id, meeting.company_id, contact_id, field)
                label[c.id] = f"{c.first_name} {c.last_name}".strip()
        current = [getattr(a, column) for a in attendees if getattr(a, column) is not None]
        if current == wanted:
            continue
        before = _attendee_names(session, tenant_id, column, current)
        for a in attendees:
            if getattr(a, column) is not None:
                session.delete(a)
        session.flush()
        if wanted:
            session.execute(insert(MeetingAttendee), [{"meeting_id": meeting.id, "user_id": None, "contact_id": None,
                                                       column: i} for i in wanted])
        history.log(session, tenant_id, meeting.company_id, user_id, "meeting", meeting.id,
                    "users" if field == "user_ids" else "contacts", before,
                    ", ".join(label.get(i, "?") for i in wanted) or None, at=at)
    session.commit()
    return _meeting_out(session, meeting)


def _attendee_names(session: Session, tenant_id: int, column: str, ids: list[int]) -> str | None:
    if not ids:
        return None
    if column == "user_id":
        names = util.names(session, tenant_id, ids)
    else:
        names = {c.id: f"{c.first_name} {c.last_name}".strip()
                 for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    return ", ".join(names.get(i, "?") for i in ids)


def _ics_text(value: str | None) -> str:
    """Text for a calendar property: every line break becomes a plain newline (which
    icalendar escapes as \\n; a bare CR would otherwise reach the file and split a line),
    other control characters go."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch == "\n" or ch == "\t" or ord(ch) >= 32 and ord(ch) != 127)


def _ics_param(value: str | None) -> str:
    """A parameter value (CN=...): one line, no double quotes (RFC 5545 3.2 cannot escape them)."""
    return " ".join(_ics_text(value).replace('"', "'").split())


def _ics_address(name: str | None, email: str, role: str | None = None):
    from icalendar import vCalAddress

    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = _ics_param(name) or email
    if role:
        address.params.update({"ROLE": role, "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"})
    return address


def get_meeting_ics(session: Session, tenant_id: int, meeting_id: int) -> dict:
    """The meeting as an iCalendar invite (RFC 5545), built with the icalendar library."""
    from icalendar import Calendar, Event

    m = _get(session, Meeting, tenant_id, meeting_id, "meeting")
    start = util.aware(m.starts_at).astimezone(util.now().tzinfo)
    end = start + timedelta(minutes=m.duration_minutes)
    company_name = util.company(session, tenant_id, m.company_id).name
    cal = Calendar()
    cal.add("prodid", "-//Staffing CRM//crm service//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"meeting-{m.id}-t{tenant_id}@crm")
    event.add("dtstamp", util.now())
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", _ics_text(m.title))
    if m.place:
        event.add("location", _ics_text(m.place))
    event.add("description", _ics_text("\n".join(x for x in (company_name, m.notes) if x)))
    if m.created_by:
        organiser = session.scalar(select(User).where(User.id == m.created_by, User.tenant_id == tenant_id))
        if organiser is not None:
            event.add("organizer", _ics_address(organiser.name, organiser.email))
    for att in session.scalars(select(MeetingAttendee).where(MeetingAttendee.meeting_id == m.id).order_by(MeetingAttendee.id)):
        if att.user_id is not None:
            who = session.get(User, att.user_id)
            name, email = who.name, who.email
        else:
            who = session.get(Contact, att.contact_id)
            name, email = f"{who.first_name} {who.last_name}".strip(), who.email
        if email:
            event.add("attendee", _ics_address(name, email, "REQ-PARTICIPANT"))
    cal.add_component(event)
    return {"filename": f"meeting-{m.id}.ics", "content": cal.to_ical().decode()}


# -- activities ----------------------------------------------------------------------
def _activity_out(session: Session, a: Activity, names: dict | None = None, contacts: dict | None = None) -> dict:
    names = names if names is not None else util.names(session, a.tenant_id, [a.user_id])
    if contacts is None:
        contacts = {}
        if a.contact_id:
            c = session.get(Contact, a.contact_id)
            contacts[c.id] = f"{c.first_name} {c.last_name}".strip()
    return {"id": a.id, "company_id": a.company_id, "kind": a.kind, "at": util.iso(a.at),
            "user": util.ref(a.user_id, names),
            "contact": {"id": a.contact_id, "name": contacts.get(a.contact_id, "?")} if a.contact_id else None,
            "text": a.text}


def list_activities(session: Session, tenant_id: int, company_id: int, limit: int = 50) -> list[dict]:
    util.company(session, tenant_id, company_id)
    rows = session.scalars(select(Activity).where(Activity.tenant_id == tenant_id, Activity.company_id == company_id)
                           .order_by(Activity.at.desc(), Activity.id.desc()).limit(limit)).all()
    names = util.names(session, tenant_id, {a.user_id for a in rows})
    contact_ids = {a.contact_id for a in rows if a.contact_id}
    contacts = {c.id: f"{c.first_name} {c.last_name}".strip()
                for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))} if contact_ids else {}
    return [_activity_out(session, a, names, contacts) for a in rows]


def log_activity(session: Session, tenant_id: int, user_id: int | None, data: ActivityIn) -> dict:
    company = util.company_for_field(session, tenant_id, data.company_id)
    who = data.user_id if data.user_id is not None else user_id
    util.user(session, tenant_id, who, "user_id")
    util.contact(session, tenant_id, company.id, data.contact_id, "contact_id")
    activity = Activity(tenant_id=tenant_id, company_id=company.id, kind=data.kind,
                        at=util.utc(data.at) if data.at else util.now(), user_id=who, contact_id=data.contact_id,
                        text=data.text)
    session.add(activity)
    session.commit()
    return _activity_out(session, activity)


def update_activity(session: Session, tenant_id: int, user_id: int | None, activity_id: int,
                    data: ActivityChanges) -> dict:
    """issue 13: change an activity after creation; each changed field is logged."""
    activity = _get(session, Activity, tenant_id, activity_id, "activity")
    changes = data.model_dump(include=data.model_fields_set)
    if "at" in changes:
        changes["at"] = util.utc(data.at)
    if "user_id" in changes and changes["user_id"] is not None:
        util.user(session, tenant_id, changes["user_id"], "user_id")
    if "contact_id" in changes:
        util.contact(session, tenant_id, activity.company_id, changes["contact_id"], "contact_id")
    history.apply(session, activity, changes, tenant_id, activity.company_id, user_id, "activity")
    session.commit()
    return _activity_out(session, activity)
