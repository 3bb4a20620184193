"""The companies area: the overview (live search, filter panel, sort, pages,
saved views), the new-company form, and small lookups used by forms."""
from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from . import errors, registry_data, rpc
from .forms import Form, multidict
from .idempotency import form_key
from .overview import State, page_window
from .web import is_htmx, login_required

bp = Blueprint("companies", __name__, url_prefix="/companies")

COUNTRIES = [("NO", _l("Norway")), ("SE", _l("Sweden")), ("DK", _l("Denmark")), ("GB", _l("United Kingdom"))]
RELATIONSHIPS = [
    ("prospect", _l("Prospect")),
    ("customer", _l("Customer")),
    ("suspect", _l("Suspect")),
    ("supplier", _l("Supplier")),
    ("partner", _l("Partner")),
    ("former_customer", _l("Former customer")),
]
PROJECT_TYPES = [
    ("staffing", _l("Staffing")),
    ("recruitment", _l("Recruitment")),
    ("recruitment_staffing", _l("Recruitment + staffing")),
    ("consulting", _l("Consulting")),
    ("other", _l("Other")),
]
# The overview's columns: (sort key or None, header, css class). issue 13: the table fits 1280 px;
# narrower, the "opt1" columns go first (below 1280 px), then the "opt2" ones (phones), except the
# column the list is sorted by, which always shows (app.css, "overview fits").
COLUMNS = [
    ("name", _l("Name"), ""),
    ("org_number", _l("Org. number"), "opt1"),
    ("city", _l("City"), ""),
    ("relationship", _l("Relationship"), "opt2"),
    (None, _l("Owners"), "opt1"),
    ("active_projects", _l("Active projects"), "num opt2"),
    ("unresolved_tasks", _l("Unresolved tasks"), "num opt2"),
    ("unsigned_agreements", _l("Unsigned agreements"), "num opt2"),
    ("invoiced_this_year", _l("Invoiced this year"), "num opt2"),
    ("credit_score", _l("Credit rating"), "num credit opt1"),  # issue 10
]
CREDIT_BANDS = [("A", _l("A · very low risk")), ("B", _l("B · low risk")), ("C", _l("C · moderate risk")),
                ("D", _l("D · high risk")), ("E", _l("E · very high risk / not rated")), ("none", _l("No rating"))]
FILTERABLE_ATTRIBUTES = ("bool", "stars", "dropdown", "multi")
FACET_LIMIT, FACET_ALL = 200, 5000  # values per long facet (city, region, industry, tag): shown, and after "Show all"


def overview_url(state: State, **kw) -> str:
    qs = state.query_string(**kw)
    return url_for("companies.index") + (f"?{qs}" if qs else "")


# -- the overview ------------------------------------------------------------------
def _options(key: str, facets: dict, state: State, label=None, skip=()) -> list[dict]:
    """One filter group's options: facet values with counts, plus any selected value the facets lack
    (except ``skip``), the selected ones first."""
    out, seen = [], set()
    for f in facets.get(key) or []:
        value = str(f.get("value"))
        if value in seen or value in ("", "None"):
            continue
        seen.add(value)
        text = f.get("label") or (label(value) if label else value)
        out.append({"value": value, "label": text, "count": f.get("count"), "checked": state.selected(key, value)})
    for value in state.lists.get(key, ()):
        if value not in seen and value not in skip:
            out.append({"value": value, "label": label(value) if label else value, "count": None, "checked": True})
    return sorted(out, key=lambda o: not o["checked"])  # issue 13: ticked values stay on top


