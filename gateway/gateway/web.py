"""Request plumbing shared by every blueprint: the logged-in user, CSRF,
htmx full-page-or-fragment rendering, error pages and toasts, security headers."""
from __future__ import annotations

import functools
import threading
from urllib.parse import urlsplit
import time

from flask import Flask, g, redirect, render_template, request, session, url_for
from werkzeug.routing import IntegerConverter
from flask_wtf.csrf import CSRFError, CSRFProtect
from flask_babel import gettext as _, lazy_gettext as _l

from . import errors

csrf = CSRFProtect()


def is_htmx() -> bool:
    """A fragment is wanted: htmx asked, and it is not a history restore."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(full: str, fragment: str, **context):
    """The full page without htmx (or on history restore), else the fragment."""
    return render_template(fragment if is_htmx() else full, **context)


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            if is_htmx():
                return "", 401, {"HX-Redirect": url_for("auth.login", next=request.full_path)}
            return redirect(url_for("auth.login", next=request.full_path))
        if g.get("must") and request.blueprint != "account":
            # a password to change or an authenticator to set up first: nothing else until then
            target = (url_for("account.password", next=request.full_path) if g.must == "change_password"
                      else url_for("account.totp_setup"))
            if is_htmx():
                current = urlsplit(request.headers.get("HX-Current-URL", "")).path
                if current.startswith(url_for("account.index")):
                    return "", 204  # a background request of the account page itself (a bell, a poll): nothing
                if g.must == "change_password":
                    target = url_for("account.password", next=current or None)  # back to the page, not the fragment
                return "", 401, {"HX-Redirect": target}
            return redirect(target)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if g.user.get("role") != "admin":
            raise errors.Forbidden(_("Only an administrator can do this."))
        return view(*args, **kwargs)

    return wrapped


def _error_response(title: str, message: str, status: int):
    if is_htmx():
        # Errors land in the toast area wherever the request came from.
        body = render_template("_toast.html", title=title, message=message, level="error")
        return body, status, {"HX-Retarget": "#toasts", "HX-Reswap": "beforeend"}
    return render_template("error.html", title=title, message=message, status=status), status


# -- sessions (issue 11) ---------------------------------------------------------------
# The cookie holds the user and their session version; every request checks the version
# with the crm (crm.session_state), cached per process for SESSION_CHECK_SECONDS (default 3),
# so logging out, a password change or reset, a new role or deactivation end a session
# everywhere within a few seconds.
_sessions_lock = threading.Lock()


def _sessions() -> dict[tuple, tuple[float, dict]]:
    """This app's cache of checked sessions: (tenant, user, version) -> (valid until, state)."""
    from flask import current_app

    return current_app.extensions.setdefault("checked_sessions", {})


def remember_session(result: dict) -> None:
    """Start (or renew) the cookie session from a crm session result (login, password change)."""
    session["user"] = result["user"]
    session["tenant"] = result["tenant"]
    g.user, g.tenant, g.must = result["user"], result["tenant"], result.get("must")
    _cache_put(result, current_ttl())


def current_ttl() -> float:
    from flask import current_app

    return float(current_app.config.get("SESSION_CHECK_SECONDS", 3.0))


def _key(user: dict) -> tuple:
    return (user.get("tenant_id"), user.get("id"), user.get("session_version"))


def _cache_put(result: dict, ttl: float) -> None:
    with _sessions_lock:
        cache = _sessions()
        if len(cache) > 10_000:
            cache.clear()
        cache[_key(result["user"])] = (time.monotonic() + ttl, result)


def forget_session(user: dict | None) -> None:
    if user:
        with _sessions_lock:
            _sessions().pop(_key(user), None)


def _check_session(user: dict) -> dict | None:
    """The current state of the session, or None when it has ended."""
    from .rpc import accounts

    if not isinstance(user, dict) or not isinstance(user.get("session_version"), int):
        return None  # a cookie from before session versions: log in again
    with _sessions_lock:
        hit = _sessions().get(_key(user))
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    g.user = user  # the check itself is made as this user
    try:
        result = accounts.session_state(user["session_version"])
    except errors.Unauthenticated:
        forget_session(user)
        return None
    _cache_put(result, current_ttl())
    return result


MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: 1 to 2**31-1, else the route does not match (404),
    so a 20-digit id never reaches a service."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.url_map.converters["int"] = IdConverter

    @app.before_request
    def load_user():
        g.user, g.tenant, g.must = None, None, None
        user = session.get("user")
        if not user or request.endpoint in ("static", "health.healthz"):
            return
        state = _check_session(user)
        if state is None:
            session.clear()
            g.user = None
            return
        if state["user"] != user or state["tenant"] != session.get("tenant"):
            session["user"], session["tenant"] = state["user"], state["tenant"]  # a new name or role shows at once
        g.user, g.tenant, g.must = state["user"], state["tenant"], state.get("must")

    @app.after_request
    def headers(response):
        response.headers.add("Vary", "HX-Request")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        if g.get("user") is not None:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(exc):
        return _error_response(
            _("Your session has expired"),
            _("The form was too old or came from elsewhere. Reload the page and try again."),
            400,
        )

    @app.errorhandler(errors.Unauthenticated)
    def unauthenticated(exc):
        session.clear()
        if is_htmx():
            return "", 401, {"HX-Redirect": url_for("auth.login")}
        return redirect(url_for("auth.login"))

    @app.errorhandler(errors.GatewayError)
    def gateway_error(exc: errors.GatewayError):
        if exc.status >= 500:
            app.logger.warning("service error: %s (%s)", exc.message, type(exc).__name__)
        return _error_response(str(exc.title), errors.say(exc.message), exc.status)

    @app.errorhandler(404)
    def not_found(exc):
        return _error_response(_("Not found"), _("That page does not exist."), 404)

    @app.errorhandler(413)
    def too_large(exc):
        return _error_response(_("Too large"), _("The upload is larger than allowed."), 413)

    @app.context_processor
    def inject():
        return {"current_user": g.get("user"), "current_tenant": g.get("tenant"), "is_htmx": is_htmx()}
