"""Tenants, coworkers, departments, login, sessions, passwords and 2FA. Plain logic: no nameko here.

Sessions: every user has a ``session_version``; the gateway keeps it in the
session cookie and checks it on each request (``session_state``, cached for a
few seconds). Logging out, a password change or reset, a role change and
deactivation bump it, which ends every session of that user at once.

Lockout without denial of service: failed passwords are counted per
(account, client address) and per client address, never per account alone,
so somebody guessing from elsewhere cannot lock the real user out.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn  # loads its dictionaries once, at start (not inside the first request)
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from . import collation, totp, util
from .exceptions import Forbidden, NotFound, RateLimited, Unauthenticated, ValidationError
from .models import Department, LoginAttempt, LoginChallenge, RecoveryCode, Tenant, User
from .schemas import (AccountLanguageIn, DepartmentIn, LoginIn, PasswordChangeIn, PasswordResetIn, TenantSettingsIn, TotpLoginIn, UserChanges,
                      UserIn, dump_department, dump_user)

hasher = PasswordHasher()
_DUMMY_HASH = hasher.hash("not-a-real-password")

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT_CLIENT = 5  # wrong passwords for one account from one client address
MAX_PER_CLIENT = 30  # wrong passwords from one client address, any account
MAX_PASSWORD_CHECKS = 10  # wrong "current password" on the account page
CHALLENGE_TTL = timedelta(minutes=5)
CHALLENGE_TRIES = 5
MIN_PASSWORD = 12
WRONG_LOGIN = "Wrong e-mail or password"


def now() -> datetime:
    return datetime.now(timezone.utc)


# -- password rules ----------------------------------------------------------
def password_problem(password: str, personal: list[str] = ()) -> str | None:
    """Why ``password`` is too weak, in plain words, or None."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters (this one has {len(password)})."
    if len(set(password)) < 4:
        return "Use more different characters."
    result = zxcvbn(password[:100], user_inputs=[p for p in personal if p])
    if result["score"] >= 3:
        return None
    feedback = result.get("feedback") or {}
    words = [feedback.get("warning") or "This password is easy to guess."]
    words += feedback.get("suggestions") or []
    text = " ".join(w.strip() if w.strip().endswith(".") else w.strip() + "." for w in words if w and w.strip())
    return f"Too easy to guess. {text} A few unrelated words together make a strong password."


def check_password(password: str, personal: list[str] = (), field: str = "password") -> None:
    problem = password_problem(password, personal)
    if problem:
        raise ValidationError(problem, field=field)


def _personal(email: str, name: str = "", tenant: str = "") -> list[str]:
    return [email, email.split("@")[0], *name.split(), *tenant.split()]


def _verify(hash_: str | None, password: str) -> bool:
    try:
        return hasher.verify(hash_ or _DUMMY_HASH, password) and hash_ is not None
    except (VerificationError, InvalidHashError):
        return False


def _set_password(user: User, password: str, must_change: bool) -> None:
    user.password_hash = hasher.hash(password)
    user.must_change_password = must_change
    user.password_changed_at = now()
    _end_sessions(user)


def _end_sessions(user: User) -> None:
    user.session_version = (user.session_version or 1) + 1


# -- rate limiting -------------------------------------------------------------
def _failures(session: Session, key: str, since: datetime) -> int:
    return session.scalar(select(func.count()).where(LoginAttempt.key == key, LoginAttempt.at >= since)) or 0


def _fail(session: Session, keys: list[str]) -> None:
    at = now()
    session.execute(delete(LoginAttempt).where(LoginAttempt.key.in_(keys), LoginAttempt.at < at - WINDOW))
    session.add_all(LoginAttempt(key=k, at=at) for k in keys)
    session.commit()


def _limited(message: str) -> RateLimited:
    return RateLimited(message, retry_after=int(WINDOW.total_seconds()))


def _login_keys(email: str, client: str | None) -> tuple[str, str | None]:
    return f"acct:{email}|{client or '-'}"[:340], (f"ip:{client}" if client else None)


