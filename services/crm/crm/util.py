"""Small helpers shared by the logic modules: time, money, look-ups that scope
by tenant and raise the typed errors."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .exceptions import NotFound, ValidationError
from .models import Company, Contact, Tenant, User


def now() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def utc(value: datetime) -> datetime:
    """An incoming datetime as UTC (naive input counts as UTC)."""
    return aware(value).astimezone(timezone.utc)


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_minor(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(minor: int | None) -> str:
    minor = int(minor or 0)
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def currency(session: Session, tenant_id: int) -> str:
    return session.scalar(select(Tenant.currency).where(Tenant.id == tenant_id)) or "NOK"


def company(session: Session, tenant_id: int, company_id, lock: bool = False) -> Company:
    """The tenant's company or NotFound. ``lock`` takes the row lock that
    serialises writes touching the company's counters (PostgreSQL)."""
    stmt = select(Company).where(Company.id == int(company_id), Company.tenant_id == tenant_id)
    if lock:
        stmt = stmt.with_for_update()
    found = session.scalar(stmt)
    if found is None:
        raise NotFound("No such company", id=company_id)
    return found


def company_for_field(session: Session, tenant_id: int, company_id, field: str = "company_id", lock: bool = False) -> Company:
    """Like :func:`company`, for an id given inside a request body."""
    try:
        return company(session, tenant_id, company_id, lock=lock)
    except NotFound:
        raise NotFound("No such company", id=company_id, field=field) from None


def user(session: Session, tenant_id: int, user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    found = session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id))
    if found is None:
        raise ValidationError("No such coworker", field=field)
    return found


def users(session: Session, tenant_id: int, ids, field: str) -> list[User]:
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not ids:
        return []
    found = {u.id: u for u in session.scalars(select(User).where(User.tenant_id == tenant_id, User.id.in_(ids)))}
    if len(found) != len(ids):
        raise ValidationError("No such coworker", field=field)
    return [found[i] for i in ids]


def contact(session: Session, tenant_id: int, company_id: int, contact_id: int | None, field: str) -> Contact | None:
    if contact_id is None:
        return None
    found = session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.tenant_id == tenant_id, Contact.company_id == company_id)
    )
    if found is None:
        raise ValidationError("No such contact person at this company", field=field)
    return found


def names(session: Session, tenant_id: int, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.tenant_id == tenant_id, User.id.in_(ids))).all())


def ref(id_: int | None, names_: dict[int, str]) -> dict | None:
    if id_ is None:
        return None
    return {"id": id_, "name": names_.get(id_, "?")}


def commit_unique(session: Session, message: str, field: str) -> None:
    """Commit; a unique constraint that refuses the row becomes a ValidationError on ``field``."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ValidationError(message, field=field) from None
