"""Administration: coworkers (add, edit, deactivate, reactivate, role, password reset),
sign-in security, departments and attributes (admins only)."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask import Blueprint, g, redirect, render_template, request, url_for

from . import errors, rpc
from .forms import Form
from .rpc import accounts
from .web import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    """The coworkers, and the form that adds one. A refused form comes back with every value kept (but the
    password) and each error at its field, in words (issue 15), as the card's forms show them."""
    form, field_errors, status, created = {}, {}, 200, None
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in ("email", "name", "role", "department_id")}
        checked = Form(request.form)
        payload = _new_coworker(checked)
        if checked.ok:
            try:
                created = accounts.create_user(payload)
                form = {}
            except errors.ValidationFailed as exc:
                checked.errors.update(exc.field_errors)
        field_errors = checked.errors
        status = 422 if field_errors else 200
    return render_template("admin/users.html", users=rpc.list_users(), departments=rpc.list_departments(),
                           form=form, errors=field_errors, created=created), status


MIN_PASSWORD = 12  # as the crm's password rules (crm/auth.py), said at the field before the crm is asked


def _new_coworker(form: Form) -> dict:
    """The add-coworker form checked here first, so each field says what is wrong in the user's language."""
    password = request.form.get("password") or ""
    if not password:
        form.error("password", _("Choose a first password."))
    elif len(password) < MIN_PASSWORD:
        form.error("password", _("Use at least %(min)s characters (this one has %(n)s).", min=MIN_PASSWORD,
                                 n=len(password)))
    elif len(password) > 1024:
        form.error("password", _("At most %(n)s characters.", n=1024))
    return {"name": form.text("name", required=True, max_len=200, label=_("Name")),
            "email": form.email("email", required=True),
            "password": password,
            "role": form.choice("role", ("user", "admin"), default="user"),
            "department_id": form.integer("department_id", min_value=1, max_value=2147483647)}


def _coworker(user_id: int) -> dict:
    for u in rpc.list_users():
        if u["id"] == user_id:
            return u
    raise errors.NotFound(_("No such coworker."))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id: int):
    """Edit a coworker. A new role, a new e-mail or deactivation signs them out at once."""
    found = _coworker(user_id)
    form, field_errors, status, saved = dict(found), {}, 200, request.args.get("saved")
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in ("email", "name", "role", "department_id")}
        form["active"] = request.form.get("active") == "1"
        dept = form["department_id"]
        changes = {**form, "department_id": int(dept) if dept.isdigit() else None}
        try:
            accounts.update_user(user_id, changes)
        except errors.ValidationFailed as exc:
            field_errors, status = exc.field_errors, 422
            form["department_id"] = int(dept) if dept.isdigit() else None
        else:
            return redirect(url_for("admin.user", user_id=user_id, saved="details"), code=303)
    return render_template("admin/user.html", coworker=found, form=form, errors=field_errors,
                           departments=rpc.list_departments(), saved=saved, me=g.user["id"] == user_id), status


@bp.post("/users/<int:user_id>/active")
@admin_required
def user_active(user_id: int):
    """Deactivate (signs them out at once; they cannot log in) or reactivate."""
    active = request.form.get("active") == "1"
    try:
        accounts.update_user(user_id, {"active": active})
    except errors.ValidationFailed as exc:
        return render_template("admin/user.html", coworker=_coworker(user_id), form=_coworker(user_id),
                               errors=exc.field_errors, departments=rpc.list_departments(), saved=None,
                               me=g.user["id"] == user_id), 422
    return redirect(url_for("admin.user", user_id=user_id, saved="reactivated" if active else "deactivated"), code=303)