# -- login ---------------------------------------------------------------------
def login(session: Session, data: LoginIn) -> dict:
    """Check e-mail and password (client address from the gateway's token in ``data.ip``).

    -> ``{"status": "ok", "user", "tenant", "must"}`` (a session may start),
    ``{"status": "totp", "challenge"}`` (the second factor is asked next: ``login_totp``), or
    ``{"status": "choose_tenant", "tenants": [{"slug", "name"}]}`` (the e-mail and password
    are right in several tenants; send again with ``tenant``)."""
    email = data.email.strip().lower()
    account_key, client_key = _login_keys(email, data.ip)
    since = now() - WINDOW
    if _failures(session, account_key, since) >= MAX_PER_ACCOUNT_CLIENT:
        raise _limited("Too many wrong passwords for this account from here. Wait 15 minutes, "
                       "or sign in from another device.")
    if client_key and _failures(session, client_key, since) >= MAX_PER_CLIENT:
        raise _limited("Too many failed logins from your network. Wait 15 minutes and try again.")
    stmt = select(User).join(Tenant, Tenant.id == User.tenant_id).where(User.email == email).order_by(User.id)
    if data.tenant:
        stmt = stmt.where(Tenant.slug == data.tenant.strip().lower())
    candidates = list(session.scalars(stmt.limit(20)))
    if not candidates:
        _verify(None, data.password)  # the same time as a real check
    matches = [u for u in candidates if _verify(u.password_hash, data.password) and u.active]
    if not matches:
        _fail(session, [k for k in (account_key, client_key) if k])
        raise Unauthenticated(WRONG_LOGIN)
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == account_key))
    if len(matches) > 1:
        session.commit()
        tenants = session.scalars(select(Tenant).where(Tenant.id.in_([u.tenant_id for u in matches])).order_by(Tenant.name))
        return {"status": "choose_tenant", "tenants": [{"slug": t.slug, "name": t.name} for t in tenants]}
    user = matches[0]
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(data.password)
    if user.totp_secret:
        token = secrets.token_urlsafe(32)
        session.execute(delete(LoginChallenge).where(LoginChallenge.user_id == user.id, LoginChallenge.expires_at < now()))
        session.add(LoginChallenge(id=_digest(token), tenant_id=user.tenant_id, user_id=user.id, client=data.ip,
                                   expires_at=now() + CHALLENGE_TTL, attempts=0))
        session.commit()
        return {"status": "totp", "challenge": token}
    session.commit()
    return session_result(session, user)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_totp(session: Session, data: TotpLoginIn, client: str | None) -> dict:
    """The second step: a 6-digit code from the authenticator app, or a recovery code."""
    expired = Unauthenticated("The sign-in has expired. Enter your e-mail and password again.")
    challenge = session.get(LoginChallenge, _digest(data.challenge))
    if challenge is None or util.aware(challenge.expires_at) < now() or (challenge.client or None) != (client or None):
        raise expired
    if challenge.attempts >= CHALLENGE_TRIES:
        session.delete(challenge)
        session.commit()
        raise expired
    user = session.get(User, challenge.user_id)
    if user is None or not user.active or not user.totp_secret:
        raise expired
    ok = False
    step = totp.matching_step(user.totp_secret, data.code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        ok = True
    elif totp.looks_like_recovery(data.code):
        code = session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                          RecoveryCode.code_hash == totp.hash_recovery(data.code),
                                                          RecoveryCode.used_at.is_(None)))
        if code is not None:
            code.used_at = now()
            ok = True
    if not ok:
        challenge.attempts += 1
        left = CHALLENGE_TRIES - challenge.attempts
        session.commit()
        if left <= 0:
            raise expired
        raise Unauthenticated(f"Wrong code. Check the time on your phone and try again ({left} tries left).")
    session.delete(challenge)
    session.commit()
    return session_result(session, user)


def session_result(session: Session, user: User) -> dict:
    tenant = session.get(Tenant, user.tenant_id)
    must = None
    if user.must_change_password:
        must = "change_password"
    elif tenant.require_2fa and not user.totp_secret:
        must = "enrol_totp"
    return {
        "status": "ok",
        "user": {**dump_user(user), "session_version": user.session_version},
        "tenant": dump_tenant(tenant),
        "must": must,
    }


