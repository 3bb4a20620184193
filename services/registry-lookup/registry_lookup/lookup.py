"""The service's logic: search, get and sub-units over the local index, with
the registries' live APIs where the index lacks a company or is stale (the
index learns what the live API says). Plain code: no nameko here.

``registries`` is a ``clients.Registries`` (or anything with the same
search/get/subunits/settings); ``index`` is an ``index.Index``.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from . import orgnr, records
from .exceptions import NotFound, SourceUnavailable
from .index import Hit, Index
from .schemas import SearchIn
from .text import name_key, number_prefix, words

log = logging.getLogger(__name__)
FEED = "brreg:enheter"


def _mode(index: Index, settings, country: str) -> str:
    if settings.search_mode != "auto":
        return settings.search_mode
    return "index" if index.has_any(country) else "live"


def _live_hits(registries, country: str, q: str, key: str, number: str | None, limit: int) -> list[Hit]:
    hits = []
    for e in registries.search(country, q, limit):
        if number and e["org_number"] == number:
            rank = 0
        elif name_key(e["name"]).startswith(key):
            rank = 1
        else:
            rank = 2
        k = name_key(e["name"])
        hits.append(Hit(rank, (len(k), k) if rank < 2 else (0, len(k), k), records.summary(e)))
    return hits


def search(index: Index, registries, req: SearchIn) -> dict:
    """-> {"items": [...], "failed_countries": [...], "errors": [{"country", "message"}]}"""
    ws = words(req.q)
    key = " ".join(ws)
    prefix = number_prefix(req.q)
    hits: list[Hit] = []
    live: dict[str, callable] = {}
    typed = "".join(req.q.split()).replace("-", "").replace(".", "")
    for country in req.countries:
        number = orgnr.parse(country, req.q)
        if number and len(number) != len(typed):
            number = None  # "3000" is not UK company 00003000 while someone is still typing
        mode = _mode(index, registries.settings, country)
        if mode == "index":
            found = index.search(country, ws, number, req.limit, prefix)
            hits += found
            if number and registries.settings.search_mode == "auto" and not any(h.rank == 0 for h in found):
                live[country] = lambda c=country, n=number: _learn_number(index, registries, c, n)
        else:
            live[country] = lambda c=country, n=number: _live_hits(registries, c, req.q, key, n, req.limit)
    errors = []
    if live:
        with ThreadPoolExecutor(max_workers=len(live)) as pool:
            futures = {country: pool.submit(call) for country, call in live.items()}
            for country, future in futures.items():
                try:
                    hits += future.result()
                except SourceUnavailable as exc:
                    errors.append({"country": country, "message": exc.message})
    hits.sort(key=lambda h: (h.rank, h.key))
    seen, items = set(), []
    for h in hits:
        ident = (h.item["country"], h.item["org_number"])
        if ident not in seen:
            seen.add(ident)
            items.append(h.item)
    return {"items": items[:req.limit], "failed_countries": [e["country"] for e in errors], "errors": errors}


def _learn_number(index: Index, registries, country: str, number: str) -> list[Hit]:
    """A valid organisation number the index lacks: ask the registry, keep the answer."""
    e = registries.get(country, number)
    if e is None or e["kind"] != "main":
        return []
    index.upsert([e], source="live")
    return [Hit(0, (0, name_key(e["name"])), records.summary(e))]


def get(index: Index, registries, country: str, org_number: str) -> dict:
    """Everything a new-company form needs. From the index while fresh, else
    from the registry (and the index learns it); a stale copy when the registry is down."""
    settings = registries.settings
    known = index.get(country, org_number)
    if known is not None:
        entity, source, refreshed_at = known
        fresh = time.time() - refreshed_at < settings.max_age_hours * 3600
        if settings.search_mode == "index" or (fresh and settings.search_mode != "live"):
            return _reply(entity, "index", refreshed_at)
    try:
        live = registries.get(country, org_number)
    except SourceUnavailable:
        if known is None:
            raise
        entity, _source, refreshed_at = known
        return _reply(entity, "index", refreshed_at, stale=True)
    if live is None:
        if known is not None:  # the registry no longer has it
            entity, _source, refreshed_at = known
            return _reply(entity, "index", refreshed_at, stale=True)
        raise NotFound(f"No company {org_number} in the {country} registry", country=country, org_number=org_number)
    if live.get("missing"):  # a partial answer (a Bolagsverket data producer down, a bare 410): keep what we had
        live = records.merge_missing(live, known[0] if known else None)
        if not live["name"]:
            name = registries.client(country).name
            raise SourceUnavailable(f"{name}: {live.get('missing_reason') or 'answered without the company name'}",
                                    country=country, source=name)
    if known is not None and live.get("industry"):  # Companies House sends SIC codes without their text
        texts = {i["code"]: i.get("text") for i in known[0].get("industry") or []}
        live["industry"] = [{**i, "text": i.get("text") or texts.get(i["code"])} for i in live["industry"]]
    index.upsert([live], source="live")
    return _reply(live, "live", int(time.time()))


def _reply(entity: dict, source: str, refreshed_at: int, stale: bool = False) -> dict:
    out = records.detail(entity)
    out.update({"kind": entity.get("kind", "main"), "parent": entity.get("parent"), "source": source,
                "refreshed_at": refreshed_at, "stale": stale})
    return out


def subunits(index: Index, registries, country: str, org_number: str) -> dict:
    """Norway's underenheter, Denmark's production units, UK establishments of
    oversea companies; Sweden has none in its registry."""
    if country == "SE":
        return {"items": [], "source": "registry"}
    settings = registries.settings
    known = index.get(country, org_number)
    if country == "GB" and known is not None and known[0].get("legal_form") not in ("oversea-company", None):
        return {"items": [], "source": "index"}  # only oversea companies have UK establishments
    if settings.search_mode != "live" and country != "GB" and known is not None and index.has_any(country, "sub"):
        return {"items": [records.subunit(e) for e in index.subunits(country, org_number)], "source": "index"}
    units = registries.subunits(country, org_number)
    index.upsert(units, source="live")
    return {"items": [records.subunit(e) for e in sorted(units, key=lambda e: name_key(e["name"]))], "source": "live"}


def sync_brreg(index: Index, registries, max_pages: int = 20, page_size: int = 500) -> dict:
    """Follow Brønnøysund's update feed (``/oppdateringer/enheter``) from where
    it stopped: fetch each changed unit and upsert it; removed units become deleted."""
    client = registries.client("NO")
    cursor = index.cursor(FEED) or "dato:" + time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 86400))
    applied = 0
    for _page in range(max_pages):
        updates = client.updates(cursor, "enheter", page_size)
        if not updates:
            break
        for u in updates:
            entity = None
            if u["change"] not in ("Sletting", "Fjernet"):
                entity = client.get(u["org_number"])
            if entity is None:
                known = index.get("NO", u["org_number"])
                if known is None:
                    continue
                entity = {**known[0], "country": "NO", "org_number": u["org_number"], "status": "deleted",
                          "status_text": f"{u['change']} {(u.get('date') or '')[:10]}".strip()}
            index.upsert([entity], source="feed")
            applied += 1
        cursor = f"id:{max(u['id'] for u in updates) + 1}"
        index.set_cursor(FEED, cursor)
        if len(updates) < page_size:
            break
    return {"applied": applied, "cursor": cursor}
