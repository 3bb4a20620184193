"""The overview's state: URL query string <-> a plain object <-> the crm
``list_companies`` query. Plain logic (no Flask), so it tests on its own.

The URL holds the whole state, so a view can be bookmarked, shared, saved
and restored from history. Parameter names follow the RPC contract where
they can; attribute filters carry their type in the name so that parsing
needs no round trip for the attribute list:

    q=acme&relationship=customer&relationship=prospect&country=NO&city=Oslo
    &industry=78&owner=mine&owner=7&department=2&tag=vip
    &attr.3=Gold&attr.3=Silver   (dropdown / multi: any of)
    &stars.4=3                   (stars: at least 3)
    &flag.5=yes                  (bool: yes | no)
    &has_unresolved_tasks=1&has_unsigned_agreements=1&sort=-invoiced_this_year&page=3
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode

RELATIONSHIPS = ("prospect", "customer", "suspect", "supplier", "partner", "former_customer")
LIST_KEYS = ("relationship", "country", "region", "city", "industry", "owner", "department", "tag", "credit_band")
BOOL_KEYS = ("has_unresolved_tasks", "has_unsigned_agreements")
SORTS = ("name", "org_number", "city", "relationship", "active_projects", "unresolved_tasks",
         "unsigned_agreements", "invoiced_this_year", "created_at", "credit_score")
# Numbers are most useful biggest first: their first click sorts descending.
DESC_FIRST = ("active_projects", "unresolved_tasks", "unsigned_agreements", "invoiced_this_year", "created_at",
              "credit_score")
DEFAULT_SORT = "name"
MAX_VALUES = 50
MAX_LEN = 100
MAX_PAGE = 1_000_000
_ATTR = re.compile(r"^(attr|stars|flag)\.(\d{1,9})$")


def _clean(value: str) -> str:
    return value.strip()[:MAX_LEN]


def _valid(key: str, value: str) -> str | None:
    """The canonical form of one list value, or None to drop it."""
    if not value:
        return None
    if key == "relationship":
        return value if value in RELATIONSHIPS else None
    if key == "country":
        value = value.upper()
        return value if re.fullmatch(r"[A-Z]{2}", value) else None
    if key == "owner":
        return value if value == "mine" or value.isdigit() else None
    if key == "department":
        return value if value.isdigit() else None
    if key == "credit_band":  # issue 10: A-E, or "none" (no rating)
        return value if value in ("A", "B", "C", "D", "E", "none") else None
    return value


@dataclass(frozen=True)
class State:
    q: str = ""
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    attr: dict[int, tuple[str, ...]] = field(default_factory=dict)  # dropdown / multi: any of
    stars: dict[int, int] = field(default_factory=dict)  # at least n stars
    flag: dict[int, bool] = field(default_factory=dict)  # yes / no
    has_unresolved_tasks: bool = False
    has_unsigned_agreements: bool = False
    sort: str = DEFAULT_SORT
    page: int = 1

    # -- reading ---------------------------------------------------------
    @classmethod
    def from_args(cls, args) -> State:
        """``args``: a werkzeug MultiDict (request.args) or a list of pairs."""
        pairs = list(args.items(multi=True)) if hasattr(args, "items") and hasattr(args, "getlist") else list(args)
        lists: dict[str, list[str]] = {}
        attr: dict[int, list[str]] = {}
        stars: dict[int, int] = {}
        flag: dict[int, bool] = {}
        q, sort, page, tasks, unsigned = "", DEFAULT_SORT, 1, False, False
        for key, raw in pairs:
            value = _clean(raw or "")
            if key == "q":
                q = value
            elif key in LIST_KEYS:
                value = _valid(key, value)
                bucket = lists.setdefault(key, [])
                if value is not None and value not in bucket and len(bucket) < MAX_VALUES:
                    bucket.append(value)
            elif key in BOOL_KEYS:
                if value in ("1", "true", "on", "yes"):
                    tasks = tasks or key == "has_unresolved_tasks"
                    unsigned = unsigned or key == "has_unsigned_agreements"
            elif key == "sort":
                if value.lstrip("-") in SORTS:
                    sort = value
            elif key == "page":
                page = max(1, min(int(value), MAX_PAGE)) if value.isdigit() else 1
            elif m := _ATTR.match(key):
                kind, attr_id = m.group(1), int(m.group(2))
                if kind == "attr" and value:
                    bucket = attr.setdefault(attr_id, [])
                    if value not in bucket and len(bucket) < MAX_VALUES:
                        bucket.append(value)
                elif kind == "stars" and value in ("1", "2", "3", "4", "5"):
                    stars[attr_id] = int(value)
                elif kind == "flag" and value in ("yes", "no"):
                    flag[attr_id] = value == "yes"
        return cls(
            q=q,
            lists={k: tuple(v) for k, v in lists.items() if v},
            attr={k: tuple(v) for k, v in attr.items() if v},
            stars=stars,
            flag=flag,
            has_unresolved_tasks=tasks,
            has_unsigned_agreements=unsigned,
            sort=sort,
            page=page,
        )

    @classmethod
    def from_query_string(cls, qs: str) -> State:
        return cls.from_args(parse_qsl(qs or "", keep_blank_values=False))

    # -- the RPC query ---------------------------------------------------------
    def to_query(self, per_page: int, facets: bool = True) -> dict:
        query: dict = {"sort": self.sort, "page": self.page, "per_page": per_page, "facets": facets}
        if self.q:
            query["q"] = self.q
        for key, values in self.lists.items():
            if key in ("department",):
                query[key] = [int(v) for v in values]
            elif key == "owner":
                query[key] = [v if v == "mine" else int(v) for v in values]
            else:
                query[key] = list(values)
        attrs: dict[str, object] = {}
        for attr_id, values in self.attr.items():
            attrs[str(attr_id)] = list(values)
        for attr_id, n in self.stars.items():
            attrs[str(attr_id)] = n
        for attr_id, yes in self.flag.items():
            attrs[str(attr_id)] = yes
        if attrs:
            query["attr"] = attrs
        if self.has_unresolved_tasks:
            query["has_unresolved_tasks"] = True
        if self.has_unsigned_agreements:
            query["has_unsigned_agreements"] = True
        return query

    # -- writing the URL ---------------------------------------------------------
    def pairs(self, *, with_page: bool = True, with_sort: bool = True) -> list[tuple[str, str]]:
        """The canonical query string as pairs (defaults left out)."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        for key in LIST_KEYS:
            out.extend((key, v) for v in self.lists.get(key, ()))
        for attr_id in sorted(self.attr):
            out.extend((f"attr.{attr_id}", v) for v in self.attr[attr_id])
        for attr_id in sorted(self.stars):
            out.append((f"stars.{attr_id}", str(self.stars[attr_id])))
        for attr_id in sorted(self.flag):
            out.append((f"flag.{attr_id}", "yes" if self.flag[attr_id] else "no"))
        for key in BOOL_KEYS:
            if getattr(self, key):
                out.append((key, "1"))
        if with_sort and self.sort != DEFAULT_SORT:
            out.append(("sort", self.sort))
        if with_page and self.page != 1:
            out.append(("page", str(self.page)))
        return out

    def query_string(self, **kw) -> str:
        return urlencode(self.pairs(**kw))

    def with_(self, **changes) -> State:
        """A copy with changes; any filter change goes back to page 1 unless a page is given."""
        if "page" not in changes:
            changes["page"] = 1
        return replace(self, **changes)

    def sorted_by(self, column: str) -> State:
        """The state after a click on ``column``'s header."""
        if self.sort == column:
            new = f"-{column}"
        elif self.sort == f"-{column}":
            new = column
        else:
            new = f"-{column}" if column in DESC_FIRST else column
        return self.with_(sort=new)

    def aria_sort(self, column: str) -> str:
        if self.sort == column:
            return "ascending"
        if self.sort == f"-{column}":
            return "descending"
        return "none"

    def without(self, key: str, value=None) -> State:
        """The state with one filter value (or a whole filter) removed."""
        if key == "q":
            return self.with_(q="")
        if key in BOOL_KEYS:
            return self.with_(**{key: False})
        if key in LIST_KEYS:
            lists = dict(self.lists)
            remaining = tuple(v for v in lists.get(key, ()) if value is not None and v != value)
            if remaining:
                lists[key] = remaining
            else:
                lists.pop(key, None)
            return self.with_(lists=lists)
        m = _ATTR.match(key)
        if m:
            kind, attr_id = m.group(1), int(m.group(2))
            if kind == "attr":
                attr = dict(self.attr)
                remaining = tuple(v for v in attr.get(attr_id, ()) if value is not None and v != value)
                if remaining:
                    attr[attr_id] = remaining
                else:
                    attr.pop(attr_id, None)
                return self.with_(attr=attr)
            bucket = dict(getattr(self, kind))
            bucket.pop(attr_id, None)
            return self.with_(**{kind: bucket})
        return self

    def cleared(self) -> State:
        """No filters and no search; the sort stays."""
        return State(sort=self.sort)

    @property
    def filtered(self) -> bool:
        return bool(self.pairs(with_page=False, with_sort=False))

    def selected(self, key: str, value) -> bool:
        return str(value) in self.lists.get(key, ())


def page_window(page: int, last: int, around: int = 2) -> list[int | None]:
    """Page numbers to link, None for a gap: 1 … 48 49 [50] 51 52 … 2000."""
    if last <= 1:
        return [1] if last == 1 else []
    shown = {1, last, *range(max(1, page - around), min(last, page + around) + 1)}
    out: list[int | None] = []
    prev = 0
    for n in sorted(shown):
        if n - prev > 1:
            out.append(None)
        out.append(n)
        prev = n
    return out
