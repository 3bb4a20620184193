"""National-registry records as new-company form data, and back.

``registry_lookup`` answers in its own shape (see services/registry-lookup
``records.py``). Here a company's details become the new-company form's
fields, and its sub-units (Norway's underenheter, Denmark's production units,
UK establishments) become hidden fields of the same form: ``subunits.<i>.name``,
``subunits.<i>.visiting.city`` ... plus one checkbox ``subunit=<i>`` each. So the
form itself carries everything; a re-render after a validation error loses
nothing, and the create needs no second registry call.

After the parent company is created, each ticked sub-unit becomes a child
company (``parent_id``) with the parent's relationship, owners and department.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

import re

from werkzeug.datastructures import MultiDict

from . import errors, rpc
from .idempotency import child_key, form_key

COUNTRY_NAMES = {"NO": _l("Norway"), "SE": _l("Sweden"), "DK": _l("Denmark"), "GB": _l("United Kingdom")}
# issue 14: whole sentences per country (a possessive does not translate on its own)
REGISTRY_DOWN = {"NO": _l("Norway’s registry did not answer."), "SE": _l("Sweden’s registry did not answer."),
                 "DK": _l("Denmark’s registry did not answer."), "GB": _l("The United Kingdom’s registry did not answer.")}
NOT_IN_REGISTRY = {
    "NO": _l("%(number)s is not in Norway’s registry. Enter the company by hand."),
    "SE": _l("%(number)s is not in Sweden’s registry. Enter the company by hand."),
    "DK": _l("%(number)s is not in Denmark’s registry. Enter the company by hand."),
    "GB": _l("%(number)s is not in the United Kingdom’s registry. Enter the company by hand."),
}
FLAGS = {"NO": "🇳🇴", "SE": "🇸🇪", "DK": "🇩🇰", "GB": "🇬🇧"}
REGISTRY_NAMES = {"NO": "Brønnøysund Register Centre", "SE": "Bolagsverket", "DK": "CVR", "GB": "Companies House"}
MAX_SUBUNITS = 300
SUB_FIELDS = ("org_number", "name", "status", "employees", "industry_code", "industry_text")
SUB_ADDRESS_KINDS = ("visiting", "postal")
ADDRESS_FIELDS = ("street", "postcode", "city", "country")
GB_FORMS = {"ltd": "Ltd", "plc": "PLC", "llp": "LLP", "limited-partnership": "LP"}
_COUNTRY_WORDS = {
    "NO": {"NO", "NOR", "NORGE", "NORWAY", "NOREG"},
    "SE": {"SE", "SWE", "SVERIGE", "SWEDEN"},
    "DK": {"DK", "DNK", "DANMARK", "DENMARK"},
    "GB": {"GB", "GBR", "UK", "UNITED KINGDOM", "GREAT BRITAIN", "ENGLAND", "WALES", "SCOTLAND", "NORTHERN IRELAND",
           "ENGLAND AND WALES", "ENGLAND & WALES"},
}
_SUB_KEY = re.compile(r"^subunits\.(\d{1,4})\.name$")


def country_code(value: str | None, default: str | None = None) -> str | None:
    """A registry's country text ("Norge", "United Kingdom", "DK") as one of our codes, else ``default``
    when there is none, else None (an address abroad: the user picks)."""
    if not value:
        return default
    text = str(value).strip().upper()
    for code, words in _COUNTRY_WORDS.items():
        if text in words:
            return code
    return None


def _legal_form(detail: dict) -> str | None:
    code, text = detail.get("legal_form"), detail.get("legal_form_text")
    if detail.get("country") == "GB" and code:
        return GB_FORMS.get(code) or (text or code)[:60]
    return (code or text or "")[:60] or None


def _address(addr: dict | None, default_country: str) -> dict:
    addr = addr or {}
    return {"street": addr.get("street"), "postcode": addr.get("postcode"), "city": addr.get("city"),
            "country": country_code(addr.get("country"), default_country) if any(addr.values()) else None}


def company_fields(detail: dict) -> dict:
    """registry ``get`` -> the new-company form's field names and values (None = leave empty)."""
    country = detail.get("country")
    industry = (detail.get("industry") or [None])[0] or {}
    visiting = _address(detail.get("visiting_address"), country)
    postal = _address(detail.get("postal_address"), country)
    out = {
        "name": detail.get("name"),
        "org_number": detail.get("org_number"),
        "country": country,
        "legal_form": _legal_form(detail),
        "industry_code": industry.get("code"),
        "industry_text": industry.get("text"),
        "employees": detail.get("employees"),
        "website": detail.get("website"),
        "phone": detail.get("phone"),
        "email": detail.get("email"),
        "city": visiting.get("city") or postal.get("city"),
    }
    for kind, addr in (("visiting", visiting), ("postal", postal)):
        for field, value in addr.items():
            out[f"addresses.{kind}.{field}"] = value
    if detail.get("region") and visiting.get("street"):
        out["addresses.visiting.region"] = detail["region"]
    # what the registry says beyond the form's fields (issue 13): shown with the form, sent on create
    out["registry.status"] = detail.get("status")
    out["registry.status_text"] = detail.get("status_text")
    out["registry.marketing_protection"] = "1" if detail.get("marketing_protection") else None
    out["registry.no_postal"] = "1" if not detail.get("postal_address") and detail.get("visiting_address") else None
    return out


