"""Helpers for the registry end-to-end and browser tests: companies that are surely in
the suite's dev registry index, and reading a rendered form the way a browser posts it."""
from __future__ import annotations

import html
import os
import re

from registry_lookup import devdata


def dev_company(nth: int, country: str = "NO", min_subunits: int = 2) -> dict:
    """The ``nth`` active company (0-based) of the dev data with at least ``min_subunits``
    active sub-units and a name no other dev company of its country shares. The suite
    builds its registry index from the first REGISTRY_DEV_ENTITIES companies per country
    (tests/conftest.py: 2000), the same generator, so these are in the index."""
    n = min(int(os.environ.get("REGISTRY_DEV_ENTITIES", "2000")), 2000)
    companies = list(devdata.companies(country, n))
    names: dict[str, int] = {}
    for c in companies:
        names[c["name"].lower()] = names.get(c["name"].lower(), 0) + 1
    found = [c for c in companies
             if c["status"] == "active" and len(c["subs"]) >= min_subunits and names[c["name"].lower()] == 1
             and all(s["status"] == "active" for s in c["subs"]) and c["i"] >= 50]
    return found[nth]


def form_fields(page: str, form_id: str = "company-form") -> dict[str, list[str]]:
    """Every successful control of the form ``form_id`` in ``page``: name -> values."""
    start = page.index(f'id="{form_id}"')
    form = page[start:page.index("</form>", start)]
    data: dict[str, list[str]] = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio") and not re.search(r"\schecked\b", tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data.setdefault(html.unescape(name.group(1)), []).append(html.unescape(value.group(1)) if value else "")
    for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        data[name] = [html.unescape(chosen.group(1)) if chosen else ""]
    for name, body in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[name] = [html.unescape(body)]
    return data
