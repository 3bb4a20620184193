"""Credit rating on the crm side (issue 10). Plain logic: no nameko here.

- **Enrolment outbox.** A company with an organisation number in NO, SE, DK or
  GB that is created (by hand, from the registry, as a sub-unit, in bulk) or
  gets its number later gets a ``crm_outbox`` row in the same transaction
  (:func:`note_identified`); :func:`relay` publishes the rows as
  ``company_identified`` events after commit (a timer), so an event is not lost
  when the credit monitor is down. The credit monitor enrols idempotently.
- **Ratings.** The credit monitor's ``rating_changed`` event sets the rating
  columns of the company (band, score, limit, updated: shown, sorted and
  filtered in the overview), adds a "credit rating" entry to the timeline and,
  when the rating changed, a notification for every owner. Applied once per
  event id (``processed_events``).
"""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import notifications, util
from .models import ChangeLog, Company, CompanyOwner, CrmOutbox, ProcessedEvent

log = logging.getLogger(__name__)
COUNTRIES = ("NO", "SE", "DK", "GB")
BANDS = ("A", "B", "C", "D", "E")
EVENT = "company_identified"


def _payload(c: Company) -> dict:
    return {"tenant_id": c.tenant_id, "company_id": c.id, "country": c.country, "org_number": c.org_number,
            "name": c.name}


def note_identified(session: Session, company: Company) -> None:
    """In the caller's transaction: a ``company_identified`` outbox row when the
    company has a number the credit monitor can use. Call after a flush (id known)."""
    if company.country in COUNTRIES and company.org_number:
        event_id = str(uuid.uuid4())
        session.add(CrmOutbox(id=event_id, tenant_id=company.tenant_id, event_type=EVENT,
                              payload=json.dumps({**_payload(company), "event_id": event_id})))


def enrol_existing(session: Session, tenant_id: int) -> dict:
    """Outbox rows for every company of the tenant with a usable number (an
    admin switching monitoring on for companies made before it existed)."""
    rows = session.execute(select(Company.id, Company.tenant_id, Company.country, Company.org_number, Company.name)
                           .where(Company.tenant_id == tenant_id, Company.country.in_(COUNTRIES),
                                  Company.org_number.is_not(None)).order_by(Company.id)).all()
    batch = []
    for r in rows:
        event_id = str(uuid.uuid4())
        batch.append({"id": event_id, "tenant_id": tenant_id, "event_type": EVENT, "payload": json.dumps(
            {"tenant_id": tenant_id, "company_id": r.id, "country": r.country, "org_number": r.org_number,
             "name": r.name, "event_id": event_id})})
        if len(batch) >= 1000:
            session.execute(insert(CrmOutbox), batch)
            batch = []
    if batch:
        session.execute(insert(CrmOutbox), batch)
    session.commit()
    return {"queued": len(rows)}


def relay(session: Session, dispatch, limit: int = 500) -> int:
    """Publish pending outbox rows in order; mark each once its publish was
    confirmed. A failed publish (broker away, no consumer queue bound yet) stops
    the batch; the timer tries again. Returns how many were published."""
    stmt = select(CrmOutbox).where(CrmOutbox.published_at.is_(None)).order_by(CrmOutbox.seq).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = session.scalars(stmt).all()
    done = 0
    for row in rows:
        try:
            dispatch(row.event_type, json.loads(row.payload))
        except Exception as exc:
            log.warning("crm outbox: publishing %s failed (%s); will retry", row.id, exc)
            break
        row.published_at = util.now()
        done += 1
    session.commit()
    return done


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(CrmOutbox).where(CrmOutbox.published_at.is_(None))) or 0


def _rating_text(band, score) -> str:
    if band is None and score is None:
        return "—"
    return f"{band or '?'} ({score})" if score is not None else f"{band}"


def apply_rating(session: Session, event: dict) -> bool:
    """The credit monitor's ``rating_changed``: once per event id. Returns False
    for a repeat or a company that is gone."""
    event_id = str(event.get("event_id") or "")
    tenant_id = int(event["tenant_id"])
    company_id = int(event["company_id"])
    if not event_id or session.get(ProcessedEvent, event_id) is not None:
        return False
    session.add(ProcessedEvent(event_id=event_id, tenant_id=tenant_id, kind="rating_changed"))
    c = session.scalar(select(Company).where(Company.id == company_id, Company.tenant_id == tenant_id)
                       .with_for_update())
    if c is None:
        session.commit()
        return False
    band = event.get("band") if event.get("band") in BANDS else None
    score = event.get("score") if isinstance(event.get("score"), int) else None
    limit = event.get("limit") if isinstance(event.get("limit"), int) else None
    rated_at = _time(event.get("rated_at")) or util.now()
    old = _rating_text(c.credit_band, c.credit_score)
    current = util.aware(c.credit_updated_at) if c.credit_updated_at else None
    if current is None or rated_at >= current:  # an older event arriving late does not win
        c.credit_band, c.credit_score, c.credit_limit = band, score, limit
        c.credit_currency = (event.get("currency") or "")[:3] or None
        c.credit_updated_at = rated_at
    new = _rating_text(band, score)
    session.add(ChangeLog(tenant_id=tenant_id, company_id=company_id, entity="credit", entity_id=None,
                          field="rating", old=None if old == "—" else old, new=new, user_id=None, at=rated_at))
    if event.get("changed"):
        title = f"Credit rating of {c.name}: {old} → {new}"
        detail = event.get("description") or ""
        owners = list(session.scalars(select(CompanyOwner.user_id).where(CompanyOwner.company_id == company_id)))
        notifications.add_many(session, tenant_id, owners, company_id, "credit_rating", title, detail)
    try:
        session.commit()
    except IntegrityError:  # the same event applied by another worker at the same moment
        session.rollback()
        return False
    return True


def _time(value) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def dump(c: Company) -> dict | None:
    """The rating columns as the card and the overview show them."""
    if c.credit_band is None and c.credit_score is None:
        return None
    return {"band": c.credit_band, "score": c.credit_score, "limit": c.credit_limit, "currency": c.credit_currency,
            "updated_at": util.iso(c.credit_updated_at)}


