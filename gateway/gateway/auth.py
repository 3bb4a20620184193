"""Login (password, then the second factor when the user has one; the tenant when the
e-mail exists in several), and logout (ends every session of the user)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask import Blueprint, g, redirect, render_template, request, session, url_for

from . import errors
from .rpc import accounts
from .web import forget_session, remember_session

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if not target:
        return url_for("companies.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("companies.index")
    return target


def _signed_in(result: dict, next_url: str | None):
    session.clear()  # a fresh session (and CSRF token) on every login
    session.permanent = True
    remember_session(result)
    if result.get("must") == "change_password":
        return redirect(url_for("account.password", next=_safe_next(next_url)), code=303)
    if result.get("must") == "enrol_totp":
        return redirect(url_for("account.totp_setup"), code=303)
    return redirect(_safe_next(next_url), code=303)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    email = ""
    status = 200
    tenants = None
    next_url = request.args.get("next")
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()
        password = request.form.get("password") or ""
        tenant = (request.form.get("tenant") or "").strip() or None
        if not email or not password:
            error, status = _("Enter your e-mail and password."), 422
        else:
            try:
                result = accounts.login(email, password, tenant)
            except errors.Unauthenticated as exc:
                error, status = errors.say(exc.message), 401
            except errors.RateLimited as exc:
                error, status = errors.say(exc.message), 429
            except errors.ValidationFailed:
                error, status = _("Enter a valid e-mail and password."), 422
            else:
                if result["status"] == "ok":
                    return _signed_in(result, next_url)
                if result["status"] == "totp":
                    session.clear()
                    session["pending_2fa"] = {"challenge": result["challenge"], "next": _safe_next(next_url)}
                    return redirect(url_for("auth.second_factor"), code=303)
                tenants = result["tenants"]
                error, status = _("This e-mail signs in to several organisations. Choose one and enter the "
                                  "password again."), 409
    return render_template("auth/login.html", error=error, email=email, tenants=tenants), status


@bp.route("/login/2fa", methods=["GET", "POST"])
def second_factor():
    pending = session.get("pending_2fa")
    if not pending:
        return redirect(url_for("auth.login"))
    error, status = None, 200
    if request.method == "POST":
        code = (request.form.get("code") or "").strip()
        if not code:
            error, status = _("Enter the 6-digit code from your authenticator app, or a recovery code."), 422
        else:
            try:
                result = accounts.login_totp(pending["challenge"], code)
            except errors.Unauthenticated as exc:
                if "expired" in exc.message:
                    session.pop("pending_2fa", None)
                    return render_template("auth/login.html", error=errors.say(exc.message), email="", tenants=None), 401
                error, status = errors.say(exc.message), 401
            except errors.ValidationFailed:
                error, status = _("Enter the 6-digit code from your authenticator app, or a recovery code."), 422
            else:
                return _signed_in(result, pending.get("next"))
    return render_template("auth/second_factor.html", error=error), status


@bp.post("/logout")
def logout():
    user = g.get("user")
    if user:
        try:
            accounts.logout()  # ends this user's sessions everywhere
        except errors.GatewayError:
            pass  # the cookie goes anyway; the version is bumped at the next password change
        forget_session(user)
    session.clear()
    return redirect(url_for("auth.login"), code=303)
