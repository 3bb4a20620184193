"""The company overview: filter, sort, page, count and facet the tenant's
companies. Plain logic.

Fast at 100,000 companies because nothing is counted per request: the
counts are columns kept exact by :mod:`crm.counters`, the invoiced total is
one row per company and year, and every filter and sort has an index that
starts with ``tenant_id``. A page is found in two steps: the ids of the page
(an index walk; for deep pages the offset is skipped on the index alone),
then those rows with their owners and invoiced totals.
"""
from __future__ import annotations

from collections import Counter

import json
import re
from datetime import date

from sqlalchemy import and_, func, intersect, or_, select
from sqlalchemy.orm import Session, aliased

from service_common import text

from . import companies, util
from .exceptions import ValidationError
from .models import Attribute, Company, CompanyAttributeValue, CompanyWord, CompanyInvoiceTotal, CompanyOwner, CompanyTag, Department, Tag, User
from .schemas import OverviewQuery

C = Company
_CODE = re.compile(r"^[0-9][0-9.]*$")
LONG_FACETS = ("region", "city", "industry", "tag")  # issue 13: cut at ``facet_limit``, never at a fixed 30
WALK_FROM = 3000  # a live search matching more companies than this walks the name index
WALK_FROM_POSTGRES = 10_000  # PostgreSQL sorts up to this many matches faster than it walks (measured at 100k)


def _attr_conditions(session: Session, tenant_id: int, attr: dict) -> list:
    if not attr:
        return []
    ids = []
    for key in attr:
        try:
            ids.append(int(key))
        except (TypeError, ValueError):
            raise ValidationError("Unknown attribute", field=f"attr.{key}") from None
    defs = {a.id: a for a in session.scalars(select(Attribute).where(Attribute.tenant_id == tenant_id, Attribute.id.in_(ids)))}
    conds = []
    for key, value in attr.items():
        a = defs.get(int(key))
        if a is None:
            raise ValidationError("Unknown attribute", field=f"attr.{key}")
        base = select(CompanyAttributeValue.company_id).where(CompanyAttributeValue.tenant_id == tenant_id,
                                                              CompanyAttributeValue.attribute_id == a.id)
        field = f"attr.{key}"
        if a.type == "bool":
            if isinstance(value, str) and value in ("true", "false"):
                value = value == "true"
            if not isinstance(value, bool):
                raise ValidationError("Give true or false", field=field)
            has_true = C.id.in_(base.where(CompanyAttributeValue.value == "true"))
            conds.append(has_true if value else ~has_true)
        elif a.type == "stars":
            try:
                stars = int(value)
            except (TypeError, ValueError):
                stars = 0
            if isinstance(value, bool) or not 1 <= stars <= 5:
                raise ValidationError("Give a minimum of 1 to 5 stars", field=field)
            conds.append(C.id.in_(base.where(CompanyAttributeValue.value >= str(stars))))
        elif a.type in ("dropdown", "multi"):
            values = value if isinstance(value, list) else [value]
            options = json.loads(a.options or "[]")
            if not values or any(v not in options for v in values):
                raise ValidationError("Pick options from the list", field=field)
            conds.append(C.id.in_(base.where(CompanyAttributeValue.value.in_(values))))
        else:
            if not isinstance(value, str) or not value.strip():
                raise ValidationError("Give a text", field=field)
            conds.append(C.id.in_(base.where(CompanyAttributeValue.value.startswith(value.strip(), autoescape=True))))
    return conds


def _industry(values: list[str]):
    alternatives = []
    for value in values:
        value = value.strip()
        if _CODE.match(value):
            alternatives.append(C.industry_code.startswith(value, autoescape=True))
        else:
            words = text.words(value)
            if words:
                alternatives.append(and_(*[C.industry_words.contains(f" {w}", autoescape=True) for w in words]))
    return or_(*alternatives) if alternatives else None


def _q_conditions(tenant_id: int, q: str, walk: bool) -> list:
    """Each typed word must start a word of the company. ``walk`` writes the
    match as ``id + 0 IN (...)`` so the planner walks the sort index and probes
    the matches (best when many companies match) instead of sorting them all."""
    column = C.id + 0 if walk else C.id
    conds = []
    for word in text.words(q)[:companies.MAX_QUERY_WORDS]:
        low, high = text.prefix_range(word[:64])
        conds.append(column.in_(select(CompanyWord.company_id).where(
            CompanyWord.tenant_id == tenant_id, CompanyWord.word >= low, CompanyWord.word < high)))
    return conds


