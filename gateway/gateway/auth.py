"""Login and logout."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for

from . import errors, rpc

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if not target:
        return url_for("companies.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("companies.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    email = ""
    status = 200
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()
        password = request.form.get("password") or ""
        if not email or not password:
            error, status = "Enter your e-mail and password.", 422
        else:
            try:
                result = rpc.login(email, password, request.remote_addr)
            except errors.Unauthenticated as exc:
                error, status = exc.message, 401
            except errors.RateLimited as exc:
                error, status = exc.message, 429
            except errors.ValidationFailed:
                error, status = "Enter a valid e-mail and password.", 422
            else:
                session.clear()  # a fresh session (and CSRF token) on every login
                session.permanent = True
                session["user"] = result["user"]
                session["tenant"] = result["tenant"]
                return redirect(_safe_next(request.args.get("next")), code=303)
    return render_template("auth/login.html", error=error, email=email), status


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"), code=303)
