"""Field-level change history and the company timeline. Plain logic.

Every change goes through :func:`apply` (or :func:`log` for values that are
not plain attributes: owners, tags, attributes, addresses), which writes one
``change_log`` row per changed field in the caller's transaction: who, when,
entity, field, old and new value as text.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import util
from .models import Activity, Agreement, ChangeLog, Contact, Invoice, Meeting, Project, Task


def text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return util.iso(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def save_time(session: Session) -> datetime:
    """One time for every row of a save (a transaction): the timeline shows a save as one entry."""
    tx = session.get_transaction()
    if session.info.get("history_tx") is not tx or "history_at" not in session.info:
        session.info["history_tx"], session.info["history_at"] = tx, util.now()
    return session.info["history_at"]


def log(session: Session, tenant_id: int, company_id: int, user_id: int | None, entity: str, entity_id: int | None,
        field: str, old, new, at: datetime | None = None) -> bool:
    old_t, new_t = text(old), text(new)
    if old_t == new_t:
        return False
    session.add(ChangeLog(tenant_id=tenant_id, company_id=company_id, entity=entity, entity_id=entity_id, field=field,
                          old=old_t, new=new_t, user_id=user_id, at=at or save_time(session)))
    return True


def created(session: Session, tenant_id: int, company_id: int, user_id: int | None, entity: str, entity_id: int,
            title: str) -> None:
    log(session, tenant_id, company_id, user_id, entity, entity_id, "created", None, title)


def apply(session: Session, obj, changes: dict, tenant_id: int, company_id: int, user_id: int | None, entity: str) -> dict:
    """Set ``changes`` on ``obj``; log and return the fields that really changed."""
    changed = {}
    at = save_time(session)
    for field, new in changes.items():
        old = getattr(obj, field)
        if isinstance(old, datetime) and isinstance(new, datetime):
            same = util.aware(old) == util.aware(new)
        else:
            same = old == new
        if same:
            continue
        setattr(obj, field, new)
        log(session, tenant_id, company_id, user_id, entity, getattr(obj, "id", None), field, old, new, at=at)
        changed[field] = (old, new)
    return changed


# -- plain words (issue 13): labels, not column names; formatted values; one entry per save -------
ENTITY_LABELS = {"company": "Company", "address": "Address", "invoice_settings": "Invoice", "contact": "Contact",
                 "project": "Project", "agreement": "Agreement", "task": "Task", "meeting": "Meeting",
                 "attribute": "Attribute", "activity": "Activity"}
FIELD_LABELS = {
    "name": "name", "org_number": "organisation number", "country": "country", "legal_form": "legal form",
    "industry_code": "industry code", "industry_text": "industry", "employees": "employees", "website": "website",
    "phone": "phone", "email": "e-mail", "relationship": "relationship", "city": "city", "region": "region",
    "parent_id": "parent company", "department_id": "department", "owners": "owners", "tags": "tags", "logo": "logo",
    "type": "type", "credit_days": "credit days", "invoice_type": "invoice type", "invoice_email": "invoice e-mail",
    "first_name": "first name", "last_name": "last name", "title": "title", "notes": "notes", "active": "active",
    "status": "status", "start_date": "start date", "end_date": "end date", "owner_id": "owner", "kind": "kind",
    "valid_from": "valid from", "valid_to": "valid to", "signed_at": "signed", "project_id": "project",
    "rating": "credit rating", "due_date": "due date", "assignee_id": "assignee", "priority": "priority", "contact_id": "contact",
    "done": "done", "done_at": "done at", "street": "street", "postcode": "postcode",
    # issue 13: meetings and activities edited after creation
    "starts_at": "start", "duration_minutes": "duration (minutes)", "place": "place", "users": "coworkers",
    "contacts": "contact persons", "at": "time", "user_id": "coworker", "text": "text",
}
ADDRESS_LABELS = {"visiting": "visiting address", "postal": "postal address", "billing": "billing address"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def field_label(entity: str, field: str) -> str:
    """``billing.country`` -> "billing address country"; ``credit_days`` -> "credit days"."""
    if entity == "attribute":
        return field
    if "." in field:
        kind, _, part = field.partition(".")
        return f"{ADDRESS_LABELS.get(kind, kind)} {FIELD_LABELS.get(part, part.replace('_', ' '))}"
    return FIELD_LABELS.get(field, field.replace("_", " "))


def value_text(value: str | None) -> str:
    """A logged value in plain words: dates as "31 Dec 2026", times as "2 Mar 2026 10:00", yes/no."""
    if value is None or value == "":
        return "—"
    if value in ("true", "false"):
        return "yes" if value == "true" else "no"
    if len(value) >= 10 and value[4] == "-" and value[7] == "-" and value[:4].isdigit():
        try:
            d = date.fromisoformat(value[:10])
        except ValueError:
            return value
        text_ = f"{d.day} {_MONTHS[d.month - 1]} {d.year}"
        if len(value) > 10 and value[10] == "T":
            text_ += f" {value[11:16]}"
        return text_
    return value


def _saves(rows: list) -> list[list]:
    """Change rows (newest first) grouped into saves: same entity, record and user, written together."""
    groups: list[list] = []
    company_like = ("address", "invoice_settings", "company")
    for r in rows:
        g = groups[-1] if groups else None
        same_save = g and g[0].user_id == r.user_id and util.aware(g[0].at) == util.aware(r.at)  # see save_time
        if same_save and ((g[0].entity == r.entity and g[0].entity_id == r.entity_id)
                          or (g[0].entity in company_like and r.entity in company_like)):
            g.append(r)  # a company's creation writes its addresses in the same save
        else:
            groups.append([r])
    return groups


def save_entry(group: list) -> tuple[str, str | None]:
    """(title, detail) of one save in plain words."""
    created = next((r for r in group if r.field == "created" and r.entity == "company"), None)
    if created is not None:
        return "Company created", created.new
    rows = [r for r in reversed(group) if r.field != "created"]
    labels = list(dict.fromkeys(field_label(r.entity, r.field) for r in rows))
    raw = rows[0].entity if rows else "company"
    said = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    if raw in ("company", "address", "invoice_settings", "credit"):
        title = f"Changed {said}"
    elif raw in ENTITY_LABELS:
        title = f"{ENTITY_LABELS[raw]}: changed {said}"
    else:  # e.g. a bulk edit: its own name, as it is
        title = f"Changed {said} ({raw})"
    detail = "; ".join(f"{field_label(r.entity, r.field).capitalize()}: {value_text(r.old)} → {value_text(r.new)}"
                       for r in rows)
    return title[:1].upper() + title[1:], detail


def save_code(group: list) -> tuple[str, dict]:
    """(code, params) of one save, for a client that words it itself (issue 14): ``company_created``
    ``{"name"}``, or ``fields_changed`` ``{"entity", "changes": [{"entity", "field", "old", "new"}]}``
    with the raw logged values (ISO dates, ``true``/``false``)."""
    created = next((r for r in group if r.field == "created" and r.entity == "company"), None)
    if created is not None:
        return "company_created", {"name": created.new}
    rows = [r for r in reversed(group) if r.field != "created"]
    return "fields_changed", {"entity": rows[0].entity if rows else "company",
                              "changes": [{"entity": r.entity, "field": r.field, "old": r.old, "new": r.new}
                                          for r in rows]}


_EMAIL_TEXT = re.compile(r"E-mail to (?P<to>.*?):\s?(?P<subject>.*?)(?: \(campaign #(?P<campaign_id>\d+)\))?", re.S)


def email_params(text_: str | None) -> dict | None:
    """The parts of an e-mail activity the crm wrote itself (recipients.record_email_sent), else None."""
    m = _EMAIL_TEXT.fullmatch(text_ or "")
    if m is None:
        return None
    return {"to": m["to"], "subject": m["subject"], "campaign_id": int(m["campaign_id"]) if m["campaign_id"] else None}


def company_history(session: Session, tenant_id: int, company_id: int, limit: int = 500) -> list[dict]:
    util.company(session, tenant_id, company_id)
    rows = session.scalars(
        select(ChangeLog)
        .where(ChangeLog.tenant_id == tenant_id, ChangeLog.company_id == company_id)
        .order_by(ChangeLog.at.desc(), ChangeLog.id.desc())
        .limit(limit)
    ).all()
    names = util.names(session, tenant_id, {r.user_id for r in rows})
    return [
        {"at": util.iso(r.at), "user": util.ref(r.user_id, names), "entity": r.entity, "entity_id": r.entity_id,
         "field": r.field, "old": r.old, "new": r.new,
         # issue 13: the same in plain words
         "what": ENTITY_LABELS.get(r.entity, r.entity), "label": "created" if r.field == "created" else field_label(r.entity, r.field),
         "old_text": value_text(r.old), "new_text": value_text(r.new)}
        for r in rows
    ]


LABELS = {
    "call": "Call", "visit": "Visit", "sales_meeting": "Sales meeting", "follow_up": "Follow-up", "email": "E-mail",
    "note": "Note",
}


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=timezone.utc)


def timeline(session: Session, tenant_id: int, company_id: int, limit: int = 50, before: datetime | None = None) -> list[dict]:
    """Changes, activities, meetings, tasks, projects, agreements, invoices and
    contacts of a company, newest first. Each source gives at most ``limit``
    rows older than ``before``; they are merged and cut to ``limit``."""
    util.company(session, tenant_id, company_id)
    before = util.utc(before) if before else None
    items: list[tuple[datetime, int, dict]] = []
    user_ids: set = set()

    def fetch(model, at_col, *extra):
        stmt = select(model).where(model.tenant_id == tenant_id, model.company_id == company_id, *extra)
        if before is not None:
            stmt = stmt.where(at_col < (before if at_col.type.python_type is datetime else before.date()))
        return session.scalars(stmt.order_by(at_col.desc(), model.id.desc()).limit(limit)).all()

    def add(at, kind, title, detail, user_id, order, code=None, params=None):
        user_ids.add(user_id)
        # issue 14: code and params next to the English title/detail, for a client that words them itself
        items.append((util.aware(at), order, {"at": util.iso(at), "kind": kind, "title": title, "detail": detail,
                                              "user": user_id, "code": code or kind, "params": params or {}}))

    # one entry per save, in plain words; a record's own creation shows as that record (below), the
    # company's as "Company created" (its addresses written in the same save are part of it)
    changes = [r for r in fetch(ChangeLog, ChangeLog.at) if r.field != "created" or r.entity == "company"]
    for group in _saves(changes):
        title, detail = save_entry(group)
        code, params = save_code(group)
        add(group[0].at, "change", title, detail, group[0].user_id, group[0].id, code, params)
    for r in fetch(Activity, Activity.at):
        email = email_params(r.text) if r.kind == "email" else None
        add(r.at, "activity", LABELS.get(r.kind, r.kind), r.text, r.user_id, r.id, "email_sent" if email else "activity",
            {"activity_kind": r.kind, **(email or {})})
    for r in fetch(Meeting, Meeting.starts_at):
        add(r.starts_at, "meeting", r.title, r.place, r.created_by, r.id)
    for r in fetch(Task, Task.created_at):
        add(r.created_at, "task", r.title, ("done" if r.done else f"due {r.due_date}" if r.due_date else None),
            r.assignee_id, r.id, params={"done": bool(r.done), "due_date": util.iso(r.due_date)})
    for r in fetch(Project, Project.created_at):
        add(r.created_at, "project", r.name, r.status.replace("_", " "), r.owner_id, r.id, params={"status": r.status})
    for r in fetch(Agreement, Agreement.created_at):
        add(r.created_at, "agreement", r.title, r.status, None, r.id, params={"status": r.status})
    for r in fetch(Contact, Contact.created_at):
        add(r.created_at, "contact", f"{r.first_name} {r.last_name}".strip(), r.title, None, r.id)
    for r in fetch(Invoice, Invoice.issued_on):
        title = ("Invoice " if r.kind == "invoice" else "Credit note ") + r.invoice_number
        add(_midnight(r.issued_on), "invoice", title, f"{util.money(r.amount_minor)} {r.currency}", None, r.id,
            params={"invoice_kind": r.kind, "number": r.invoice_number, "amount": util.money(r.amount_minor),
                    "currency": r.currency})
    if before is not None:
        items = [i for i in items if i[0] < util.aware(before)]
    items.sort(key=lambda i: (i[0], i[1]), reverse=True)
    items = items[:limit]
    names = util.names(session, tenant_id, user_ids)
    out = []
    for _at, _order, item in items:
        item["user"] = util.ref(item["user"], names)
        out.append(item)
    return out