def conditions(session: Session, tenant_id: int, user_id: int | None, q: OverviewQuery, skip: str | None = None,
               _attr_cache: dict | None = None, walk: bool = False) -> list:
    conds = [C.tenant_id == tenant_id, *_q_conditions(tenant_id, q.q, walk)]
    if q.relationship and skip != "relationship":
        conds.append(C.relationship.in_(q.relationship))
    if q.country and skip != "country":
        conds.append(C.country.in_(q.country))
    if q.region and skip != "region":
        conds.append(C.region.in_(q.region))
    if q.city and skip != "city":
        conds.append(C.city.in_(q.city))
    if q.industry and skip != "industry":
        cond = _industry(q.industry)
        if cond is not None:
            conds.append(cond)
    if q.owner and skip != "owner":
        ids = [user_id if v == "mine" else v for v in q.owner]
        ids = [i for i in ids if i is not None]
        conds.append(C.id.in_(select(CompanyOwner.company_id).where(CompanyOwner.tenant_id == tenant_id,
                                                                    CompanyOwner.user_id.in_(ids))))
    if q.department and skip != "department":
        conds.append(C.department_id.in_(q.department))
    if q.tag and skip != "tag":
        folded = [t.strip().casefold() for t in q.tag]
        conds.append(C.id.in_(
            select(CompanyTag.company_id).join(Tag, Tag.id == CompanyTag.tag_id)
            .where(CompanyTag.tenant_id == tenant_id, Tag.tenant_id == tenant_id, Tag.folded.in_(folded))))
    if q.attr:
        if _attr_cache is not None and "attr" in _attr_cache:
            conds += _attr_cache["attr"]
        else:
            attr_conds = _attr_conditions(session, tenant_id, q.attr)
            if _attr_cache is not None:
                _attr_cache["attr"] = attr_conds
            conds += attr_conds
    if q.has_unresolved_tasks is not None:
        conds.append(C.unresolved_tasks > 0 if q.has_unresolved_tasks else C.unresolved_tasks == 0)
    if q.has_unsigned_agreements is not None:
        conds.append(C.unsigned_agreements > 0 if q.has_unsigned_agreements else C.unsigned_agreements == 0)
    if q.credit_band and skip != "credit_band":  # issue 10
        bands = [b for b in q.credit_band if b != "none"]
        band_conds = [C.credit_band.in_(bands)] if bands else []
        if "none" in q.credit_band:
            band_conds.append(C.credit_band.is_(None))
        conds.append(or_(*band_conds))
    return conds


def _order(sort: str, amount):
    key, desc = sort.lstrip("-"), sort.startswith("-")

    def d(col):
        return col.desc() if desc else col.asc()

    if key == "name":
        return [d(C.sort_name), d(C.id)]
    if key in ("created_at", "org_number"):
        return [d(getattr(C, key)), d(C.id)]
    if key == "credit_score":  # issue 10: unrated companies last either way
        return [C.credit_score.is_(None), d(C.credit_score), C.sort_name, C.id]
    column = amount if key == "invoiced_this_year" else getattr(C, key)
    return [d(column), C.sort_name, C.id]


def _only_q(q: OverviewQuery) -> bool:
    return not (q.relationship or q.country or q.region or q.city or q.industry or q.owner or q.department or q.tag
                or q.attr or q.has_unresolved_tasks is not None or q.has_unsigned_agreements is not None
                or q.credit_band)


def _count(session: Session, tenant_id: int, q: OverviewQuery, conds: list) -> int:
    """The total. A live search without other filters counts on the words index
    alone (distinct company ids per typed word, intersected), which is several
    times faster than probing companies for a short, common prefix."""
    words = text.words(q.q)[:companies.MAX_QUERY_WORDS]
    if words and _only_q(q):
        parts = []
        for word in words:
            low, high = text.prefix_range(word[:64])
            parts.append(select(CompanyWord.company_id).where(CompanyWord.tenant_id == tenant_id,
                                                              CompanyWord.word >= low, CompanyWord.word < high))
        matched = parts[0].distinct() if len(parts) == 1 else intersect(*parts)
        return session.scalar(select(func.count()).select_from(matched.subquery())) or 0
    return session.scalar(select(func.count()).select_from(C).where(*conds)) or 0


