"""E-mail recipients of a selection, opt-outs, marketing protection, and the
timeline entries of sent e-mails (issue 9). Plain logic, no nameko.

``list_recipients`` pages by company id (keyset, the selection contract's
``iter_id_chunks``): for each selected company its own address and/or its
contact persons, each with a skip reason when it must not be e-mailed.
Deduplication by address is the mailer's job (it sees every page).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import selection, util
from .models import Activity, Company, CompanyMailFlag, Contact, EmailOptOut, ProcessedEvent
from .schemas import SelectionIn

KINDS = ("company", "contacts")


def fold(email: str) -> str:
    return email.strip().lower()


def list_recipients(session: Session, tenant_id: int, user_id: int | None, sel: SelectionIn, kinds: list[str],
                    after_id: int = 0, limit: int = 500) -> dict:
    chunk = next(selection.iter_id_chunks(session, tenant_id, user_id, sel, chunk=limit, after_id=after_id), [])
    if not chunk:
        return {"items": [], "next_after_id": None}
    companies = {c.id: c for c in session.scalars(select(Company).where(Company.tenant_id == tenant_id,
                                                                          Company.id.in_(chunk)))}
    protected = set(session.scalars(select(CompanyMailFlag.company_id).where(
        CompanyMailFlag.tenant_id == tenant_id, CompanyMailFlag.company_id.in_(chunk),
        CompanyMailFlag.marketing_protected.is_(True))))
    contacts: dict[int, list[Contact]] = {}
    if "contacts" in kinds:
        for c in session.scalars(select(Contact).where(Contact.tenant_id == tenant_id, Contact.company_id.in_(chunk))
                                 .order_by(Contact.company_id, Contact.id)):
            contacts.setdefault(c.company_id, []).append(c)
    addresses = set()
    for company in companies.values():
        if "company" in kinds and company.email:
            addresses.add(fold(company.email))
    for rows in contacts.values():
        addresses.update(fold(c.email) for c in rows if c.email)
    opted = _opted_out(session, tenant_id, addresses)
    items = []
    for cid in chunk:
        company = companies.get(cid)
        if company is None:
            continue
        base = {"company_id": company.id, "company_name": company.name}
        if "company" in kinds:
            items.append({**base, "kind": "company", "contact_id": None, "email": company.email,
                          "first_name": None, "last_name": None,
                          "skip": _skip(company.email, True, company.id in protected, opted)})
        for c in contacts.get(cid, []):
            items.append({**base, "kind": "contact", "contact_id": c.id, "email": c.email, "first_name": c.first_name,
                          "last_name": c.last_name, "skip": _skip(c.email, c.active, company.id in protected, opted)})
    return {"items": items, "next_after_id": chunk[-1] if len(chunk) == limit else None}


def _skip(email: str | None, active: bool, protected: bool, opted: set[str]) -> str | None:
    if not email:
        return "no_address"
    if fold(email) in opted:
        return "unsubscribed"
    if not active:
        return "inactive"
    if protected:
        return "marketing_protection"
    return None


def _opted_out(session: Session, tenant_id: int, addresses) -> set[str]:
    addresses = list(addresses)
    out: set[str] = set()
    for i in range(0, len(addresses), 500):
        out.update(session.scalars(select(EmailOptOut.email).where(EmailOptOut.tenant_id == tenant_id,
                                                                   EmailOptOut.email.in_(addresses[i:i + 500]))))
    return out


def opt_out(session: Session, tenant_id: int, email: str, source: str = "user", at: datetime | None = None) -> dict:
    """Record that ``email`` opted out; the first time is kept (idempotent)."""
    address = fold(email)
    row = session.get(EmailOptOut, (tenant_id, address))
    if row is None:
        row = EmailOptOut(tenant_id=tenant_id, email=address, at=util.utc(at) if at else util.now(), source=source)
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            row = session.get(EmailOptOut, (tenant_id, address))
    return _opt_out_out(row)


def _opt_out_out(row: EmailOptOut) -> dict:
    return {"email": row.email, "opted_out": True, "at": util.iso(row.at), "source": row.source}


def opt_in(session: Session, tenant_id: int, email: str) -> dict:
    row = session.get(EmailOptOut, (tenant_id, fold(email)))
    if row is not None:
        session.delete(row)
        session.commit()
    return {"email": fold(email), "opted_out": False, "at": None, "source": None}


def company_opt_outs(session: Session, tenant_id: int, company_id: int) -> dict:
    """{contact_id: {"email","at","source"}} for the company's contacts (and "company" for its own address)."""
    company = util.company(session, tenant_id, company_id)
    contacts = list(session.scalars(select(Contact).where(Contact.tenant_id == tenant_id, Contact.company_id == company.id)))
    emails = {fold(c.email) for c in contacts if c.email} | ({fold(company.email)} if company.email else set())
    rows = {r.email: r for r in session.scalars(select(EmailOptOut).where(EmailOptOut.tenant_id == tenant_id,
                                                                          EmailOptOut.email.in_(emails or {""})))}
    out: dict[str, dict] = {}
    for c in contacts:
        if c.email and fold(c.email) in rows:
            out[str(c.id)] = _opt_out_out(rows[fold(c.email)])
    if company.email and fold(company.email) in rows:
        out["company"] = _opt_out_out(rows[fold(company.email)])
    return out


