"""The company card: its header and the boxes edited in place (click to edit).

Each box is one partial (``companies/_<box>.html``) that renders one wrapper
with an id, ``hx-target="this"`` and ``hx-swap="outerHTML"``, in view mode
or, with ``editing``, as a form. ``GET …/<box>`` shows it, ``GET …/<box>/edit``
returns the form, ``PUT`` (or ``POST``) saves and returns the box, or the form
with inline errors and status 422. A save that changes what the header shows
sends ``HX-Trigger: companyChanged``; the header listens.
"""
from __future__ import annotations

import base64

from flask_babel import gettext as _, lazy_gettext as _l
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from . import errors, images, records, rpc
from .companies import (ADDRESS_FIELDS, ADDRESS_KINDS, COUNTRIES, RELATIONSHIPS, add_service_errors, read_address,
                        read_company_fields)
from .forms import Form, multidict
from .web import is_htmx, login_required

bp = Blueprint("card", __name__, url_prefix="/companies/<int:company_id>")

INVOICE_TYPES = [
    ("email_link", _l("E-mail with tracking link"), _l("The invoice is a link in the e-mail; you see when the customer opens it.")),
    ("email_pdf", _l("E-mail with PDF attachment"), _l("For customers whose invoice-handling systems cannot follow links.")),
    ("paper", _l("Paper invoice"), _l("Printed and posted to the billing address.")),
]
BOXES = ("general", "ownership", "invoice", "addresses", "tags", "attributes")
BOX_RULE = "any(" + ", ".join(BOXES) + ")"
MAX_TAGS, MAX_TAG_LEN = 30, 40


def _common() -> dict:
    return {"relationships": dict(RELATIONSHIPS), "countries": dict(COUNTRIES), "country_list": COUNTRIES,
            "relationship_list": RELATIONSHIPS, "invoice_types": INVOICE_TYPES, "address_kinds": ADDRESS_KINDS,
            "address_fields": ADDRESS_FIELDS}


# -- the page ------------------------------------------------------------------------
@bp.get("")
@login_required
def show(company_id: int):
    tab = records.tab_name(request.args.get("tab"))
    if is_htmx():  # a tab switch: only the records section
        return records.render_tab(company_id, tab, request.args)
    thunks, build = records.tab_calls(company_id, tab, request.args, have_company=True)
    company, *results = rpc.parallel(lambda: rpc.get_company(company_id), *thunks)
    context = {**records.choices(), **_common(), **build(results, company), "company": company}
    return render_template("companies/show.html", tab=tab, **context)


@bp.get("/head")
@login_required
def head(company_id: int):
    return render_template("companies/_head.html", company=rpc.get_company(company_id), **_common())


# -- boxes ---------------------------------------------------------------------------
def _box(box: str, company: dict, *, editing: bool = False, data=None, field_errors=None, status: int = 200,
         headers: dict | None = None, **extra):
    options = _edit_options(box) if editing else {}
    body = render_template(f"companies/_{box}.html", company=company, editing=editing,
                           data=data if data is not None else _box_data(box, company),
                           errors=field_errors or {}, **options, **extra, **_common())
    return body, status, headers or {}


def _box_data(box: str, company: dict) -> MultiDict:
    if box == "general":
        return multidict({k: company.get(k) for k in (
            "name", "org_number", "country", "legal_form", "industry_code", "industry_text", "employees",
            "website", "phone", "email", "relationship")}, parent_id=(company.get("parent") or {}).get("id"))
    if box == "ownership":
        return multidict(owner_ids=company.get("owners") or [], department_id=(company.get("department") or {}).get("id"))
    if box == "invoice":
        inv = company.get("invoice") or {}
        return multidict({"type": inv.get("type") or "email_link", "email": inv.get("email"),
                          "credit_days": inv.get("credit_days")})
    if box == "addresses":
        out = MultiDict()
        for kind, _label in ADDRESS_KINDS:
            for f in ADDRESS_FIELDS:
                value = ((company.get("addresses") or {}).get(kind) or {}).get(f)
                if value is not None:
                    out.add(f"addresses.{kind}.{f}", str(value))
        return out
    if box == "tags":
        return multidict(tags=company.get("tags") or [])
    if box == "attributes":
        out = MultiDict()
        for a in company.get("attributes") or []:
            value = a.get("value")
            key = f"attr.{a['id']}"
            if value is None:
                continue
            if a["type"] == "bool":
                out.add(key, "yes" if value else "no")
            elif isinstance(value, list):
                for v in value:
                    out.add(key, str(v))
            else:
                out.add(key, str(value))
        return out
    return MultiDict()