def list_companies(session: Session, tenant_id: int, user_id: int | None, q: OverviewQuery) -> dict:
    year = date.today().year
    cache: dict = {}
    conds = conditions(session, tenant_id, user_id, q, _attr_cache=cache)
    total_ = aliased(CompanyInvoiceTotal)
    joined = and_(total_.company_id == C.id, total_.year == year)
    amount = func.coalesce(total_.amount_minor, 0)
    order = _order(q.sort, amount)

    total = _count(session, tenant_id, q, conds)
    postgres = session.get_bind().dialect.name == "postgresql"
    if q.q and q.sort == "name" and total > (WALK_FROM_POSTGRES if postgres else WALK_FROM):
        ids_stmt = select(C.id).where(*conditions(session, tenant_id, user_id, q, _attr_cache=cache, walk=True))
    else:
        ids_stmt = select(C.id).where(*conds)
        if q.q and q.sort.lstrip("-") == "name" and postgres:
            # Few matches: sort them. PostgreSQL would otherwise walk the name index and probe each
            # company (its LIMIT estimate assumes the matches spread evenly over the names, but a
            # prefix's matches cluster: 76,000 probes, 200 ms, for "södra"); ``sort_name || ''``
            # orders the same (collation C) but no index can give it, so the matches come first.
            desc = q.sort.startswith("-")
            key = C.sort_name.concat("")
            order = [key.desc() if desc else key.asc(), C.id.desc() if desc else C.id.asc()]
    if q.sort.lstrip("-") == "invoiced_this_year":
        ids_stmt = ids_stmt.outerjoin(total_, joined)
    ids = list(session.scalars(ids_stmt.order_by(*order).limit(q.per_page).offset((q.page - 1) * q.per_page)))

    items = []
    if ids:
        rows = {r.id: r for r in session.execute(
            select(C.id, C.name, C.org_number, C.country, C.city, C.region, C.relationship, C.logo_version,
                   C.active_projects, C.unresolved_tasks, C.unsigned_agreements, total_.amount_minor,
                   C.credit_band, C.credit_score)
            .outerjoin(total_, joined).where(C.id.in_(ids)))}
        owners: dict[int, list] = {}
        for company_id, uid, name in session.execute(
            select(CompanyOwner.company_id, User.id, User.name).join(User, User.id == CompanyOwner.user_id)
            .where(CompanyOwner.company_id.in_(ids)).order_by(User.name, User.id)
        ):
            owners.setdefault(company_id, []).append({"id": uid, "name": name})
        currency = util.currency(session, tenant_id)
        for company_id in ids:
            r = rows[company_id]
            items.append({
                "id": r.id, "name": r.name, "org_number": r.org_number, "country": r.country, "city": r.city,
                "region": r.region, "relationship": r.relationship, "owners": owners.get(r.id, []),
                "logo_version": r.logo_version, "active_projects": r.active_projects,
                "unresolved_tasks": r.unresolved_tasks, "unsigned_agreements": r.unsigned_agreements,
                "invoiced_this_year": util.money(r.amount_minor), "currency": currency,
                "credit_band": r.credit_band, "credit_score": r.credit_score,
            })
    out = {"items": items, "total": total, "page": q.page, "per_page": q.per_page, "sort": q.sort, "facets": None,
           "labels": {"industry": industry_labels(session, tenant_id, q.industry)}}
    if q.facets:
        out["facets"], out["facet_values"] = facet_counts(session, tenant_id, user_id, q, cache, total, with_sizes=True)
    return out


def industry_labels(session: Session, tenant_id: int, values: list[str]) -> dict:
    """issue 13: the industry text of each selected industry code (for the active-filter chip)."""
    return _industry_texts(session, tenant_id, [v.strip() for v in values if _CODE.match(v.strip())])


def _industry_texts(session: Session, tenant_id: int, codes: list[str]) -> dict:
    if not codes:
        return {}
    rows = session.execute(select(C.industry_code, func.min(C.industry_text)).where(
        C.tenant_id == tenant_id, C.industry_code.in_(codes), C.industry_text.is_not(None)).group_by(C.industry_code))
    return {code: text_ for code, text_ in rows if text_}


ONE_PASS_MAX = 40_000  # up to this many matching companies, one pass beats a GROUP BY per column


