"""The bulk bar of the overview (issue 7): dialogs for Add tags, Remove tags, Set
attributes and Change relationship on the selection, the confirmation above 50
companies, the job's progress (polled every second while it runs) and undo.

Every request carries the selection as the form field ``selection`` (JSON, see
gateway/selection.py and static/selection.js) and renders into ``#bulk-dialog``.
"""
from __future__ import annotations

import json
import uuid

from flask_babel import gettext as _, lazy_gettext as _l
from flask import Blueprint, abort, current_app, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from . import errors
from .companies import RELATIONSHIPS
from .overview import State
from .rpc import bulk as rpc_bulk
from .rpc import list_attributes
from .selection import filter_of, parse_selection
from .web import login_required

bp = Blueprint("bulk", __name__, url_prefix="/bulk")

KINDS = {
    "add_tags": _l("Add tags"),
    "remove_tags": _l("Remove tags"),
    "set_attributes": _l("Set attributes"),
    "set_relationship": _l("Change relationship"),
}
CONFIRM_ABOVE = 50
SAMPLE = 5
# Buttons of other features in the bar: (endpoint, label), shown when that feature is installed.
EXTRA_BUTTONS = (("mail.compose", _l("E-mail")), ("exports.dialog", _l("Excel report")))
LEAVE, CLEAR = "", "__clear__"


@bp.app_context_processor
def bar_context():
    def bulk_buttons():
        return [(label, url_for(endpoint)) for endpoint, label in EXTRA_BUTTONS
                if endpoint in current_app.view_functions]

    def selection_filter(state: State) -> str:
        """The overview's current search and filters as a selection filter (JSON), for "select all matching"."""
        return json.dumps(filter_of(state.to_query(1, facets=False)), separators=(",", ":"), sort_keys=True)

    return {"bulk_buttons": bulk_buttons, "bulk_kinds": KINDS, "selection_filter": selection_filter}


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _key() -> str:
    return uuid.uuid4().hex


def _posted_key() -> str:
    key = (request.form.get("idempotency_key") or "").strip()
    return key if 8 <= len(key) <= 100 and key.replace("-", "").isalnum() else _key()


def _attributes() -> list[dict]:
    return list_attributes() or []


def _dialog(kind: str, sel: dict, raw_selection: str, preview: dict, form=None, field_errors=None, status=200):
    return render_template(
        "bulk/_dialog.html", kind=kind, title=KINDS[kind], raw_selection=raw_selection, count=preview["count"],
        sample=preview["sample"], form=form if form is not None else MultiDict(), errors=field_errors or {}, key=_posted_key() if form else _key(),
        relationships=RELATIONSHIPS, attributes=_attributes() if kind == "set_attributes" else [],
        leave=LEAVE, clear=CLEAR,
    ), status


@bp.post("/dialog/<kind>")
@login_required
def dialog(kind: str):
    """The dialog for one bulk edit of the posted selection."""
    kind = _kind(kind)
    raw = request.form.get("selection") or ""
    sel = parse_selection(raw)
    preview = rpc_bulk.bulk_preview(sel, SAMPLE)
    return _dialog(kind, sel, raw, preview)


def _tags(form) -> tuple[list[str], dict]:
    tags = [" ".join(t.split()) for t in (form.get("new_tags") or "").split(",")]
    tags = [t for t in tags if t]
    if not tags:
        return [], {"new_tags": _("Type one or more tags (separate several with commas).")}
    if any(len(t) > 50 for t in tags):
        return [], {"new_tags": _("A tag has at most 50 characters.")}
    if len(tags) > 20:
        return [], {"new_tags": _("At most 20 tags at once.")}
    return tags, {}