def _edit_options(box: str) -> dict:
    if box == "ownership":
        users, departments = rpc.parallel(rpc.list_users, rpc.list_departments)
        return {"users": [u for u in users if u.get("active", True)], "departments": departments}
    return {}


@bp.get(f"/<{BOX_RULE}:box>")
@login_required
def box_view(company_id: int, box: str):
    return _box(box, rpc.get_company(company_id))


@bp.get(f"/<{BOX_RULE}:box>/edit")
@login_required
def box_edit(company_id: int, box: str):
    return _box(box, rpc.get_company(company_id), editing=True)


@bp.route(f"/<{BOX_RULE}:box>", methods=["PUT", "POST"])
@login_required
def box_save(company_id: int, box: str):
    form = Form(request.form)
    saver = SAVERS[box]
    try:
        company = saver(company_id, form) if form.ok else None
    except errors.ValidationFailed as exc:
        form.errors.update(exc.field_errors)
        company = None
    if company is None or form.errors:
        if not form.errors:
            form.error("__root__", _("Please check the form."))
        return _box(box, rpc.get_company(company_id), editing=True, data=MultiDict(request.form),
                    field_errors=form.errors, status=422)
    if not is_htmx():
        return redirect(url_for("card.show", company_id=company_id), code=303)
    return _box(box, company, headers={"HX-Trigger": "companyChanged"}, announce=_("Saved"))


def _save_general(company_id: int, form: Form):
    changes = read_company_fields(form)
    changes["parent_id"] = form.integer("parent_id")
    if changes["parent_id"] == company_id:
        form.error("parent_id", _("A company cannot be its own parent."))
    add_service_errors(form, changes, partial=True)  # issue 13: every error of the box at once
    return rpc.update_company(company_id, changes) if form.ok else None


def _save_ownership(company_id: int, form: Form):
    changes = {"owner_ids": form.ids("owner_ids"), "department_id": form.integer("department_id")}
    return rpc.update_company(company_id, changes) if form.ok else None


def _save_invoice(company_id: int, form: Form):
    kind = form.choice("type", [k for k, _, _ in INVOICE_TYPES])
    email = form.email("email", required=kind in ("email_link", "email_pdf"))
    if kind in ("email_link", "email_pdf") and "email" in form.errors and not form.raw("email"):
        form.errors["email"] = _("An invoice e-mail is required when invoices go by e-mail.")
    credit_days = form.integer("credit_days", min_value=0, max_value=365)
    settings = {"type": kind, "email": email, "credit_days": credit_days}
    return rpc.update_invoice_settings(company_id, settings) if form.ok else None


def _save_addresses(company_id: int, form: Form):
    empty = dict.fromkeys(ADDRESS_FIELDS)
    addresses = {kind: read_address(form, f"addresses.{kind}") or dict(empty) for kind, _ in ADDRESS_KINDS}
    return rpc.update_addresses(company_id, addresses) if form.ok else None


def clean_tags(values) -> list[str]:
    out, seen = [], set()
    for raw in values:
        for part in str(raw).split(","):
            tag = " ".join(part.split())[:MAX_TAG_LEN]
            if tag and tag.lower() not in seen:
                seen.add(tag.lower())
                out.append(tag)
    return out[:MAX_TAGS]


def _save_tags(company_id: int, form: Form):
    tags = clean_tags(request.form.getlist("tags") + [form.raw("new_tags")])
    return rpc.set_tags(company_id, tags)


def attribute_value(attr: dict, source) -> object:
    """The submitted value of one attribute (``attr.<id>``), in the contract's type."""
    key = f"attr.{attr['id']}"
    if attr["type"] == "multi":
        return [v for v in source.getlist(key) if v] or None
    raw = (source.get(key) or "").strip()
    if not raw:
        return None
    if attr["type"] == "bool":
        return {"yes": True, "no": False}.get(raw)
    if attr["type"] == "stars":
        return int(raw) if raw in ("1", "2", "3", "4", "5") else None
    return raw[:500]