def dump_tenant(t: Tenant) -> dict:
    return {"id": t.id, "name": t.name, "currency": t.currency, "slug": t.slug, "require_2fa": bool(t.require_2fa),
            "language": t.language, "timezone": t.timezone}


def session_state(session: Session, tenant_id: int, user_id: int | None, version) -> dict:
    """The session's user as it is now, or Unauthenticated when the session was ended
    (logged out, password changed or reset, role changed, deactivated)."""
    user = session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id)) if user_id else None
    if user is None or not user.active or version != user.session_version:
        raise Unauthenticated("Your session has ended. Log in again.")
    return session_result(session, user)


def logout(session: Session, tenant_id: int, user_id: int | None) -> dict:
    """End every session of the caller (on every device)."""
    user = get_user(session, tenant_id, user_id)
    _end_sessions(user)
    session.commit()
    return {"ended": True}


def change_password(session: Session, tenant_id: int, user_id: int | None, data: PasswordChangeIn) -> dict:
    """The caller's own password (current + new). Ends the user's other sessions:
    the result carries the new session version for the session that asked."""
    user = get_user(session, tenant_id, user_id)
    key = f"pw:{user.id}"
    if _failures(session, key, now() - WINDOW) >= MAX_PASSWORD_CHECKS:
        raise _limited("Too many wrong passwords. Wait 15 minutes and try again.")
    if not _verify(user.password_hash, data.current):
        _fail(session, [key])
        raise ValidationError("That is not your current password.", field="current")
    if data.new == data.current:
        raise ValidationError("Choose a password different from the current one.", field="new")
    tenant = session.get(Tenant, tenant_id)
    check_password(data.new, _personal(user.email, user.name, tenant.name), field="new")
    _set_password(user, data.new, must_change=False)
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))
    session.commit()
    return session_result(session, user)


def get_user(session: Session, tenant_id: int, user_id: int | None) -> User:
    user = session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id)) if user_id else None
    if user is None:
        raise NotFound("No such user", id=user_id)
    return user


def require_admin(session: Session, tenant_id: int, user_id: int | None) -> User:
    user = session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id)) if user_id else None
    if user is None or user.role != "admin" or not user.active:
        raise Forbidden("Only an administrator can do this")
    return user


def list_users(session: Session, tenant_id: int) -> list[dict]:
    rows = session.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.name))
    return [dump_user(u) for u in rows]


def create_user(session: Session, tenant_id: int, data: UserIn) -> dict:
    """A new coworker with a first password from the admin: they set their own at first login."""
    if data.department_id is not None:
        get_department(session, tenant_id, data.department_id)
    email = data.email.lower()
    check_password(data.password, _personal(email, data.name))
    user = User(tenant_id=tenant_id, email=email, name=data.name, password_hash=hasher.hash(data.password),
                role=data.role, department_id=data.department_id, active=True, session_version=1,
                must_change_password=True, password_changed_at=now())
    session.add(user)
    util.commit_unique(session, "A coworker with this e-mail already exists", "email")
    return dump_user(user)


def update_user(session: Session, tenant_id: int, admin_id: int | None, user_id: int, changes: UserChanges) -> dict:
    """Edit a coworker (name, e-mail, role, department, active). A new role, a new e-mail or
    deactivation ends the coworker's sessions at once."""
    require_admin(session, tenant_id, admin_id)
    user = get_user(session, tenant_id, user_id)
    sent = changes.model_fields_set
    if user.id == admin_id and (("role" in sent and changes.role != user.role) or ("active" in sent and not changes.active)):
        raise ValidationError("You cannot change your own role or deactivate yourself. Ask another administrator.",
                              field="role" if "role" in sent and changes.role != user.role else "active")
    if "department_id" in sent and changes.department_id is not None:
        get_department(session, tenant_id, changes.department_id)
    end = False
    for name in sent:
        value = getattr(changes, name)
        if name == "email":
            value = value.lower()
        if getattr(user, name) != value:
            end = end or name in ("role", "email", "active")
            setattr(user, name, value)
    if end:
        _end_sessions(user)
    util.commit_unique(session, "A coworker with this e-mail already exists", "email")
    return dump_user(user)


