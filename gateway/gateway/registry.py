"""“+ then Company”: find a company in the national registries (Norway, Sweden,
Denmark, the UK) and start the new-company form from what they know.

- ``GET /registry/suggest?q=&countries=NO&countries=SE…`` the suggestions under
  the search field (a listbox; app.js moves the highlight with the arrow keys).
  Each says whether the tenant already has the company (then it links to its card).
  A registry that fails or times out never breaks the page: the others' results
  show, with a line saying which registry did not answer.
- ``GET /registry/pick?country=&org_number=`` the new-company form filled in from
  the registry, with the company's sub-units to tick (the full page without htmx).
- ``POST /registry/children`` tries again the sub-units that could not be created
  with their parent (the create itself is ``POST /companies/new``, see companies.py).
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask import Blueprint, current_app, render_template, request

from . import errors, registry_data, rpc
from .companies import new_form_defaults, render_children_result, render_new_form, to_card
from .forms import Form
from .registry_data import COUNTRY_NAMES, FLAGS, NOT_IN_REGISTRY, REGISTRY_DOWN, REGISTRY_NAMES
from .web import is_htmx, login_required, render

bp = Blueprint("registry", __name__, url_prefix="/registry")

SUGGESTIONS = 10
MIN_CHARS = 2


def _chosen_countries(args) -> list[str]:
    return list(dict.fromkeys(c.upper() for c in args.getlist("countries") if c.upper() in COUNTRY_NAMES))


def _search_context(q: str = "", countries: list[str] | None = None, target: str = "form") -> dict:
    return {"q": q, "countries": list(COUNTRY_NAMES) if countries is None else countries, "target": target,
            "items": [], "state": "idle", "message": None, "failed": [], "duplicates_unknown": False}


@bp.app_context_processor
def registry_globals() -> dict:
    """For the search panel wherever it is included (new-company page, overview dialog)."""
    return {"registry_country_names": COUNTRY_NAMES, "registry_flags": FLAGS,
            "registry_status_label": registry_data.status_label}


def _already_in_crm(items: list[dict]) -> tuple[dict, bool]:
    """{(country, org_number): {"id", "name"}} for the suggestions the tenant already has.
    One call per suggestion list. If the crm cannot tell, the suggestions still show."""
    if not items:
        return {}, False
    refs = [{"country": i["country"], "org_number": i["org_number"]} for i in items]
    try:
        found = rpc.find_companies_by_org_numbers(refs) or []
    except errors.GatewayError as exc:
        current_app.logger.warning("duplicate check failed: %s (%s)", exc.message, type(exc).__name__)
        return {}, True
    return {(f["country"], f["org_number"]): f for f in found}, False


@bp.get("/suggest")
@login_required
def suggest():
    q = " ".join((request.args.get("q") or "").split())[:100]
    countries = _chosen_countries(request.args)
    # without htmx (no JavaScript) this is a page of its own: picks open the new-company page
    target = "page" if request.args.get("target") == "page" or not is_htmx() else "form"
    ctx = _search_context(q, countries, target)
    if not q:
        pass
    elif len(q) < MIN_CHARS:
        ctx.update(state="short", message=_("Type at least %(n)s characters", n=MIN_CHARS))
    elif not countries:
        ctx.update(state="no_countries", message=_("Tick at least one country to search its registry."))
    else:
        try:
            result = rpc.registry_search(q, countries, SUGGESTIONS)
        except errors.ValidationFailed as exc:
            ctx.update(state="unavailable", message=errors.say(exc.message))
        except errors.GatewayError as exc:
            current_app.logger.warning("registry search failed: %s (%s)", exc.message, type(exc).__name__)
            ctx.update(state="unavailable",
                       message=_("The company registries did not answer. Try again in a moment, or enter the company by hand."))
        else:
            items = result.get("items") or []
            known, unknown = _already_in_crm(items)
            for item in items:
                item["existing"] = known.get((item.get("country"), item.get("org_number")))
            failed = [c for c in dict.fromkeys(result.get("failed_countries") or []) if c in COUNTRY_NAMES]
            ctx.update(items=items, duplicates_unknown=unknown,
                       failed=[str(REGISTRY_DOWN[c]) for c in failed],
                       state="results" if items else ("unavailable" if set(failed) >= set(countries) else "none"))
            if ctx["state"] == "none":
                answered = [c for c in countries if c not in failed]
                ctx["message"] = _("No company matching “%(q)s” in the registries of %(countries)s.", q=q,
                                   countries=_and(answered))
            elif ctx["state"] == "unavailable":
                ctx["message"] = _("The registries did not answer. Try again in a moment, or enter the company by hand.")
    return render("registry/search.html", "registry/_suggestions.html", **ctx)


def _and(countries: list[str]) -> str:
    from babel.lists import format_list
    from flask_babel import get_locale

    return format_list([str(COUNTRY_NAMES[c]) for c in countries], locale=get_locale() or "en_GB")


@bp.get("/pick")
@login_required
def pick():
    country = (request.args.get("country") or "").upper()
    org_number = (request.args.get("org_number") or "").strip()[:32]
    data = new_form_defaults()
    if country not in COUNTRY_NAMES or not org_number:
        return _form(data, {"level": "error", "text": _("Choose a company from the suggestions, or enter it by hand.")})
    data["country"] = country
    detail, units, existing = rpc.parallel(
        lambda: rpc.registry_get(country, org_number),
        lambda: rpc.registry_subunits(country, org_number),
        lambda: rpc.find_companies_by_org_numbers([{"country": country, "org_number": org_number}]),
        return_exceptions=True,
    )
    if isinstance(detail, errors.GatewayError):
        data["org_number"] = org_number
        if isinstance(detail, errors.NotFound):
            text = NOT_IN_REGISTRY[country] % {"number": org_number}
        elif isinstance(detail, errors.ValidationFailed):
            text = _("%(number)s is not a valid organisation number there (%(reason)s). Enter the company by hand.",
                     number=org_number, reason=errors.say(detail.message))
        else:
            current_app.logger.warning("registry get failed: %s (%s)", detail.message, type(detail).__name__)
            text = _("%(registry)s did not answer, so nothing could be filled in. "
                     "Enter the company by hand, or pick it again in a moment.", registry=REGISTRY_NAMES[country])
        return _form(data, {"level": "error", "text": text}, existing=_first(existing))
    for key, value in registry_data.company_fields(detail).items():
        if value not in (None, ""):
            data[key] = str(value)
    subunits_error = None
    if isinstance(units, errors.GatewayError):
        current_app.logger.warning("registry subunits failed: %s (%s)", units.message, type(units).__name__)
        if country != "SE":
            subunits_error = _("The registry did not send this company’s sub-units. They can be added later.")
    else:
        items = (units or {}).get("items") or []
        data.update(registry_data.subunit_fields(items, country))
    text = _("Filled in from %(registry)s. Check the details and add what is missing.", registry=REGISTRY_NAMES[country])
    if detail.get("stale") and detail.get("refreshed_at"):
        text += " " + _("(The registry did not answer just now: these details may be out of date.)")
    notice = {"level": "info", "text": text}
    if detail.get("status") != "active":
        label = registry_data.status_label(detail.get("status"), detail.get("status_text"))
        notice = {"level": "warning", "text": _("The registry lists this company as: %(status)s.", status=label) + " " + text}
    if detail.get("missing"):
        notice["text"] += " " + _("Part of the registry's answer was missing (%(fields)s): those fields show what was "
                                   "stored before.", fields=", ".join(m.replace("_", " ") for m in detail["missing"]))
    return _form(data, notice, existing=_first(existing), subunits_error=subunits_error)


def _first(found):
    return found[0] if isinstance(found, list) and found else None


def _form(data, notice: dict, **extra):
    body, status = render_new_form(data, notice=notice, **extra)
    if is_htmx():  # the pick also closes the suggestion list
        body += render_template("registry/_suggestions.html", oob=True, **_search_context())
    return body, status


@bp.post("/children")
@login_required
def children():
    """Try again: create the ticked sub-units as children of an existing company."""
    parent_id = request.form.get("parent_id", type=int)
    if not parent_id:
        raise errors.NotFound(_("No such company."))
    parent = rpc.get_company(parent_id)
    form = Form(request.form)
    base = registry_data.read_base(form)
    units = registry_data.read_selected(request.form)
    failed = []
    if units:
        _created, failed = registry_data.create_children(parent, units, base)
    if failed:
        return render_children_result(parent, units, failed, base)
    return to_card(parent_id)