def _panel(state: State, facets: dict | None, attributes: list[dict], labels: dict | None = None) -> dict:
    facets = facets or {}
    rel_counts = {str(f.get("value")): f.get("count") for f in facets.get("relationship") or []}
    countries = dict(COUNTRIES)
    industries = (labels or {}).get("industry") or {}
    # "Mine" is its own box on top; never a second, lowercase "mine" box (issue 13: it could not be unticked)
    owners = _options("owner", facets, state, skip=("mine",))
    owners.insert(0, {"value": "mine", "label": _("Mine"), "count": None, "checked": state.selected("owner", "mine")})
    return {
        "relationship": [{"value": code, "label": label, "count": rel_counts.get(code, 0 if facets else None),
                          "checked": state.selected("relationship", code)} for code, label in RELATIONSHIPS],
        "country": _options("country", facets, state, lambda v: countries.get(v, v)),
        "region": _options("region", facets, state),
        "city": _options("city", facets, state),
        "industry": _options("industry", facets, state, lambda v: industries.get(v, v)),
        "owner": owners,
        "department": _options("department", facets, state),
        "tag": _options("tag", facets, state),
        "attributes": [a for a in attributes if a.get("type") in FILTERABLE_ATTRIBUTES],
        "credit_band": [{"value": code, "label": label,
                         "count": ({str(f.get("value")): f.get("count") for f in facets.get("credit_band") or []}
                                   .get(code, 0 if facets and code != "none" else None)),
                         "checked": state.selected("credit_band", code)} for code, label in CREDIT_BANDS],
    }


def _chips(state: State, panel: dict) -> list[tuple[str, str]]:
    """The active filters as (text, url without it), for the bar above the results."""
    labels = {key: {o["value"]: o["label"] for o in panel[key]} for key in
              ("relationship", "country", "region", "city", "industry", "owner", "department", "tag", "credit_band")}
    names = {
        "relationship": "", "country": "", "region": _("Region: "), "city": _("City: "), "industry": _("Industry: "),
        "owner": _("Owner: "), "department": _("Department: "), "tag": _("Tag: "), "credit_band": _("Credit: "),
    }
    chips = []
    if state.q:
        chips.append((f"“{state.q}”", overview_url(state.without("q"))))
    for key, values in state.lists.items():
        for v in values:
            chips.append((names[key] + labels[key].get(v, v), overview_url(state.without(key, v))))
    attrs = {a["id"]: a["name"] for a in panel["attributes"]}
    attribute, yes, no = _("Attribute"), _("yes"), _("no")
    for attr_id, values in state.attr.items():
        for v in values:
            chips.append((f"{attrs.get(attr_id, attribute)}: {v}", overview_url(state.without(f"attr.{attr_id}", v))))
    for attr_id, n in state.stars.items():
        chips.append((f"{attrs.get(attr_id, attribute)}: {'★' * n}+", overview_url(state.without(f"stars.{attr_id}"))))
    for attr_id, flag in state.flag.items():
        chips.append((f"{attrs.get(attr_id, attribute)}: {yes if flag else no}",
                      overview_url(state.without(f"flag.{attr_id}"))))
    if state.has_unresolved_tasks:
        chips.append((_("Has unresolved tasks"), overview_url(state.without("has_unresolved_tasks"))))
    if state.has_unsigned_agreements:
        chips.append((_("Has unsigned agreements"), overview_url(state.without("has_unsigned_agreements"))))
    return chips