def _values(form, attributes: list[dict]) -> tuple[dict, dict]:
    """``attr.<id>``: "" leaves the attribute as it is, "__clear__" clears it; multi: ``set.<id>`` + options."""
    values, errs = {}, {}
    for a in attributes:
        name = f"attr.{a['id']}"
        if a["type"] == "multi":
            if form.get(f"set.{a['id']}"):
                values[str(a["id"])] = form.getlist(name)
            continue
        raw = (form.get(name) or "").strip()
        if raw == LEAVE:
            continue
        if raw == CLEAR:
            values[str(a["id"])] = None
        elif a["type"] == "bool":
            values[str(a["id"])] = raw == "yes"
        elif a["type"] == "stars":
            if not raw.isdigit():
                errs[name] = _("Choose 1 to 5 stars.")
                continue
            values[str(a["id"])] = int(raw)
        else:
            values[str(a["id"])] = raw
    if not values and not errs:
        errs["__root__"] = _("Choose at least one attribute to set.")
    return values, errs


def _map_errors(exc: errors.ValidationFailed, kind: str) -> dict:
    """The service's field names -> the dialog's fields."""
    out = {}
    for field, message in exc.field_errors.items():
        if field.startswith("tags"):
            out["new_tags"] = message
        elif field.startswith("values."):
            out["attr." + field.split(".", 1)[1]] = message
        elif field == "relationship":
            out["relationship"] = message
        else:
            out["__root__"] = f"{field}: {message}" if field and field != "__root__" else message
    return out


@bp.post("/apply/<kind>")
@login_required
def apply(kind: str):
    """Check the change, confirm above 50 companies (count + sample), then run it."""
    kind = _kind(kind)
    form = request.form
    raw = form.get("selection") or ""
    sel = parse_selection(raw)
    attributes = _attributes() if kind == "set_attributes" else []
    if kind in ("add_tags", "remove_tags"):
        change, errs = _tags(form)
    elif kind == "set_attributes":
        change, errs = _values(form, attributes)
    else:
        change = form.get("relationship") or ""
        errs = {} if change in dict(RELATIONSHIPS) else {"relationship": _("Choose a relationship.")}
    if errs:
        return _dialog(kind, sel, raw, rpc_bulk.bulk_preview(sel, SAMPLE), form, errs, 422)
    if form.get("confirmed") != "1":  # (once confirmed, the count was shown: no second look-up)
        preview = rpc_bulk.bulk_preview(sel, SAMPLE)
        if preview["count"] > CONFIRM_ABOVE:
            return render_template("bulk/_confirm.html", kind=kind, title=KINDS[kind], count=preview["count"],
                                   sample=preview["sample"], fields=list(form.items(multi=True)))
    key = _posted_key()
    try:
        if kind == "add_tags":
            op = rpc_bulk.bulk_add_tags(sel, change, key)
        elif kind == "remove_tags":
            op = rpc_bulk.bulk_remove_tags(sel, change, key)
        elif kind == "set_attributes":
            op = rpc_bulk.bulk_set_attributes(sel, change, key)
        else:
            op = rpc_bulk.bulk_set_relationship(sel, change, key)
    except errors.ValidationFailed as exc:
        return _dialog(kind, sel, raw, rpc_bulk.bulk_preview(sel, SAMPLE), form, _map_errors(exc, kind), 422)
    return _progress(op)


def _progress(op: dict):
    headers = {"HX-Trigger": "bulk-applied"} if op["status"] in ("done", "failed") else {}
    return render_template("bulk/_progress.html", op=op, undo_key=_key()), 200, headers


@bp.get("/operations/<int:operation_id>")
@login_required
def progress(operation_id: int):
    """The job's progress component (polls itself every second while the job runs)."""
    return _progress(rpc_bulk.get_bulk_operation(operation_id))


@bp.get("/last")
@login_required
def last():
    """The user's last bulk edit with an Undo button while it can be undone (else an empty box)."""
    return render_template("bulk/_last.html", op=rpc_bulk.last_bulk_operation(), undo_key=_key())


@bp.post("/operations/<int:operation_id>/undo")
@login_required
def undo(operation_id: int):
    try:
        op = rpc_bulk.undo_bulk_operation(operation_id, _posted_key())
    except errors.Conflict as exc:
        op = rpc_bulk.get_bulk_operation(operation_id)
        return render_template("bulk/_progress.html", op=op, undo_key=_key(), undo_error=exc.message)
    return _progress(op)
