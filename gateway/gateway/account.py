"""The own account: change the password (also the forced change at first login or after a
reset), set up or remove two-factor sign-in, new recovery codes."""
from __future__ import annotations

import segno
from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from . import errors
from .auth import _safe_next
from .i18n import LANGUAGES, forget as forget_language
from .rpc import accounts
from .web import forget_session, login_required, remember_session

bp = Blueprint("account", __name__, url_prefix="/account")


def _qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as an inline SVG QR code, made here (no script, no outside service).
    The markup is segno's own (paths only): nothing a user typed appears in it as text."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#111", light="#fff",
                                                           title=None, desc=None))


@bp.get("")
@login_required
def index():
    account = accounts.get_account()
    return render_template("account/index.html", account=account, changed=request.args.get("changed") == "1",
                           errors={})


@bp.post("/language")
@login_required
def language():
    """issue 14: the user's own UI language; empty = the organisation's default (else the browser's)."""
    choice = (request.form.get("language") or "").strip() or None
    if choice is not None and choice not in LANGUAGES:
        return render_template("account/index.html", account=accounts.get_account(), changed=False,
                               errors={"language": _("Choose one of the languages.")}), 422
    remember_session(accounts.set_account_language(choice))
    forget_language()
    return redirect(url_for("account.index"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    field_errors, status = {}, 200
    next_url = request.args.get("next")
    if request.method == "POST":
        current = request.form.get("current") or ""
        new = request.form.get("new") or ""
        confirm = request.form.get("confirm") or ""
        if not current:
            field_errors["current"] = _("Enter your current password.")
        if not new:
            field_errors["new"] = _("Choose a new password.")
        elif new != confirm:
            field_errors["confirm"] = _("The two new passwords are not the same.")
        if not field_errors:
            old_user = g.user
            try:
                result = accounts.change_password(current, new)
            except errors.ValidationFailed as exc:
                field_errors = exc.field_errors
            except errors.RateLimited as exc:
                field_errors = {"current": exc.message}
            else:
                forget_session(old_user)
                remember_session(result)  # this session goes on; every other one has ended
                if result.get("must") == "enrol_totp":
                    return redirect(url_for("account.totp_setup"), code=303)
                if next_url:
                    return redirect(_safe_next(next_url), code=303)
                return redirect(url_for("account.index", changed="1"), code=303)
        status = 422
    return render_template("account/password.html", errors=field_errors, forced=g.must == "change_password"), status


@bp.route("/2fa", methods=["GET", "POST"])
@login_required
def totp_setup():
    if g.must == "change_password":
        return redirect(url_for("account.password"))
    field_errors, status = {}, 200
    if request.method == "POST":
        code = (request.form.get("code") or "").strip()
        try:
            result = accounts.totp_enable(code)
        except errors.ValidationFailed as exc:
            field_errors, status = exc.field_errors, 422
        else:
            remember_session(result)
            return render_template("account/recovery_codes.html", codes=result["recovery_codes"], first=True)
    # a fresh secret each time the page is shown (it counts once confirmed); the same one after a wrong code
    begun = accounts.totp_begin(fresh=request.method == "GET")
    return render_template("account/totp_setup.html", qr=_qr_svg(begun["uri"]), secret=begun["secret"],
                           errors=field_errors, forced=g.must == "enrol_totp"), status


@bp.post("/2fa/disable")
@login_required
def totp_disable():
    try:
        result = accounts.totp_disable(request.form.get("password") or "")
    except errors.ValidationFailed as exc:
        return render_template("account/index.html", account=accounts.get_account(), changed=False,
                               errors=exc.field_errors), 422
    remember_session(result)
    return redirect(url_for("account.index"), code=303)


@bp.post("/2fa/recovery-codes")
@login_required
def recovery_codes():
    try:
        result = accounts.regenerate_recovery_codes(request.form.get("password") or "")
    except errors.ValidationFailed as exc:
        return render_template("account/index.html", account=accounts.get_account(), changed=False,
                               errors={"codes_password": next(iter(exc.field_errors.values()), exc.message)}), 422
    return render_template("account/recovery_codes.html", codes=result["recovery_codes"], first=False)