@bp.get("")
@login_required
def index():
    state = State.from_args(request.args)
    per_page = current_app.config["PAGE_SIZE"]
    # The list comes back without facet counts (fast, also while typing); the filter
    # panel fetches its counts separately (companies.filters) once the list is shown.
    # While typing or paging (htmx) the panel is left to that request too, so only the
    # attribute names the active-filter chips need are fetched, and only when filtered by one.
    full = not is_htmx()
    calls = [lambda: rpc.list_companies(state.to_query(per_page, facets=False))]
    if full or state.attr or state.stars or state.flag:
        calls.append(rpc.list_attributes)
    if full:
        calls.append(rpc.list_views)
    result, *rest = rpc.parallel(*calls)
    attributes = rest.pop(0) if len(calls) > 1 else []
    panel = _panel(state, result.get("facets"), attributes or [], result.get("labels"))
    last = max(1, (result["total"] + result["per_page"] - 1) // result["per_page"]) if result.get("per_page") else 1
    context = dict(
        state=state, result=result, panel=panel, chips=_chips(state, panel),
        columns=[(key, str(title), cls) for key, title, cls in COLUMNS],
        # lazy words resolved once per page, not once per row
        relationships={code: str(label) for code, label in RELATIONSHIPS}, overview_url=overview_url, last_page=last,
        select_label=_('Select %(name)s'),
        pages=page_window(min(state.page, last), last), views=_canonical_views(rest[0]) if rest else None,
        view_query=state.query_string(with_page=False), tenant_currency=(g.tenant or {}).get("currency"),
        facets_url=_facets_url(state),
    )
    context["result"] = {**result, "items": _rows(result.get("items") or [])}
    if is_htmx():
        return render_template("companies/_overview.html", **context)
    return render_template("companies/index.html", **context)


class _Row(dict):
    """A list row that the template reads as ``c.name`` without Jinja's failed-attribute detour
    (a plain dict costs an AttributeError per field: at 50 rows, a third of the fragment's time),
    with its card link built from one url_for per page."""

    __slots__ = ()

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def _rows(items: list[dict]) -> list[_Row]:
    card = url_for("card.show", company_id=1).rsplit("/", 1)[0] + "/"  # /companies/<id>, built once
    out = []
    for item in items:
        row = _Row(item)
        row["card_url"] = card + str(int(item["id"]))
        if item.get("logo_version"):
            row["logo_url"] = url_for("card.logo", company_id=item["id"], v=item["logo_version"], size="list")
        row["owners"] = [_Row(o) for o in item.get("owners") or []]
        out.append(row)
    return out


def _facets_url(state: State) -> str:
    query = state.query_string(with_page=False)
    return url_for("companies.filters") + (f"?{query}" if query else "")


@bp.get("/filters")
@login_required
def filters():
    """The filter panel with facet counts for the current filters (loaded after the list)."""
    state = State.from_args(request.args)
    # issue 13: long facets show their 200 biggest values (and every ticked one); "Show all" asks for the rest
    show_all = request.args.get("all") == "1"
    query = {**state.to_query(1, facets=True), "facet_limit": FACET_ALL if show_all else FACET_LIMIT}
    result, attributes = rpc.parallel(lambda: rpc.list_companies(query), rpc.list_attributes)
    panel = _panel(state, result.get("facets"), attributes or [], result.get("labels"))
    sizes = result.get("facet_values") or {}
    more = {key: n for key, n in sizes.items() if n > len([o for o in panel.get(key, []) if o["count"] is not None])}
    return render_template("companies/_filters.html", state=state, panel=panel, overview_url=overview_url,
                           oob=False, facets_url=None, more=more, all_url=_facets_url(state) + ("&" if "?" in
                           _facets_url(state) else "?") + "all=1")


def _canonical_views(views: list[dict]) -> list[dict]:
    """Views' query strings in our canonical form (so the current one can be recognised)."""
    return [{**v, "query": State.from_query_string(v.get("query") or "").query_string(with_page=False)}
            for v in views or []]


# -- saved views -------------------------------------------------------------------
def _views_box(status: int = 200, form: dict | None = None, field_errors: dict | None = None, query: str = ""):
    state = State.from_query_string(query)
    return render_template("companies/_views.html", views=_canonical_views(rpc.list_views()), form=form or {},
                           errors=field_errors or {}, view_query=state.query_string(with_page=False),
                           state=state, overview_url=overview_url), status


@bp.post("/views")
@login_required
def save_view():
    form = Form(request.form)
    name = form.text("name", required=True, max_len=80, label=_("A name"))
    shared = form.flag("shared")
    query = State.from_query_string(request.form.get("query") or "").query_string(with_page=False)
    if form.ok:
        try:
            rpc.save_view({"name": name, "query": query, "shared": shared})
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
    if not is_htmx():
        return redirect(overview_url(State.from_query_string(query)), code=303)
    if form.errors:
        return _views_box(422, {"name": request.form.get("name", ""), "shared": shared}, form.errors, query)
    return _views_box(query=query)


@bp.route("/views/<int:view_id>", methods=["DELETE"])
@bp.post("/views/<int:view_id>/delete")
@login_required
def delete_view(view_id: int):
    rpc.delete_view(view_id)
    query = request.values.get("query") or ""
    if not is_htmx():
        return redirect(overview_url(State.from_query_string(query)), code=303)
    return _views_box(query=query)


# -- lookups used by forms -------------------------------------------------------------
@bp.get("/tags")
@login_required
def tag_suggestions():
    """<option>s for the tag input's datalist (autocomplete, tenant-wide). The input may
    hold several comma-separated tags: the last one is completed, the others kept."""
    typed = (request.args.get("new_tags") or request.args.get("prefix") or "")[:300]
    before, _, prefix = typed.rpartition(",")
    before = f"{before.strip()}, " if before.strip() else ""
    prefix = prefix.strip()[:60]
    tags = rpc.list_tags(prefix, 10) if prefix else []
    return render_template("companies/_tag_options.html", tags=tags, prefix_before=before)


@bp.get("/picker")
@login_required
def picker():
    """Companies matching q, as radio buttons for choosing a parent company."""
    q = (request.args.get("parent_q") or "").strip()[:100]
    exclude = request.args.get("exclude", type=int)
    found = []
    if q:
        found = [c for c in rpc.list_companies({"q": q, "per_page": 8, "page": 1, "facets": False})["items"]
                 if c["id"] != exclude]
    return render_template("companies/_picker.html", found=found, q=q)


# -- the new-company form ----------------------------------------------------------------
ADDRESS_KINDS = (("visiting", _l("Visiting address")), ("postal", _l("Postal address")), ("billing", _l("Billing address")))
ADDRESS_FIELDS = ("street", "postcode", "city", "region", "country")


def read_address(form: Form, prefix: str) -> dict | None:
    addr = {f: form.text(f"{prefix}.{f}", max_len=200 if f == "street" else 120) for f in ADDRESS_FIELDS}
    if addr.get("country"):
        addr["country"] = addr["country"].upper()
        if addr["country"] not in dict(COUNTRIES):
            form.error(f"{prefix}.country", _("Choose a country."))
    return addr if any(addr.values()) else None


def read_company_fields(form: Form) -> dict:
    """The general fields shared by the new-company form and the card's General box."""
    data = {
        "name": form.text("name", required=True, label=_("A name")),
        "org_number": form.text("org_number", max_len=32),
        "country": form.choice("country", dict(COUNTRIES)),
        "legal_form": form.text("legal_form", max_len=60),
        "industry_code": form.text("industry_code", max_len=20),
        "industry_text": form.text("industry_text", max_len=200),
        "employees": form.integer("employees", min_value=0, max_value=10_000_000),
        "website": form.url("website"),
        "phone": form.text("phone", max_len=40),
        "email": form.email("email"),
        "relationship": form.choice("relationship", dict(RELATIONSHIPS)),
    }
    return data


def _new_form_options() -> dict:
    users, departments = rpc.parallel(rpc.list_users, rpc.list_departments)
    return {"users": [u for u in users if u.get("active", True)], "departments": departments}


def new_form_defaults() -> MultiDict:
    return multidict({"country": "NO", "relationship": "prospect", "owner_ids": [g.user["id"]],
                      "department_id": g.user.get("department_id"), "start_project.type": "staffing",
                      "start_project.status": "request", "invoice.credit_days": 14})


def _project_statuses() -> list[tuple[str, str]]:
    from .records import PROJECT_STATUSES

    return PROJECT_STATUSES


def _invoice_options() -> list[tuple[str, str]]:
    from .card import INVOICE_TYPES

    return [(k, label) for k, label, _ in INVOICE_TYPES]


def render_new_form(data: MultiDict, field_errors: dict | None = None, status: int = 200, **extra):
    """The new-company form: the fragment for htmx, else the whole page (with the registry search).
    ``extra``: ``notice`` ({"level", "text"}) shown above the fields, ``existing`` (the tenant's
    company with this org number), ``subunits_error``; the form's sub-units come from ``data``."""
    template = "companies/_form.html" if is_htmx() else "companies/new.html"
    return render_template(template, data=data, errors=field_errors or {}, countries=COUNTRIES,
                           relationships=RELATIONSHIPS, project_types=PROJECT_TYPES, address_kinds=ADDRESS_KINDS,
                           invoice_types=_invoice_options(), project_statuses=_project_statuses(),
                           subunits=registry_data.rows(data), **extra, **_new_form_options()), status


def add_service_errors(form: Form, payload: dict, partial: bool = False) -> None:
    """All errors at once (issue 13). When the form found errors of its own it is not saved, but
    the crm still checks every field that passed here (organisation number, phone, …), so one
    submit shows every error instead of a second round after the first is fixed."""
    if form.ok:
        return
    bad = {field.split(".")[0] for field in form.errors}
    rest = {key: value for key, value in payload.items() if key not in bad}
    try:
        rpc.check_company(rest, partial)
    except errors.ValidationFailed as exc:
        for field, message in exc.field_errors.items():
            if field.split(".")[0] not in bad and field != "__root__":
                form.errors.setdefault(field, message)
    except errors.GatewayError:  # the crm cannot check now: the form's own errors still show
        current_app.logger.warning("check_company failed; showing the form's own errors only")


def read_new_company(form: Form) -> dict:
    payload = read_company_fields(form)
    payload["city"] = form.text("city", max_len=120)
    payload["owner_ids"] = form.ids("owner_ids")
    payload["department_id"] = form.integer("department_id")
    addresses = {kind: a for kind, _ in ADDRESS_KINDS if (a := read_address(form, f"addresses.{kind}"))}
    if form.flag("postal_same_as_visiting") and addresses.get("visiting"):  # the user's choice (issue 13)
        addresses["postal"] = dict(addresses["visiting"])
    if addresses:
        payload["addresses"] = addresses
    invoice = read_new_invoice(form, payload.get("email"))
    if invoice:
        payload["invoice"] = invoice
    if form.flag("registry.marketing_protection"):  # issue 13: the registry's reklamebeskyttet / reklamspärr
        payload["marketing_protected"] = True
    if form.flag("with_project"):
        payload["start_project"] = {
            "name": form.text("start_project.name", required=True, max_len=200, label=_("The project's name")),
            "type": form.choice("start_project.type", dict(PROJECT_TYPES)),
            "status": form.choice("start_project.status", dict(_project_statuses()), default="request"),
        }
    return payload


NEW_INVOICE_DEFAULT = _l("Default: e-mail with PDF to the company’s e-mail, or paper if it has none")


def read_new_invoice(form: Form, company_email: str | None) -> dict | None:
    """The new-company form's invoice box (issue 13). Type "default" leaves it to the crm (e-mail
    with PDF to the company's e-mail, paper without one), so the defaults always pass the card's
    own validation; an e-mail type needs an invoice e-mail or the company's."""
    from .card import INVOICE_TYPES

    kind = form.choice("invoice.type", [k for k, _, _ in INVOICE_TYPES], required=False)
    email = form.email("invoice.email")
    credit_days = form.integer("invoice.credit_days", min_value=0, max_value=365)
    if not kind and not email and credit_days in (None, 14):
        return None
    if not kind:
        kind = "email_pdf" if (email or company_email) else "paper"
    if kind in ("email_link", "email_pdf") and not (email or company_email) and "invoice.email" not in form.errors:
        form.error("invoice.email", _("An invoice e-mail is required when invoices go by e-mail."))
    return {"type": kind, "email": email or (company_email if kind != "paper" else None),
            "credit_days": 14 if credit_days is None else credit_days}


def read_new_logo(form: Form) -> tuple[str, bytes] | None:
    """The new-company form's logo box (issue 13, as the help article describes it): an optional
    PNG, JPEG or WebP image, checked like the card's logo box, saved right after the company."""
    from . import images
    from .card import _mib, _upload_size

    upload = request.files.get("logo")
    if not upload or not upload.filename:
        return None
    size = _upload_size(upload)
    if size is not None and size > images.MAX_LOGO_BYTES:
        form.error("logo", _("The logo is %(size)s; the limit is %(limit)s. Upload a smaller PNG, JPEG or WebP image.",
                             size=_mib(size), limit=_mib(images.MAX_LOGO_BYTES)))
        return None
    try:
        return images.check_logo(upload.read(images.MAX_LOGO_BYTES + 1))
    except images.ImageRejected as exc:
        form.error("logo", str(exc))
        return None


def save_new_logo(company_id: int, logo: tuple[str, bytes]) -> None:
    import base64

    content_type, data = logo
    try:
        rpc.set_logo(company_id, content_type, base64.b64encode(data).decode())
    except errors.GatewayError:  # the company exists; its card offers the logo box again
        current_app.logger.warning("logo of new company %s not saved", company_id)


def typed_into(data: MultiDict, q: str | None) -> MultiDict:
    """"Enter manually" keeps what was typed in the registry search (issue 13): an organisation
    number (digits, spaces, dashes, dots; or a UK number such as SC123456) goes to its field, else the name."""
    q = " ".join((q or "").split())[:200]
    if q:
        compact = q.replace(" ", "").replace("-", "").replace(".", "")
        is_number = compact.isdigit() or (len(compact) == 8 and compact[:2].isalpha() and compact[2:].isdigit())
        data["org_number" if is_number and len(compact) >= 6 else "name"] = q
    return data


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """The new-company form. Its ticked sub-units (filled in from a national registry, see
    registry.py) are created after the company, as its children; if some fail, the company
    stays and the page says which did not make it (and offers to try them again)."""
    if request.method == "GET":
        return render_new_form(typed_into(new_form_defaults(), request.args.get("q")))
    form = Form(request.form)
    payload = read_new_company(form)
    units = registry_data.read_selected(request.form)
    logo = read_new_logo(form)
    add_service_errors(form, payload)
    if form.ok:
        try:
            company = rpc.create_company(payload, idempotency_key=form_key())
        except errors.ValidationFailed as exc:
            form.errors.update(exc.field_errors)
        else:
            if logo:
                save_new_logo(company["id"], logo)
            failed = []
            if units:
                _created, failed = registry_data.create_children(company, units, payload)
            if failed:
                return render_children_result(company, units, failed, payload)
            return to_card(company["id"])
    return render_new_form(MultiDict(request.form), form.errors, 422)


def to_card(company_id: int):
    """After a create: the company's card, as a whole page. (HX-Redirect, not HX-Location: an htmx
    GET of the card answers with the records tab only, which would replace the whole body.)"""
    target = url_for("card.show", company_id=company_id)
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)


def render_children_result(company: dict, units: list[dict], failed: list[dict], base: dict):
    """The company exists but some sub-units could not be created: say which and why,
    with a form that tries exactly those again."""
    context = dict(company=company, tried=len(units), failed=failed, base=base,
                   retry_fields=registry_data.retry_fields(failed, base), retry_key=form_key())
    if is_htmx():
        return render_template("registry/_created.html", **context)
    return render_template("registry/created.html", **context)
