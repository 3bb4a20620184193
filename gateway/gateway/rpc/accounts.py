"""Remote operations of sessions and accounts (crm, issue 11): login steps, the
per-request session check, passwords, two-factor sign-in, coworkers admin."""
from __future__ import annotations

from . import call

# Password hashing (argon2id) is slow on purpose: calls that check or set a password get longer.
PASSWORD_TIMEOUT = 6.0


# -- signing in (the gateway's own identity: nobody is logged in yet) ---------------------
def login(email: str, password: str, tenant: str | None = None):
    """-> {"status": "ok", "user", "tenant", "must"} | {"status": "totp", "challenge"}
    | {"status": "choose_tenant", "tenants": [{"slug", "name"}]}"""
    data = {"email": email, "password": password}
    if tenant:
        data["tenant"] = tenant
    return call("crm", "login", data, timeout=PASSWORD_TIMEOUT)


def login_totp(challenge: str, code: str):
    return call("crm", "login_totp", {"challenge": challenge, "code": code}, timeout=PASSWORD_TIMEOUT)


# -- the session ----------------------------------------------------------------------
def session_state(session_version: int):
    """The session's user as it is now; Unauthenticated once the session was ended."""
    return call("crm", "session_state", session_version)


def logout():
    return call("crm", "logout")


# -- the own account ----------------------------------------------------------------------
def get_account():
    return call("crm", "get_account")


def change_password(current: str, new: str):
    return call("crm", "change_password", {"current": current, "new": new}, timeout=PASSWORD_TIMEOUT)


def set_account_language(language: str | None):
    """issue 14: the caller's UI language (en, nb, sv, da; None = the tenant's default) -> the session result."""
    return call("crm", "set_account_language", {"language": language})


def totp_begin(fresh: bool = True):
    return call("crm", "totp_begin", {"fresh": fresh})


def totp_enable(code: str):
    return call("crm", "totp_enable", {"code": code})


def totp_disable(password: str):
    return call("crm", "totp_disable", {"password": password}, timeout=PASSWORD_TIMEOUT)


def regenerate_recovery_codes(password: str):
    return call("crm", "regenerate_recovery_codes", {"password": password}, timeout=PASSWORD_TIMEOUT)


# -- coworkers admin ----------------------------------------------------------------------
def create_user(data: dict):
    return call("crm", "create_user", data, timeout=PASSWORD_TIMEOUT)


def update_user(user_id: int, changes: dict):
    return call("crm", "update_user", user_id, changes)


def reset_password(user_id: int, password: str, remove_2fa: bool = False):
    return call("crm", "reset_password", user_id, {"password": password, "remove_2fa": remove_2fa},
                timeout=PASSWORD_TIMEOUT)


def get_tenant_settings():
    return call("crm", "get_tenant_settings")


def set_tenant_settings(require_2fa: bool):
    return call("crm", "set_tenant_settings", {"require_2fa": require_2fa})


def set_tenant_regional(language: str | None, timezone: str | None):
    """issue 14: the tenant's default UI language and time zone (None = the browser's / the gateway's)."""
    return call("crm", "set_tenant_settings", {"language": language, "timezone": timezone})