def set_marketing_protection(session: Session, tenant_id: int, company_id: int, protected: bool) -> dict:
    company = util.company(session, tenant_id, company_id)
    row = session.get(CompanyMailFlag, company.id)
    if row is None:
        session.add(CompanyMailFlag(company_id=company.id, tenant_id=tenant_id, marketing_protected=protected))
    else:
        row.marketing_protected, row.updated_at = protected, util.now()
    session.commit()
    return {"company_id": company.id, "marketing_protected": protected}


# -- events from the mailer ------------------------------------------------------------
def _first_time(session: Session, event_id: str, tenant_id: int, kind: str) -> bool:
    """Mark the event processed in the current transaction; False if it was already."""
    if session.get(ProcessedEvent, event_id) is not None:
        return False
    session.add(ProcessedEvent(event_id=event_id, tenant_id=tenant_id, kind=kind))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def record_email_sent(session: Session, event: dict) -> bool:
    """An e-mail activity on the company's timeline (with the contact), once per event id."""
    event_id, tenant_id = str(event["event_id"]), int(event["tenant_id"])
    if not _first_time(session, event_id, tenant_id, "email_sent"):
        return False
    company = session.scalar(select(Company).where(Company.id == event.get("company_id"), Company.tenant_id == tenant_id))
    if company is not None:
        contact_id = event.get("contact_id")
        if contact_id is not None and session.scalar(select(Contact.id).where(
                Contact.id == contact_id, Contact.tenant_id == tenant_id, Contact.company_id == company.id)) is None:
            contact_id = None
        user_id = event.get("user_id")
        if user_id is not None and not util.names(session, tenant_id, [user_id]):
            user_id = None
        at = datetime.fromisoformat(event["sent_at"]) if event.get("sent_at") else util.now()
        text = f"E-mail to {event.get('to')}: {event.get('subject') or ''}".strip()
        if event.get("campaign_id"):
            text += f" (campaign #{event['campaign_id']})"
        session.add(Activity(tenant_id=tenant_id, company_id=company.id, kind="email", at=util.utc(at),
                             user_id=user_id, contact_id=contact_id, text=text[:10_000]))
    try:
        session.commit()
    except IntegrityError:  # the same event applied concurrently
        session.rollback()
        return False
    return True


def record_opted_out(session: Session, event: dict) -> bool:
    event_id, tenant_id = str(event["event_id"]), int(event["tenant_id"])
    if not _first_time(session, event_id, tenant_id, "email_opted_out"):
        return False
    address = fold(event["email"])
    if session.get(EmailOptOut, (tenant_id, address)) is None:
        at = datetime.fromisoformat(event["at"]) if event.get("at") else util.now()
        session.add(EmailOptOut(tenant_id=tenant_id, email=address, at=util.utc(at), source="unsubscribe_link"))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True