def reset_password(session: Session, tenant_id: int, admin_id: int | None, user_id: int, data: PasswordResetIn) -> dict:
    """An admin sets a temporary password: the coworker's sessions end and they must
    choose their own at next login. ``remove_2fa`` also removes their authenticator."""
    require_admin(session, tenant_id, admin_id)
    user = get_user(session, tenant_id, user_id)
    check_password(data.password, _personal(user.email, user.name))
    _set_password(user, data.password, must_change=True)
    if data.remove_2fa:
        _remove_totp(session, user)
    session.commit()
    return dump_user(user)


# -- 2FA -------------------------------------------------------------------------
def get_account(session: Session, tenant_id: int, user_id: int | None) -> dict:
    user = get_user(session, tenant_id, user_id)
    left = session.scalar(select(func.count()).select_from(RecoveryCode)
                          .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0
    return {**session_result(session, user), "totp_enabled": bool(user.totp_secret), "recovery_codes_left": left,
            "password_changed_at": util.iso(user.password_changed_at)}


def totp_begin(session: Session, tenant_id: int, user_id: int | None, fresh: bool = True) -> dict:
    """A secret to enrol, kept pending until a code from it is confirmed: a fresh one, or
    (``fresh=False``, after a mistyped code) the pending one again."""
    user = get_user(session, tenant_id, user_id)
    if fresh or not user.totp_pending_secret:
        user.totp_pending_secret = totp.new_secret()
    tenant = session.get(Tenant, tenant_id)
    session.commit()
    return {"secret": user.totp_pending_secret,
            "uri": totp.provisioning_uri(user.totp_pending_secret, user.email, tenant.name)}


def totp_enable(session: Session, tenant_id: int, user_id: int | None, code: str) -> dict:
    """Confirm enrolment with a code from the app -> ten recovery codes, shown once."""
    user = get_user(session, tenant_id, user_id)
    if not user.totp_pending_secret:
        raise ValidationError("Start the set-up again: scan the new QR code.", field="code")
    step = totp.matching_step(user.totp_pending_secret, code, None)
    if step is None:
        raise ValidationError("That code is not right. Enter the 6 digits your app shows now.", field="code")
    user.totp_secret, user.totp_pending_secret, user.totp_last_step = user.totp_pending_secret, None, step
    codes = _new_recovery_codes(session, user)
    session.commit()
    return {**session_result(session, user), "recovery_codes": codes}


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    session.add_all(RecoveryCode(tenant_id=user.tenant_id, user_id=user.id, code_hash=totp.hash_recovery(c)) for c in codes)
    return codes


def totp_disable(session: Session, tenant_id: int, user_id: int | None, password: str) -> dict:
    user = get_user(session, tenant_id, user_id)
    tenant = session.get(Tenant, tenant_id)
    if tenant.require_2fa:
        raise Forbidden("Your organisation requires two-factor sign-in for everyone.")
    if not _verify(user.password_hash, password):
        raise ValidationError("That is not your current password.", field="password")
    _remove_totp(session, user)
    session.commit()
    return session_result(session, user)


def regenerate_recovery_codes(session: Session, tenant_id: int, user_id: int | None, password: str) -> dict:
    user = get_user(session, tenant_id, user_id)
    if not user.totp_secret:
        raise ValidationError("Turn on two-factor sign-in first.", field="password")
    if not _verify(user.password_hash, password):
        raise ValidationError("That is not your current password.", field="password")
    codes = _new_recovery_codes(session, user)
    session.commit()
    return {"recovery_codes": codes}


def _remove_totp(session: Session, user: User) -> None:
    user.totp_secret = user.totp_pending_secret = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


# -- tenant settings -----------------------------------------------------------
def get_tenant_settings(session: Session, tenant_id: int) -> dict:
    tenant = session.get(Tenant, tenant_id)
    without = session.scalar(select(func.count()).select_from(User).where(
        User.tenant_id == tenant_id, User.active.is_(True), User.totp_secret.is_(None))) or 0
    return {**dump_tenant(tenant), "users_without_2fa": without}


def set_tenant_settings(session: Session, tenant_id: int, admin_id: int | None, data: TenantSettingsIn) -> dict:
    require_admin(session, tenant_id, admin_id)
    tenant = session.get(Tenant, tenant_id)
    if data.require_2fa is not None:
        tenant.require_2fa = data.require_2fa
    fields = data.model_fields_set
    if "language" in fields:
        before = collation.language(tenant.language, tenant.currency)
        tenant.language = data.language
        if collation.language(tenant.language, tenant.currency) != before:  # issue 13: names sort anew
            collation.rekey_tenant(session, tenant_id)
    if "timezone" in fields:
        tenant.timezone = data.timezone
    session.commit()
    return get_tenant_settings(session, tenant_id)


def set_account_language(session: Session, tenant_id: int, user_id: int | None, data: AccountLanguageIn) -> dict:
    """issue 14: the caller's own UI language (None = the tenant's default) -> the session result."""
    user = get_user(session, tenant_id, user_id)
    user.language = data.language
    session.commit()
    return session_result(session, user)


# -- departments -------------------------------------------------------------------
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


# -- tenants -------------------------------------------------------------------------
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")


def slugify(name: str) -> str:
    from unidecode import unidecode

    return re.sub(r"[^a-z0-9]+", "-", unidecode(name).lower()).strip("-")[:50] or "tenant"


def create_tenant(session: Session, name: str, admin_email: str, admin_name: str = "Administrator",
                  admin_password: str | None = None, slug: str | None = None, currency: str = "NOK",
                  must_change: bool = True, check: bool = True) -> tuple[Tenant, User, str]:
    """A tenant and its first admin -> (tenant, admin, password). Without ``admin_password``
    a random one is made. The admin sets their own at first login unless ``must_change`` is off."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise ValidationError("Give the tenant a name (1 to 200 characters)", field="name")
    slug = (slug or slugify(name)).strip().lower()
    if not SLUG.match(slug):
        raise ValidationError("A slug is lower-case letters, digits and dashes", field="slug")
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise ValidationError(f"The slug {slug!r} is taken; choose another with --slug", field="slug")
    if not re.match(r"^[A-Z]{3}$", currency):
        raise ValidationError("A currency is three capital letters (NOK, SEK, DKK, GBP)", field="currency")
    email = admin_email.strip().lower()
    if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        raise ValidationError("Give a valid e-mail address for the admin", field="admin_email")
    password = admin_password or "-".join(secrets.token_urlsafe(6) for _ in range(3))
    if check:
        check_password(password, _personal(email, admin_name, name), field="admin_password")
    tenant = Tenant(name=name, currency=currency, slug=slug, require_2fa=False)
    session.add(tenant)
    session.flush()
    admin = User(tenant_id=tenant.id, email=email, name=admin_name, password_hash=hasher.hash(password), role="admin",
                 active=True, session_version=1, must_change_password=must_change, password_changed_at=now())
    session.add(admin)
    session.commit()
    return tenant, admin, password


def ensure_tenant(session: Session, name: str, admin_email: str, admin_password: str, admin_name: str = "Administrator",
                  must_change: bool = True) -> Tenant | None:
    """First start: create the first tenant and its admin. No-op once any tenant exists.
    The bootstrap password is not checked for strength (it must be changed at first login)."""
    if session.scalar(select(func.count()).select_from(Tenant)):
        return None
    tenant, _admin, _pw = create_tenant(session, name, admin_email, admin_name, admin_password,
                                        must_change=must_change, check=False)
    return tenant


def bump_all_sessions(session: Session, tenant_id: int) -> None:  # pragma: no cover - operator helper
    session.execute(update(User).where(User.tenant_id == tenant_id).values(session_version=User.session_version + 1))
    session.commit()
