"""The overview's selection as the browser posts it (one form field ``selection``
holding JSON), checked for shape before it goes to a service. Plain logic.

    {"ids": [12, 17, 40]}                                       the ticked rows
    {"filter": {"q": "bygg", "relationship": ["customer"]},      "all N matching"
     "exclude_ids": [17]}                                        ... minus unticked rows

The filter holds the crm overview query fields (``crm.schemas.SelectionFilter``);
the service validates their values (an unknown relationship, attribute, ...).
Here: exactly one of ids / filter, ids positive integers, known filter keys of the
right JSON type, sizes bounded. Bad input raises ``errors.ValidationFailed``
naming the field (``selection``, ``selection.ids``, ``selection.filter.q``, ...).
"""
from __future__ import annotations

import json

from . import errors

MAX_IDS = 10_000
MAX_BYTES = 200_000
LIST_KEYS = ("relationship", "country", "region", "city", "industry", "owner", "department", "tag")
BOOL_KEYS = ("has_unresolved_tasks", "has_unsigned_agreements")
IGNORED_KEYS = ("sort", "page", "per_page", "facets")  # a selection is not paged


def _fail(field: str, message: str):
    raise errors.ValidationFailed(f"{field}: {message}", {"field": field, "errors": [{"field": field, "message": message}]})


def _ids(value, field: str) -> list[int]:
    if not isinstance(value, list):
        _fail(field, "expected a list of ids")
    if len(value) > MAX_IDS:
        _fail(field, f"at most {MAX_IDS:,} companies can be picked one by one; select all matching instead")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, str)) or not str(v).isdigit() or not 1 <= int(v) <= 2**31 - 1:
            _fail(field, "ids are positive integers")
        out.append(int(v))
    return list(dict.fromkeys(out))


def _scalar(v) -> bool:
    return isinstance(v, (str, int)) and not isinstance(v, bool) and len(str(v)) <= 200


def _filter(value) -> dict:
    if not isinstance(value, dict):
        _fail("selection.filter", "expected an object")
    out: dict = {}
    for key, v in value.items():
        field = f"selection.filter.{key}"
        if key in IGNORED_KEYS:
            continue
        if key == "q":
            if not isinstance(v, str) or len(v) > 100:
                _fail(field, "expected a text of at most 100 characters")
            if v.strip():
                out["q"] = v.strip()
        elif key in LIST_KEYS:
            values = v if isinstance(v, list) else [v]
            if len(values) > 50 or not all(_scalar(x) for x in values):
                _fail(field, "expected a list of at most 50 values")
            if values:
                out[key] = values
        elif key in BOOL_KEYS:
            if v is not None and not isinstance(v, bool):
                _fail(field, "expected true or false")
            if v is not None:
                out[key] = v
        elif key == "attr":
            if not isinstance(v, dict) or len(v) > 50:
                _fail(field, "expected an object of attribute filters")
            for attr_id, attr_value in v.items():
                if not str(attr_id).isdigit():
                    _fail(f"{field}.{attr_id}", "unknown attribute")
                ok = _scalar(attr_value) or isinstance(attr_value, bool) or (
                    isinstance(attr_value, list) and len(attr_value) <= 50 and all(_scalar(x) for x in attr_value))
                if not ok:
                    _fail(f"{field}.{attr_id}", "expected a value or a list of options")
            if v:
                out["attr"] = v
        else:
            _fail(field, "not a filter of the overview")
    return out


def parse_selection(value) -> dict:
    """The posted ``selection`` field (a JSON string, or an already decoded dict) as
    the crm's SelectionIn dict. Raises ``errors.ValidationFailed`` naming the field."""
    if value is None or value == "":
        _fail("selection", "select one or more companies first")
    if isinstance(value, (str, bytes)):
        if len(value) > MAX_BYTES:
            _fail("selection", "the selection is too large")
        try:
            value = json.loads(value)
        except ValueError:
            _fail("selection", "not a valid selection")
    if not isinstance(value, dict):
        _fail("selection", "not a valid selection")
    unknown = set(value) - {"ids", "filter", "exclude_ids"}
    if unknown:
        _fail(f"selection.{sorted(unknown)[0]}", "unknown key")
    has_ids, has_filter = value.get("ids") is not None, value.get("filter") is not None
    if has_ids == has_filter:
        _fail("selection", "give either ids or filter")
    out: dict = {}
    if has_ids:
        out["ids"] = _ids(value["ids"], "selection.ids")
        if not out["ids"]:
            _fail("selection.ids", "select one or more companies first")
    else:
        out["filter"] = _filter(value["filter"])
    if value.get("exclude_ids"):
        out["exclude_ids"] = _ids(value["exclude_ids"], "selection.exclude_ids")
    return out


def filter_of(query: dict) -> dict:
    """The selection filter of an overview RPC query (``State.to_query``): paging, sort and facets left out."""
    return {k: v for k, v in query.items() if k not in IGNORED_KEYS}
