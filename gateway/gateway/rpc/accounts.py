"""Remote operations of sessions and accounts (crm, issue 11): login steps, the
per-request session check, passwords, two-factor sign-in, coworkers admin."""
from __future__ import annotations

from . import call


# -- signing in (the gateway's own identity: nobody is logged in yet) ---------------------
def login(email: str, password: str, tenant: str | None = None):
    """-> {"status": "ok", "user", "tenant", "must"} | {"status": "totp", "challenge"}
    | {"status": "choose_tenant", "tenants": [{"slug", "name"}]}"""
    data = {"email": email, "password": password}
    if tenant:
        data["tenant"] = tenant
    return call("crm", "login", data)


def login_totp(challenge: str, code: str):
    return call("crm", "login_totp", {"challenge": challenge, "code": code})


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
    return call("crm", "change_password", {"current": current, "new": new})


def totp_begin(fresh: bool = True):
    return call("crm", "totp_begin", {"fresh": fresh})


def totp_enable(code: str):
    return call("crm", "totp_enable", {"code": code})


def totp_disable(password: str):
    return call("crm", "totp_disable", {"password": password})


def regenerate_recovery_codes(password: str):
    return call("crm", "regenerate_recovery_codes", {"password": password})


# -- coworkers admin ----------------------------------------------------------------------
def update_user(user_id: int, changes: dict):
    return call("crm", "update_user", user_id, changes)


def reset_password(user_id: int, password: str, remove_2fa: bool = False):
    return call("crm", "reset_password", user_id, {"password": password, "remove_2fa": remove_2fa})


def get_tenant_settings():
    return call("crm", "get_tenant_settings")


def set_tenant_settings(require_2fa: bool):
    return call("crm", "set_tenant_settings", {"require_2fa": require_2fa})
