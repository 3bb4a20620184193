"""Denmark's CVR, as the Virk distribution Elasticsearch serves it
(``cvr-permanent/virksomhed/_search``, ``.../produktionsenhed/_search``).

There is no bulk file: a "dump" is what an ES scroll over both indices
returns, saved one hit per line (``cvr-dump.jsonl.gz``; each line
``{"_index", "_type", "_id", "_source": {"Vrvirksomhed": {...}}}`` or
``{"_source": {"VrproduktionsEnhed": {...}}}``).
"""
from __future__ import annotations

import gzip
import re
from functools import lru_cache
from typing import Iterator

import orjson

from ..records import address, entity, industry
from ..text import fold

_INTERVAL = re.compile(r"^ANTAL_(\d+)_(\d+)$")


@lru_cache(maxsize=1024)
def status(value: str | None) -> str:
    v = fold(value).replace(" ", "")
    if not v or v in ("normal", "aktiv", "active"):
        return "active"
    if any(w in v for w in ("oplost", "ophort", "slettet", "likvidation", "tvangsoplos", "afmeldt")):
        return "dissolved"
    if "konkurs" in v:
        return "bankrupt"
    return "active"


def _current(items: list | None) -> dict | None:
    """The entry of a CVR history list that is valid now (``gyldigTil`` null), else the last."""
    if not items:
        return None
    for item in reversed(items):
        if not (item.get("periode") or {}).get("gyldigTil"):
            return item
    return items[-1]


def _contact(items: list | None) -> str | None:
    for item in reversed(items or []):
        if not (item.get("periode") or {}).get("gyldigTil") and not item.get("hemmelig"):
            return item.get("kontaktoplysning")
    return None


def _address(a: dict | None) -> dict | None:
    if not a:
        return None
    get = a.get
    road = get("vejnavn")
    if not road and get("fritekst"):
        return address(a["fritekst"], None, None, get("landekode"))
    # plain concatenation rather than joins over generators: this runs twice per company
    street = road or ""
    number = get("husnummerFra")
    if number is not None:
        number = f"{number}{get('bogstavFra') or ''}"
        if get("husnummerTil"):
            number += f"-{get('husnummerTil')}{get('bogstavTil') or ''}"
        street = f"{road} {number}" if road else number
    parts = []
    if get("conavn"):
        parts.append(f"c/o {get('conavn')}")
    if street:
        parts.append(street)
    floor, door = get("etage"), get("sidedoer")
    if floor or door:
        parts.append(f"{floor}, {door}" if floor and door else str(floor or door))
    if get("postboks"):
        parts.append(f"Postboks {get('postboks')}")
    postcode = get("postnummer")
    return address(", ".join(parts), f"{postcode:04d}" if isinstance(postcode, int) else postcode,
                   get("postdistrikt") or get("bynavn"), get("landekode"))


def _industry(meta: dict) -> list:
    out = []
    for key in ("nyesteHovedbranche", "nyesteBibranche1", "nyesteBibranche2", "nyesteBibranche3"):
        b = meta.get(key)
        if b:
            out.append(industry(b.get("branchekode"), b.get("branchetekst")))
    return out


def employees(meta: dict) -> tuple[int | None, str | None]:
    for key in ("nyesteMaanedsbeskaeftigelse", "nyesteKvartalsbeskaeftigelse", "nyesteAarsbeskaeftigelse"):
        e = meta.get(key)
        if not e:
            continue
        exact = e.get("antalAnsatte")
        code = e.get("intervalKodeAntalAnsatte") or ""
        m = _INTERVAL.match(code)
        span = None
        if m:
            low, high = int(m.group(1)), int(m.group(2))
            span = f"{low}+" if high >= 99999 else f"{low}-{high}"
        if exact is not None or span:
            return (int(exact) if exact is not None else None), span
    return None, None


def parse_virksomhed(v: dict) -> dict:
    meta = v.get("virksomhedMetadata") or {}
    name = (meta.get("nyesteNavn") or {}).get("navn") or (_current(v.get("navne")) or {}).get("navn")
    form = meta.get("nyesteVirksomhedsform") or _current(v.get("virksomhedsform")) or {}
    visiting = _address(meta.get("nyesteBeliggenhedsadresse") or _current(v.get("beliggenhedsadresse")))
    count, span = employees(meta)
    return entity(
        "DK", f"{int(v['cvrNummer']):08d}", name,
        legal_form=form.get("kortBeskrivelse"), legal_form_text=form.get("langBeskrivelse"),
        status=status(meta.get("sammensatStatus")),
        industry_codes=_industry(meta), employees=count, employees_range=span,
        visiting_address=visiting,
        postal_address=_address(_current(v.get("postadresse"))) or visiting,
        website=_contact(v.get("hjemmeside")),
        phone=_contact(v.get("telefonNummer")),
        email=_contact(v.get("elektroniskPost")) or _contact(v.get("obligatoriskEmail")),
        registered_on=meta.get("stiftelsesDato"),
    )


def parse_produktionsenhed(p: dict) -> dict:
    meta = p.get("produktionsEnhedMetadata") or {}
    name = (meta.get("nyesteNavn") or {}).get("navn") or (_current(p.get("navne")) or {}).get("navn")
    parent = meta.get("nyesteCvrNummerRelation") or (_current(p.get("virksomhedsrelation")) or {}).get("cvrNummer")
    visiting = _address(meta.get("nyesteBeliggenhedsadresse") or _current(p.get("beliggenhedsadresse")))
    count, span = employees(meta)
    return entity(
        "DK", str(p["pNummer"]), name, kind="sub",
        parent=f"{int(parent):08d}" if parent else None,
        legal_form="PE", legal_form_text="Produktionsenhed",
        status=status(meta.get("sammensatStatus")),
        industry_codes=_industry(meta), employees=count, employees_range=span,
        visiting_address=visiting, postal_address=_address(_current(p.get("postadresse"))) or visiting,
        phone=_contact(p.get("telefonNummer")), email=_contact(p.get("elektroniskPost")),
    )


def parse_source(source: dict) -> dict | None:
    if "Vrvirksomhed" in source:
        return parse_virksomhed(source["Vrvirksomhed"])
    if "VrproduktionsEnhed" in source:
        return parse_produktionsenhed(source["VrproduktionsEnhed"])
    return None


def parse_search(doc: dict) -> list[dict]:
    """An ES ``_search`` response -> entities."""
    hits = ((doc.get("hits") or {}).get("hits")) or []
    return [e for e in (parse_source(h.get("_source") or {}) for h in hits) if e]


def iter_bulk(path) -> Iterator[dict]:
    """Entities from a scroll dump: one ES hit (or bare ``_source``) per line, gzip or plain."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as lines:
        for line in lines:
            if line.isspace():
                continue
            doc = orjson.loads(line)
            e = parse_source(doc.get("_source", doc))
            if e:
                yield e


# -- the queries the client sends (the stand-in answers these) ------------
def query_by_cvr(cvr: str) -> dict:
    return {"query": {"term": {"Vrvirksomhed.cvrNummer": int(cvr)}}, "size": 1}


def query_by_name(q: str, size: int) -> dict:
    return {"query": {"match_phrase_prefix": {"Vrvirksomhed.virksomhedMetadata.nyesteNavn.navn": q}},
            "size": size}


def query_units(cvr: str, size: int) -> dict:
    return {"query": {"term": {"VrproduktionsEnhed.virksomhedsrelation.cvrNummer": int(cvr)}}, "size": size}
