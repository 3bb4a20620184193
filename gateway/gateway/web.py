"""Request plumbing shared by every blueprint: the logged-in user, CSRF,
htmx full-page-or-fragment rendering, error pages and toasts, security headers."""
from __future__ import annotations

import functools

from flask import Flask, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

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
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if g.user.get("role") != "admin":
            raise errors.Forbidden("Only an administrator can do this.")
        return view(*args, **kwargs)

    return wrapped


def _error_response(title: str, message: str, status: int):
    if is_htmx():
        # Errors land in the toast area wherever the request came from.
        body = render_template("_toast.html", title=title, message=message, level="error")
        return body, status, {"HX-Retarget": "#toasts", "HX-Reswap": "beforeend"}
    return render_template("error.html", title=title, message=message, status=status), status


def init_app(app: Flask) -> None:
    csrf.init_app(app)

    @app.before_request
    def load_user():
        g.user = session.get("user")
        g.tenant = session.get("tenant")

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
            "Your session has expired",
            "The form was too old or came from elsewhere. Reload the page and try again.",
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
        return _error_response(exc.title, exc.message, exc.status)

    @app.errorhandler(404)
    def not_found(exc):
        return _error_response("Not found", "That page does not exist.", 404)

    @app.errorhandler(413)
    def too_large(exc):
        return _error_response("Too large", "The upload is larger than allowed.", 413)

    @app.context_processor
    def inject():
        return {"current_user": g.get("user"), "current_tenant": g.get("tenant"), "is_htmx": is_htmx()}
