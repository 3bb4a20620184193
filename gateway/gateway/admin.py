"""Administration: coworkers and departments (admins only)."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from . import errors, rpc
from .web import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    form, field_errors, status, created = {}, {}, 200, None
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in ("email", "name", "password", "role", "department_id")}
        payload = {**form, "department_id": int(form["department_id"]) if form["department_id"].isdigit() else None}
        try:
            created = rpc.create_user(payload)
            form = {}
        except errors.ValidationFailed as exc:
            field_errors, status = exc.field_errors, 422
    return render_template("admin/users.html", users=rpc.list_users(), departments=rpc.list_departments(),
                           form=form, errors=field_errors, created=created), status


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


ATTRIBUTE_TYPES = [("bool", "Yes / no"), ("stars", "Stars (1–5)"), ("text", "Text"),
                   ("dropdown", "Dropdown (one of a list)"), ("multi", "Multiple choice (several of a list)")]


@bp.route("/attributes", methods=["GET", "POST"])
@admin_required
def attributes():
    """Company attributes: defined here, set on each company's card, filterable in the overview."""
    form, field_errors, status = {}, {}, 200
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in ("name", "type", "options")}
        options = [o.strip() for o in form["options"].replace("\n", ",").split(",") if o.strip()]
        if not form["name"]:
            field_errors["name"] = "A name is required."
        if form["type"] not in dict(ATTRIBUTE_TYPES):
            field_errors["type"] = "Choose a type."
        elif form["type"] in ("dropdown", "multi") and not options:
            field_errors["options"] = "List the options, separated by commas."
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
