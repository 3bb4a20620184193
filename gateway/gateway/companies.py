"""The companies area: the live-search list, the new-company form, the card."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from . import errors, rpc
from .web import is_htmx, login_required, render

bp = Blueprint("companies", __name__, url_prefix="/companies")

COUNTRIES = [("NO", "Norway"), ("SE", "Sweden"), ("DK", "Denmark"), ("GB", "United Kingdom")]
RELATIONSHIPS = [
    ("prospect", "Prospect"),
    ("customer", "Customer"),
    ("suspect", "Suspect"),
    ("supplier", "Supplier"),
    ("partner", "Partner"),
    ("former_customer", "Former customer"),
]


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 1_000_000))
    except ValueError:
        return 1


@bp.get("")
@login_required
def index():
    q = (request.args.get("q") or "").strip()[:100]
    result = rpc.search_companies(q=q, page=_page(), per_page=current_app.config["PAGE_SIZE"])
    return render("companies/index.html", "companies/_results.html", result=result, q=q,
                  relationships=dict(RELATIONSHIPS))


def _form_data() -> dict:
    keys = ("name", "org_number", "country", "city", "relationship")
    return {k: (request.form.get(k) or "").strip() for k in keys}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    data = {"country": "NO", "relationship": "prospect"}
    field_errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data = _form_data()
        try:
            company = rpc.create_company({k: (v or None) if k in ("org_number", "city") else v for k, v in data.items()})
        except errors.ValidationFailed as exc:
            field_errors = exc.field_errors
            status = 422
        else:
            target = url_for("companies.show", company_id=company["id"])
            if is_htmx():
                return "", 204, {"HX-Location": target}
            return redirect(target, code=303)
    template = "companies/_form.html" if is_htmx() else "companies/new.html"
    return render_template(template, data=data, errors=field_errors, countries=COUNTRIES,
                           relationships=RELATIONSHIPS), status


@bp.get("/<int:company_id>")
@login_required
def show(company_id: int):
    company = rpc.get_company(company_id)
    return render_template("companies/show.html", company=company, relationships=dict(RELATIONSHIPS),
                           countries=dict(COUNTRIES))