@bp.post("/users/<int:user_id>/password")
@admin_required
def user_password(user_id: int):
    """A temporary password: the coworker is signed out and sets their own at next login."""
    found = _coworker(user_id)
    password = request.form.get("password") or ""
    try:
        accounts.reset_password(user_id, password, remove_2fa=request.form.get("remove_2fa") == "1")
    except errors.ValidationFailed as exc:
        reset_errors = {"reset_" + k: v for k, v in exc.field_errors.items()}
        return render_template("admin/user.html", coworker=found, form=found, errors=reset_errors,
                               departments=rpc.list_departments(), saved=None, me=g.user["id"] == user_id), 422
    return redirect(url_for("admin.user", user_id=user_id, saved="password"), code=303)


@bp.route("/security", methods=["GET", "POST"])
@admin_required
def security():
    """Tenant-wide sign-in rules: require two-factor sign-in for everyone."""
    if request.method == "POST":
        accounts.set_tenant_settings(request.form.get("require_2fa") == "1")
        return redirect(url_for("admin.security", saved="1"), code=303)
    return render_template("admin/security.html", settings=accounts.get_tenant_settings(),
                           saved=request.args.get("saved") == "1", zones=TIME_ZONES, errors={})


# issue 14: the tenant's default language and time zone (a user's own language wins; empty = browser / gateway)
TIME_ZONES = ("Europe/Oslo", "Europe/Stockholm", "Europe/Copenhagen", "Europe/London", "Europe/Helsinki", "UTC")


@bp.post("/regional")
@admin_required
def regional():
    from .i18n import LANGUAGES
    from .web import forget_session

    language = (request.form.get("language") or "").strip() or None
    timezone = (request.form.get("timezone") or "").strip() or None
    field_errors = {}
    if language is not None and language not in LANGUAGES:
        field_errors["language"] = _("Choose one of the languages.")
    if timezone is not None and timezone not in TIME_ZONES:
        field_errors["timezone"] = _("Choose one of the time zones.")
    if field_errors:
        return render_template("admin/security.html", settings=accounts.get_tenant_settings(), saved=False,
                               zones=TIME_ZONES, errors=field_errors), 422
    accounts.set_tenant_regional(language, timezone)
    forget_session(g.user)  # the next request reads the tenant's new defaults
    return redirect(url_for("admin.security", saved="1"), code=303)


@bp.route("/departments", methods=["GET", "POST"])
@admin_required
def departments():
    form, field_errors, status = {}, {}, 200
    if request.method == "POST":
        form = {"name": (request.form.get("name") or "").strip()}
        try:
            rpc.create_department(form)
            form = {}
        except errors.ValidationFailed as exc:
            field_errors, status = exc.field_errors, 422
    return render_template("admin/departments.html", departments=rpc.list_departments(), form=form,
                           errors=field_errors), status


ATTRIBUTE_TYPES = [("bool", _l("Yes / no")), ("stars", _l("Stars (1–5)")), ("text", _l("Text")),
                   ("dropdown", _l("Dropdown (one of a list)")), ("multi", _l("Multiple choice (several of a list)"))]


@bp.route("/attributes", methods=["GET", "POST"])
@admin_required
def attributes():
    """Company attributes: defined here, set on each company's card, filterable in the overview."""
    form, field_errors, status = {}, {}, 200
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in ("name", "type", "options")}
        options = [o.strip() for o in form["options"].replace("\n", ",").split(",") if o.strip()]
        if not form["name"]:
            field_errors["name"] = _("A name is required.")
        if form["type"] not in dict(ATTRIBUTE_TYPES):
            field_errors["type"] = _("Choose a type.")
        elif form["type"] in ("dropdown", "multi") and not options:
            field_errors["options"] = _("List the options, separated by commas.")
        if not field_errors:
            try:
                rpc.create_attribute({"name": form["name"], "type": form["type"],
                                      "options": options if form["type"] in ("dropdown", "multi") else []})
                form = {}
            except errors.ValidationFailed as exc:
                field_errors = exc.field_errors
        if field_errors:
            status = 422
    return render_template("admin/attributes.html", attributes=rpc.list_attributes(), form=form,
                           errors=field_errors, types=ATTRIBUTE_TYPES), status