STATUS_LABELS = {"active": _l("Active"), "dissolved": _l("Dissolved"), "bankrupt": _l("Bankrupt"),
                 "liquidation": _l("In liquidation"), "closed": _l("Closed"), "deleted": _l("Deleted from the register"),
                 "unknown": _l("Status unknown")}


def status_label(status: str | None, text: str | None = None) -> str:
    """A registry status in the product's words, with the registry's own words beside it."""
    label = str(STATUS_LABELS.get(status or "unknown", STATUS_LABELS["unknown"]))
    return f"{label} ({text})" if text and text.lower() != label.lower() else label


def subunit_fields(items: list[dict], default_country: str) -> MultiDict:
    """registry ``subunits`` items -> hidden form fields ``subunits.<i>.*`` (at most MAX_SUBUNITS)."""
    out = MultiDict()
    for i, unit in enumerate(items[:MAX_SUBUNITS]):
        industry = (unit.get("industry") or [None])[0] or {}
        values = {"org_number": unit.get("org_number"), "name": unit.get("name"), "status": unit.get("status"),
                  "employees": unit.get("employees"), "industry_code": industry.get("code"),
                  "industry_text": industry.get("text")}
        for field, value in values.items():
            if value not in (None, ""):
                out.add(f"subunits.{i}.{field}", str(value))
        for kind in SUB_ADDRESS_KINDS:
            addr = _address(unit.get(f"{kind}_address"), default_country)
            for field, value in addr.items():
                if value:
                    out.add(f"subunits.{i}.{kind}.{field}", str(value))
    return out


def _indices(source) -> list[int]:
    found = {int(m.group(1)) for key in source.keys() if (m := _SUB_KEY.match(key))}
    return sorted(i for i in found if i < MAX_SUBUNITS)


def _read_one(source, i: int) -> dict:
    def text(name: str, max_len: int = 200):
        value = (source.get(f"subunits.{i}.{name}") or "").strip()
        return value[:max_len] or None

    employees = text("employees", 12)
    unit = {
        "index": i,
        "org_number": text("org_number", 32),
        "name": text("name"),
        "status": text("status", 20) or "active",
        "employees": int(employees) if employees and employees.isdigit() else None,
        "industry_code": text("industry_code", 20),
        "industry_text": text("industry_text"),
    }
    for kind in SUB_ADDRESS_KINDS:
        addr = {f: text(f"{kind}.{f}", 200 if f == "street" else 120) for f in ADDRESS_FIELDS}
        addr["postcode"] = (addr["postcode"] or "")[:20] or None
        if addr["country"] not in COUNTRY_NAMES:
            addr["country"] = None
        unit[kind] = addr if any(addr.values()) else None
    return unit


def rows(data) -> list[dict]:
    """The sub-units carried by a form (fresh from the registry or as submitted), for the template."""
    chosen = set(data.getlist("subunit"))
    out = []
    for i in _indices(data):
        unit = _read_one(data, i)
        addr = unit["visiting"] or unit["postal"] or {}
        unit["address"] = ", ".join(p for p in (addr.get("street"), " ".join(
            p for p in (addr.get("postcode"), addr.get("city")) if p)) if p)
        unit["checked"] = str(i) in chosen
        unit["fields"] = [(key, value) for key in data.keys() if key.startswith(f"subunits.{i}.")
                          for value in data.getlist(key)]
        out.append(unit)
    return out


