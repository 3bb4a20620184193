"""The one shape every registry is turned into: an entity dict.

Parsers (``sources/*``) build these from each registry's own format, the
index stores them, and ``get``/``subunits`` return them (minus ``kind`` and
``parent``). Keys:

    country, org_number, org_number_display ("976 030 788", "556016-0680"), kind ("main" | "sub"),
    parent (org number or None), name,
    legal_form (the registry's code), legal_form_text (the registry's own description, or None),
    status (one of STATUSES), status_text (the registry's own words for it, or None),
    industry [{"code", "text"}] or None (no industry given),
    employees (int or None), employees_range (str or None),
    visiting_address, postal_address ({"street", "postcode", "city", "country"} or None: never
    copied from one another; an address the registry did not give stays None),
    region (fylke / region / the UK county or region), municipality (kommune / kommun),
    marketing_protection (True: reklamebeskyttet / reklamspärr; False: the registry says no; None: not said),
    missing (None, or the fields a partial answer could not give: ["name", "postal_address", ...]),
    missing_reason (the registry's words for why), website, phone, email, registered_on ("YYYY-MM-DD" or None)

Statuses: ``active``; ``dissolved`` (wound up, struck off); ``bankrupt`` (bankruptcy, administration,
receivership); ``liquidation`` (in liquidation or compulsory winding-up); ``closed`` (a sub-unit or
production unit that ended); ``deleted`` (removed from the register); ``unknown`` (a status text we do
not know: never shown as active).
"""
from __future__ import annotations

import re

STATUSES = ("active", "dissolved", "bankrupt", "liquidation", "closed", "deleted", "unknown")
DETAIL_KEYS = (
    "country", "org_number", "org_number_display", "name", "legal_form", "legal_form_text", "status",
    "status_text", "industry", "employees", "employees_range", "visiting_address", "postal_address", "region",
    "municipality", "marketing_protection", "missing", "missing_reason", "website", "phone", "email",
    "registered_on",
)
# the fields a partial answer may lack (and that are then kept from what the index had)
MERGEABLE = tuple(k for k in DETAIL_KEYS if k not in ("country", "org_number", "missing", "missing_reason"))
_SPACES = re.compile(r"\s{2,}")


def clean(value):
    """Strip strings and collapse runs of spaces (bulk rows pad with them); empty strings become None."""
    if isinstance(value, str):
        value = _SPACES.sub(" ", value.strip())
        return value or None
    return value


def address(street=None, postcode=None, city=None, country=None) -> dict | None:
    street, postcode, city, country = clean(street), clean(postcode), clean(city), clean(country)
    if not (street or postcode or city):
        return None
    return {"street": street, "postcode": postcode, "city": city, "country": country}


def industry(code, text) -> dict | None:
    code, text = clean(code), clean(text)
    if not code:
        return None
    return {"code": str(code), "text": text}


def display_number(country: str, org_number: str) -> str:
    """The organisation number as the registry prints it: NO ``NNN NNN NNN``, SE ``NNNNNN-NNNN``."""
    n = org_number or ""
    if country == "NO" and len(n) == 9 and n.isdigit():
        return f"{n[:3]} {n[3:6]} {n[6:]}"
    if country == "SE" and len(n) == 10 and n.isdigit():
        return f"{n[:6]}-{n[6:]}"
    return n


def entity(country, org_number, name, *, kind="main", parent=None, legal_form=None, legal_form_text=None,
           status="active", status_text=None, industry_codes=(), employees=None, employees_range=None,
           visiting_address=None, postal_address=None, region=None, municipality=None,
           marketing_protection=None, missing=None, missing_reason=None, website=None, phone=None,
           email=None, registered_on=None) -> dict:
    codes = [i for i in industry_codes or () if i]
    return {
        "country": country,
        "org_number": org_number,
        "org_number_display": display_number(country, org_number),
        "kind": kind,
        "parent": parent,
        "name": clean(name) or "",
        "legal_form": clean(legal_form),
        "legal_form_text": clean(legal_form_text),
        "status": status if status in STATUSES else "unknown",
        "status_text": clean(status_text),
        "industry": codes or None,
        "employees": employees,
        "employees_range": clean(employees_range),
        "visiting_address": visiting_address,
        "postal_address": postal_address,
        "region": clean(region),
        "municipality": clean(municipality),
        "marketing_protection": marketing_protection,
        "missing": sorted(set(missing)) if missing else None,
        "missing_reason": clean(missing_reason),
        "website": clean(website),
        "phone": clean(phone),
        "email": clean(email),
        "registered_on": clean(registered_on),
    }


def merge_missing(live: dict, known: dict | None) -> dict:
    """A partial answer (``missing`` set) completed from what the index had: a field the registry
    could not give keeps its stored value, never a null over a good value. ``missing`` stays, so
    the caller still sees which fields did not come fresh."""
    if not live.get("missing") or not known:
        return live
    out = dict(live)
    for field in live["missing"]:
        if field in MERGEABLE and known.get(field) not in (None, "", []):
            out[field] = known[field]
    return out


def city_of(e: dict) -> str | None:
    addr = e.get("visiting_address") or e.get("postal_address") or {}
    return addr.get("city")


def detail(e: dict) -> dict:
    """What ``get`` returns for a company."""
    return {k: e.get(k) for k in DETAIL_KEYS}


def subunit(e: dict) -> dict:
    """What ``subunits`` returns for one sub-unit."""
    return {
        "org_number": e["org_number"],
        "name": e["name"],
        "status": e["status"],
        "status_text": e.get("status_text"),
        "visiting_address": e.get("visiting_address"),
        "postal_address": e.get("postal_address"),
        "region": e.get("region"),
        "municipality": e.get("municipality"),
        "industry": e.get("industry"),
        "employees": e.get("employees"),
        "employees_range": e.get("employees_range"),
    }


def summary(e: dict) -> dict:
    """One search hit."""
    return {
        "country": e["country"],
        "org_number": e["org_number"],
        "org_number_display": e.get("org_number_display") or display_number(e["country"], e["org_number"]),
        "name": e["name"],
        "city": city_of(e),
        "region": e.get("region"),
        "status": e["status"],
        "status_text": e.get("status_text"),
        "legal_form": e.get("legal_form"),
    }
