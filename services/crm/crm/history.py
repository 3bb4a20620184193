"""Field-level change history and the company timeline. Plain logic.

Every change goes through :func:`apply` (or :func:`log` for values that are
not plain attributes: owners, tags, attributes, addresses), which writes one
``change_log`` row per changed field in the caller's transaction: who, when,
entity, field, old and new value as text.
"""
from __future__ import annotations

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


def log(session: Session, tenant_id: int, company_id: int, user_id: int | None, entity: str, entity_id: int | None,
        field: str, old, new, at: datetime | None = None) -> bool:
    old_t, new_t = text(old), text(new)
    if old_t == new_t:
        return False
    session.add(ChangeLog(tenant_id=tenant_id, company_id=company_id, entity=entity, entity_id=entity_id, field=field,
                          old=old_t, new=new_t, user_id=user_id, at=at or util.now()))
    return True


def created(session: Session, tenant_id: int, company_id: int, user_id: int | None, entity: str, entity_id: int,
            title: str) -> None:
    log(session, tenant_id, company_id, user_id, entity, entity_id, "created", None, title)


def apply(session: Session, obj, changes: dict, tenant_id: int, company_id: int, user_id: int | None, entity: str) -> dict:
    """Set ``changes`` on ``obj``; log and return the fields that really changed."""
    changed = {}
    at = util.now()
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
         "field": r.field, "old": r.old, "new": r.new}
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

    def add(at, kind, title, detail, user_id, order):
        user_ids.add(user_id)
        items.append((util.aware(at), order, {"at": util.iso(at), "kind": kind, "title": title, "detail": detail,
                                              "user": user_id}))

    for r in fetch(ChangeLog, ChangeLog.at, ChangeLog.field != "created"):
        label = r.field if r.entity == "company" else f"{r.entity} {r.field}"
        add(r.at, "change", f"Changed {label}", f"{r.old or '—'} → {r.new or '—'}", r.user_id, r.id)
    for r in fetch(Activity, Activity.at):
        add(r.at, "activity", LABELS.get(r.kind, r.kind), r.text, r.user_id, r.id)
    for r in fetch(Meeting, Meeting.starts_at):
        add(r.starts_at, "meeting", r.title, r.place, r.created_by, r.id)
    for r in fetch(Task, Task.created_at):
        add(r.created_at, "task", r.title, ("done" if r.done else f"due {r.due_date}" if r.due_date else None),
            r.assignee_id, r.id)
    for r in fetch(Project, Project.created_at):
        add(r.created_at, "project", r.name, r.status.replace("_", " "), r.owner_id, r.id)
    for r in fetch(Agreement, Agreement.created_at):
        add(r.created_at, "agreement", r.title, r.status, None, r.id)
    for r in fetch(Contact, Contact.created_at):
        add(r.created_at, "contact", f"{r.first_name} {r.last_name}".strip(), r.title, None, r.id)
    for r in fetch(Invoice, Invoice.issued_on):
        title = ("Invoice " if r.kind == "invoice" else "Credit note ") + r.invoice_number
        add(_midnight(r.issued_on), "invoice", title, f"{util.money(r.amount_minor)} {r.currency}", None, r.id)
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
