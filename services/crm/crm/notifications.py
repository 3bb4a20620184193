"""Per-user in-app notifications (issue 10): a coworker's bell. Plain logic.

Written by other modules in their transaction (:func:`add_many`, e.g. a credit
rating change for every owner of the company); read and marked by the user
they are for, never by anyone else.
"""
from __future__ import annotations

import re

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from . import util
from .exceptions import NotFound
from .models import Company, Notification

MAX_LIST = 100


def add_many(session: Session, tenant_id: int, user_ids, company_id: int | None, kind: str, title: str,
             detail: str | None = None) -> int:
    ids = sorted({int(u) for u in user_ids if u is not None})
    if ids:
        at = util.now()
        session.execute(insert(Notification), [
            {"tenant_id": tenant_id, "user_id": uid, "company_id": company_id, "kind": kind, "title": title[:300],
             "detail": (detail or None) and detail[:500], "created_at": at} for uid in ids])
    return len(ids)


# the English titles the crm writes (credit.apply_rating), read back into their parts (issue 14)
_CREDIT_TITLE = re.compile(r"Credit rating of (?P<company>.*): (?P<old>[^:]*?) → (?P<new>[^:]*)", re.S)


def title_params(kind: str, title: str) -> dict | None:
    """The parts of a title the crm wrote itself, for a client that words it in its user's language:
    ``credit_rating`` -> ``{"company", "old", "new"}`` (ratings as ``A (85)`` or ``—``); None otherwise."""
    if kind == "credit_rating":
        m = _CREDIT_TITLE.fullmatch(title or "")
        if m:
            return {"company": m["company"], "old": m["old"], "new": m["new"]}
    return None


def _dump(n: Notification, company_name: str | None) -> dict:
    return {"id": n.id, "kind": n.kind, "title": n.title, "detail": n.detail, "company_id": n.company_id,
            "company_name": company_name, "created_at": util.iso(n.created_at), "read": n.read_at is not None,
            "read_at": util.iso(n.read_at), "params": title_params(n.kind, n.title)}


def list_for(session: Session, tenant_id: int, user_id: int, limit: int = 50, unread_only: bool = False,
             before_id: int | None = None) -> dict:
    """Newest first; ``before_id`` pages on."""
    stmt = (select(Notification, Company.name).outerjoin(Company, Company.id == Notification.company_id)
            .where(Notification.tenant_id == tenant_id, Notification.user_id == user_id))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if before_id:
        stmt = stmt.where(Notification.id < before_id)
    rows = session.execute(stmt.order_by(Notification.id.desc()).limit(min(limit, MAX_LIST))).all()
    return {"items": [_dump(n, name) for n, name in rows], "unread": unread_count(session, tenant_id, user_id)}


def unread_count(session: Session, tenant_id: int, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.tenant_id == tenant_id, Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, tenant_id: int, user_id: int, notification_id: int) -> dict:
    n = session.scalar(select(Notification).where(Notification.id == notification_id,
                                                  Notification.tenant_id == tenant_id,
                                                  Notification.user_id == user_id))
    if n is None:
        raise NotFound("No such notification", id=notification_id)
    if n.read_at is None:
        n.read_at = util.now()
    session.commit()
    name = session.scalar(select(Company.name).where(Company.id == n.company_id)) if n.company_id else None
    return {**_dump(n, name), "unread": unread_count(session, tenant_id, user_id)}


def mark_all_read(session: Session, tenant_id: int, user_id: int) -> dict:
    result = session.execute(update(Notification).where(
        Notification.tenant_id == tenant_id, Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=util.now()))
    session.commit()
    return {"marked": result.rowcount or 0, "unread": 0}