def facet_counts(session: Session, tenant_id: int, user_id: int | None, q: OverviewQuery, cache: dict | None = None,
                 total: int | None = None, with_sizes: bool = False):
    """Counts per value of each filter, each over the other filters (a facet
    ignores its own selection, so its other values stay visible). Long facets
    (city, region, industry, tag) give their ``q.facet_limit`` biggest values
    plus every selected value; ``with_sizes`` also returns how many values each
    long facet has in all (so the panel can offer the rest)."""
    cache = cache if cache is not None else {}
    limit = q.facet_limit
    sizes: dict[str, int] = {}

    def where(dim):
        return conditions(session, tenant_id, user_id, q, skip=dim, _attr_cache=cache)

    def simple(dim, column, top=None):
        n = func.count().label("n")
        stmt = select(column, n).where(*where(dim), column.is_not(None)).group_by(column).order_by(n.desc(), column)
        if top:
            sizes[dim] = session.scalar(select(func.count(func.distinct(column))).where(*where(dim))) or 0
            rows = list(session.execute(stmt.limit(top)))
            missing = [v for v in getattr(q, dim) if v not in {r[0] for r in rows}]
            if missing and len(rows) < sizes[dim]:  # selected values outside the top come too
                rows += list(session.execute(select(column, n).where(*where(dim), column.in_(missing))
                                             .group_by(column).order_by(column)))
            return [{"value": v, "count": c} for v, c in rows]
        return [{"value": v, "count": c} for v, c in session.execute(stmt)]

    # The company columns whose own filter is not set share one WHERE: count them all in one
    # pass over the matching rows instead of one GROUP BY each (several times faster when filtered).
    columns = {"relationship": C.relationship, "country": C.country, "region": C.region, "city": C.city,
               "department": C.department_id, "industry": C.industry_code, "credit_band": C.credit_band}
    unfiltered = [dim for dim in columns if not getattr(q, dim)] if total is not None and total <= ONE_PASS_MAX else []
    shared: dict[str, Counter] = {dim: Counter() for dim in unfiltered}
    if unfiltered:
        for row in session.execute(select(*(columns[d] for d in unfiltered)).where(*where(None))):
            for dim, value in zip(unfiltered, row):
                if value is not None:
                    shared[dim][value] += 1

    def counted(dim, top=None):
        if dim in shared:
            pairs = sorted(shared[dim].items(), key=lambda kv: (-kv[1], kv[0]))
            if top:
                sizes[dim] = len(pairs)
                pairs = pairs[:top]  # nothing selected in an unfiltered facet: nothing else to add
            return [{"value": v, "count": c} for v, c in pairs]
        return simple(dim, columns[dim], top)

    out = {
        "relationship": counted("relationship"),
        "country": counted("country"),
        "region": counted("region", limit),
        "city": counted("city", limit),
        "credit_band": sorted(counted("credit_band"), key=lambda f: f["value"]),  # issue 10
    }
    n = func.count().label("n")
    owner_where = where("owner")
    if len(owner_where) == 1:  # no other filter: count on the owners index alone
        rows = session.execute(select(CompanyOwner.user_id, n).where(CompanyOwner.tenant_id == tenant_id)
                               .group_by(CompanyOwner.user_id).order_by(n.desc())).all()
    else:
        rows = session.execute(
            select(CompanyOwner.user_id, n).join(C, C.id == CompanyOwner.company_id)
            .where(*owner_where).group_by(CompanyOwner.user_id).order_by(n.desc())
        ).all()
    labels = util.names(session, tenant_id, [r[0] for r in rows])
    out["owner"] = [{"value": uid, "label": labels.get(uid, "?"), "count": c} for uid, c in rows]
    rows = [(f["value"], f["count"]) for f in counted("department")]
    labels = dict(session.execute(select(Department.id, Department.name).where(Department.tenant_id == tenant_id)).all())
    out["department"] = [{"value": d, "label": labels.get(d, "?"), "count": c} for d, c in rows]
    tag_where = where("tag")
    if len(tag_where) == 1:
        stmt = select(CompanyTag.tag_id, n).where(CompanyTag.tenant_id == tenant_id).group_by(CompanyTag.tag_id)
    else:
        stmt = (select(CompanyTag.tag_id, n).join(C, C.id == CompanyTag.company_id)
                .where(*tag_where).group_by(CompanyTag.tag_id))
    rows = session.execute(stmt.order_by(n.desc(), CompanyTag.tag_id).limit(limit)).all()
    sizes["tag"] = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    tags = dict(session.execute(select(Tag.id, Tag.name).where(Tag.tenant_id == tenant_id)).all()) if sizes["tag"] else {}
    if q.tag and len(rows) < sizes["tag"]:  # selected tags outside the top come too
        folded = {t.strip().casefold() for t in q.tag}
        have = {r[0] for r in rows}
        wanted = [i for i, name in tags.items() if name.casefold() in folded and i not in have]
        if wanted:
            rows += session.execute(stmt.where(CompanyTag.tag_id.in_(wanted))).all()
    out["tag"] = [{"value": tags.get(t, "?"), "count": c} for t, c in rows]
    rows = [(f["value"], f["count"]) for f in counted("industry", limit)]
    texts = _industry_texts(session, tenant_id, [code for code, _c in rows])  # one query, not one per value
    out["industry"] = [{"value": code, "count": c, "label": texts.get(code)} for code, c in rows]
    return (out, sizes) if with_sizes else out