def read_selected(source) -> list[dict]:
    """The ticked sub-units of a submitted form (those without a name are skipped: nothing to create)."""
    chosen = {int(v) for v in source.getlist("subunit") if str(v).isdigit()}
    return [unit for i in _indices(source) if i in chosen and (unit := _read_one(source, i))["name"]]


def _child_org_number(country: str, org_number: str | None) -> str | None:
    """A sub-unit's own number when it is an organisation number in the crm's sense. A Danish
    P-number (10 digits) is not a CVR number: the child is created without one."""
    if not org_number:
        return None
    if country == "DK" and not re.fullmatch(r"\d{8}", org_number):
        return None
    return org_number


def child_payload(unit: dict, parent: dict, base: dict) -> dict:
    """One ticked sub-unit as create_company's input: a child of ``parent`` with
    ``base``'s (the parent form's) relationship, owners and department."""
    country = parent.get("country") or base.get("country")
    addresses = {}
    for kind in SUB_ADDRESS_KINDS:
        if unit.get(kind):
            addresses[kind] = {**unit[kind], "region": None,
                               "country": unit[kind].get("country") or country}
    payload = {
        "name": unit["name"],
        "country": country,
        "org_number": _child_org_number(country, unit.get("org_number")),
        "relationship": base.get("relationship") or parent.get("relationship"),
        "parent_id": parent["id"],
        "industry_code": unit.get("industry_code") or base.get("industry_code"),
        "industry_text": unit.get("industry_text") or base.get("industry_text"),
        "employees": unit.get("employees"),
        "city": (unit.get("visiting") or unit.get("postal") or {}).get("city"),
        "owner_ids": base.get("owner_ids") or [],
        "department_id": base.get("department_id"),
    }
    if addresses:
        payload["addresses"] = addresses
    return payload


def create_children(parent: dict, units: list[dict], base: dict) -> tuple[list[dict], list[dict]]:
    """Create each sub-unit as a child of ``parent``, one after the other. A failure does
    not stop the others. -> (created [{"unit", "company"}], failed [{"unit", "message"}])."""
    created, failed = [], []
    base_key = form_key()  # the form's key: each child gets its own key derived from it (issue 12)
    for unit in units:
        # a unit's identity: its number, else (Danish production units have none) its p-number or place in the form
        ident = unit.get("org_number") or unit.get("p_number") or f"i{unit.get('index')}-{unit.get('name', '')}"
        try:
            company = rpc.create_company(child_payload(unit, parent, base),
                                         idempotency_key=child_key(base_key, "sub", parent.get("id"), ident))
        except errors.ValidationFailed as exc:
            reasons = exc.field_errors
            message = "; ".join(reasons.values()) if reasons else exc.message
            failed.append({"unit": unit, "message": message})
        except errors.GatewayError as exc:
            failed.append({"unit": unit, "message": exc.message})
        else:
            created.append({"unit": unit, "company": company})
    return created, failed


def unit_fields(unit: dict) -> list[tuple[str, str]]:
    """A sub-unit (as read from a form) back into its hidden fields."""
    i = unit["index"]
    out = [(f"subunits.{i}.{f}", str(unit[f])) for f in SUB_FIELDS if unit.get(f) not in (None, "")]
    for kind in SUB_ADDRESS_KINDS:
        out += [(f"subunits.{i}.{kind}.{f}", str(v)) for f, v in (unit.get(kind) or {}).items() if v]
    return out


def retry_fields(failed: list[dict], base: dict) -> list[tuple[str, str]]:
    """Hidden fields of the "try these sub-units again" form: what the children take from
    the parent form (relationship, owners, department, industry) and each failed sub-unit."""
    out = [(key, str(base[key])) for key in ("relationship", "department_id", "industry_code", "industry_text")
           if base.get(key) not in (None, "")]
    out += [("owner_ids", str(owner)) for owner in base.get("owner_ids") or []]
    for item in failed:
        out += unit_fields(item["unit"])
    return out


def read_base(form) -> dict:
    """The retry form's parent-derived fields (see retry_fields)."""
    return {"relationship": form.text("relationship", max_len=40), "department_id": form.integer("department_id"),
            "industry_code": form.text("industry_code", max_len=20), "industry_text": form.text("industry_text"),
            "owner_ids": form.ids("owner_ids")}
