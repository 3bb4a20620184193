"""Tenants, coworkers, departments and login. Plain logic: no nameko here."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import util
from .exceptions import Forbidden, NotFound, RateLimited, Unauthenticated, ValidationError
from .models import Department, LoginAttempt, Tenant, User
from .schemas import DepartmentIn, LoginIn, UserIn, dump_department, dump_user

hasher = PasswordHasher()
_DUMMY_HASH = hasher.hash("not-a-real-password")

WINDOW = timedelta(minutes=15)
MAX_PER_EMAIL = 5
MAX_PER_IP = 30


def now() -> datetime:
    return datetime.now(timezone.utc)


def _failures(session: Session, key: str, since: datetime) -> int:
    return session.scalar(select(func.count()).where(LoginAttempt.key == key, LoginAttempt.at >= since)) or 0


def login(session: Session, data: LoginIn) -> dict:
    """Check e-mail and password; rate-limited per e-mail and per IP."""
    email = data.email.strip().lower()
    keys = [f"email:{email}"] + ([f"ip:{data.ip}"] if data.ip else [])
    since = now() - WINDOW
    if _failures(session, keys[0], since) >= MAX_PER_EMAIL or (
        data.ip and _failures(session, keys[1], since) >= MAX_PER_IP
    ):
        raise RateLimited("Too many failed logins. Wait 15 minutes and try again.", retry_after=int(WINDOW.total_seconds()))
    user = session.scalar(select(User).where(User.email == email))
    ok = False
    try:
        ok = hasher.verify(user.password_hash if user else _DUMMY_HASH, data.password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or not user.active:
        session.add_all(LoginAttempt(key=k, at=now()) for k in keys)
        session.commit()
        raise Unauthenticated("Wrong e-mail or password")
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == keys[0]))
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(data.password)
    session.commit()
    tenant = session.get(Tenant, user.tenant_id)
    return {"user": dump_user(user), "tenant": {"id": tenant.id, "name": tenant.name, "currency": tenant.currency}}


def get_user(session: Session, tenant_id: int, user_id: int) -> User:
    user = session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id))
    if user is None:
        raise NotFound("No such user", id=user_id)
    return user


def require_admin(session: Session, tenant_id: int, user_id: int | None) -> User:
    user = get_user(session, tenant_id, user_id) if user_id else None
    if user is None or user.role != "admin" or not user.active:
        raise Forbidden("Only an administrator can do this")
    return user


def list_users(session: Session, tenant_id: int) -> list[dict]:
    rows = session.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.name))
    return [dump_user(u) for u in rows]


def create_user(session: Session, tenant_id: int, data: UserIn) -> dict:
    if data.department_id is not None:
        get_department(session, tenant_id, data.department_id)
    user = User(
        tenant_id=tenant_id,
        email=data.email.lower(),
        name=data.name,
        password_hash=hasher.hash(data.password),
        role=data.role,
        department_id=data.department_id,
        active=True,
    )
    session.add(user)
    util.commit_unique(session, "A user with this e-mail already exists", "email")
    return dump_user(user)


def get_department(session: Session, tenant_id: int, department_id: int) -> Department:
    dept = session.scalar(select(Department).where(Department.id == department_id, Department.tenant_id == tenant_id))
    if dept is None:
        raise ValidationError("No such department", field="department_id")
    return dept


def list_departments(session: Session, tenant_id: int) -> list[dict]:
    rows = session.scalars(select(Department).where(Department.tenant_id == tenant_id).order_by(Department.name))
    return [dump_department(d) for d in rows]


def create_department(session: Session, tenant_id: int, data: DepartmentIn) -> dict:
    dept = Department(tenant_id=tenant_id, name=data.name)
    session.add(dept)
    util.commit_unique(session, "A department with this name already exists", "name")
    return dump_department(dept)


def ensure_tenant(session: Session, name: str, admin_email: str, admin_password: str, admin_name: str = "Administrator") -> Tenant | None:
    """First start: create the first tenant and its admin. No-op once any tenant exists."""
    if session.scalar(select(func.count()).select_from(Tenant)):
        return None
    tenant = Tenant(name=name, currency="NOK")
    session.add(tenant)
    session.flush()
    session.add(
        User(
            tenant_id=tenant.id,
            email=admin_email.strip().lower(),
            name=admin_name,
            password_hash=hasher.hash(admin_password),
            role="admin",
            active=True,
        )
    )
    session.commit()
    return tenant