def _save_attributes(company_id: int, form: Form):
    company = rpc.get_company(company_id)
    changed = []
    for attr in company.get("attributes") or []:
        value = attribute_value(attr, request.form)
        if attr["type"] == "dropdown" and value is not None and value not in (attr.get("options") or []):
            form.error(f"attr.{attr['id']}", _("Choose one of the options."))
        current = attr.get("value")
        if isinstance(current, list) and not current:
            current = None
        if value != current:
            changed.append((attr["id"], value))
    if not form.ok:
        return None
    if not changed:
        return company
    outcomes = rpc.parallel(*[(lambda a=a, v=v: rpc.set_attribute_value(company_id, a, v)) for a, v in changed],
                            return_exceptions=True)
    for (attr_id, _value), outcome in zip(changed, outcomes):
        if isinstance(outcome, errors.ValidationFailed):
            form.error(f"attr.{attr_id}", errors.say(outcome.message.split(": ", 1)[-1]))
        elif isinstance(outcome, Exception):
            raise outcome
    if not form.ok:
        return None
    # Each call returned the card as it was after its own change: read it once more when several ran.
    return outcomes[0] if len(changed) == 1 else rpc.get_company(company_id)


SAVERS = {"general": _save_general, "ownership": _save_ownership, "invoice": _save_invoice,
          "addresses": _save_addresses, "tags": _save_tags, "attributes": _save_attributes}


@bp.post("/addresses/copy")
@login_required
def copy_address(company_id: int):
    pair = (request.form.get("from"), request.form.get("to"))
    if pair not in (("postal", "billing"), ("visiting", "postal")):
        abort(400)
    company = rpc.copy_address(company_id, *pair)
    if not is_htmx():
        return redirect(url_for("card.show", company_id=company_id), code=303)
    return _box("addresses", company, headers={"HX-Trigger": "companyChanged"}, announce=_("Saved"))


# -- logo ------------------------------------------------------------------------------
@bp.get("/logo")
@login_required
def logo(company_id: int):
    found = rpc.get_logo(company_id)
    if not found or not found.get("data"):
        abort(404)
    content_type = found.get("content_type")
    if content_type not in images.ALLOWED:  # never serve anything else from our origin
        abort(404)
    data = base64.b64decode(found["data"])
    if request.args.get("size") == "list":  # the overview row: a small copy, not the card's 192 px
        try:
            content_type, data = images.thumbnail(data)
        except images.ImageRejected:
            abort(404)
    response = Response(data, mimetype=content_type)
    if request.args.get("v"):  # the URL changes with each upload: cache for good
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _logo_box(company: dict, error: str | None = None, status: int = 200, headers=None, announce=None):
    return render_template("companies/_logo.html", company=company, error=error, announce=announce), status, headers or {}


def _upload_size(upload) -> int | None:
    """The uploaded file's whole size in bytes (its spooled stream), or None without a file."""
    if not upload:
        return None
    stream = upload.stream
    try:
        here = stream.tell()
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(here)
    except (OSError, AttributeError):
        return None
    return size


def _mib(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KiB"


@bp.post("/logo")
@login_required
def upload_logo(company_id: int):
    upload = request.files.get("logo")
    size = _upload_size(upload)
    if size is not None and size > images.MAX_LOGO_BYTES:  # issue 13: the file's real size, not "1.0 MiB"
        return _logo_box(rpc.get_company(company_id), _(
            "The logo is %(size)s; the limit is %(limit)s. Upload a smaller PNG, JPEG or WebP image.",
            size=_mib(size), limit=_mib(images.MAX_LOGO_BYTES)), 422)
    data = upload.read(images.MAX_LOGO_BYTES + 1) if upload else b""
    try:
        content_type, data = images.check_logo(data)  # decoded, checked, re-encoded and scaled (Pillow)
        rpc.set_logo(company_id, content_type, base64.b64encode(data).decode())
    except (images.ImageRejected, errors.ValidationFailed) as exc:
        message = exc.message.split(": ", 1)[-1] if isinstance(exc, errors.ValidationFailed) else str(exc)
        return _logo_box(rpc.get_company(company_id), message, 422)
    if not is_htmx():
        return redirect(url_for("card.show", company_id=company_id), code=303)
    return _logo_box(rpc.get_company(company_id), headers={"HX-Trigger": "companyChanged"}, announce=_("Logo saved"))


@bp.route("/logo", methods=["DELETE"])
@bp.post("/logo/delete")
@login_required
def delete_logo(company_id: int):
    rpc.delete_logo(company_id)
    if not is_htmx():
        return redirect(url_for("card.show", company_id=company_id), code=303)
    return _logo_box(rpc.get_company(company_id), headers={"HX-Trigger": "companyChanged"}, announce=_("Logo removed"))


@bp.get("/logo/box")
@login_required
def logo_box(company_id: int):
    return _logo_box(rpc.get_company(company_id))

