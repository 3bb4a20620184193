"""The one shape every registry is turned into: an entity dict.

Parsers (``sources/*``) build these from each registry's own format, the
index stores them, and ``get``/``subunits`` return them (minus ``kind`` and
``parent``). Keys:

    country, org_number, kind ("main" | "sub"), parent (org number or None),
    name, legal_form, legal_form_text, status ("active" | "dissolved" | "bankrupt"),
    industry [{"code", "text"}], employees (int or None), employees_range (str or None),
    visiting_address, postal_address ({"street", "postcode", "city", "country"} or None),
    website, phone, email, registered_on ("YYYY-MM-DD" or None)
"""
from __future__ import annotations

STATUSES = ("active", "dissolved", "bankrupt")
DETAIL_KEYS = (
    "country", "org_number", "name", "legal_form", "legal_form_text", "status", "industry",
    "employees", "employees_range", "visiting_address", "postal_address", "website", "phone",
    "email", "registered_on",
)


def clean(value):
    """Strip strings; empty strings become None."""
    if isinstance(value, str):
        value = value.strip()
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


def entity(country, org_number, name, *, kind="main", parent=None, legal_form=None, legal_form_text=None,
           status="active", industry_codes=(), employees=None, employees_range=None, visiting_address=None,
           postal_address=None, website=None, phone=None, email=None, registered_on=None) -> dict:
    return {
        "country": country,
        "org_number": org_number,
        "kind": kind,
        "parent": parent,
        "name": clean(name) or "",
        "legal_form": clean(legal_form),
        "legal_form_text": clean(legal_form_text),
        "status": status if status in STATUSES else "active",
        "industry": [i for i in industry_codes if i],
        "employees": employees,
        "employees_range": clean(employees_range),
        "visiting_address": visiting_address,
        "postal_address": postal_address,
        "website": clean(website),
        "phone": clean(phone),
        "email": clean(email),
        "registered_on": clean(registered_on),
    }


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
        "visiting_address": e.get("visiting_address"),
        "postal_address": e.get("postal_address"),
        "industry": e.get("industry") or [],
        "employees": e.get("employees"),
        "employees_range": e.get("employees_range"),
    }


def summary(e: dict) -> dict:
    """One search hit."""
    return {
        "country": e["country"],
        "org_number": e["org_number"],
        "name": e["name"],
        "city": city_of(e),
        "status": e["status"],
        "legal_form": e.get("legal_form"),
    }
