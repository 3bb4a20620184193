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
from ..regions import dk_region
from ..text import fold

_INTERVAL = re.compile(r"^ANTAL_(\d+)_(\d+)$")


# CVR's ``sammensatStatus`` (and ``virksomhedsstatus``) words, folded, in the order they are tried
_STATUS = (
    ("oplostefter", "dissolved"),      # "OPLØST EFTER KONKURS", "... FRIVILLIG LIKVIDATION", "... ERKLÆRING"
    ("tvangsoplost", "dissolved"),
    ("underkonkurs", "bankrupt"), ("konkurs", "bankrupt"), ("rekonstruktion", "bankrupt"),
    ("underfrivilliglikvidation", "liquidation"), ("likvidation", "liquidation"),
    ("undertvangsoplosning", "liquidation"), ("tvangsoplosning", "liquidation"),
    ("slettet", "deleted"),
    ("oplost", "dissolved"), ("fusioneret", "dissolved"), ("spaltet", "dissolved"),
    ("ophort", "dissolved"), ("afmeldt", "dissolved"),
    ("normal", "active"), ("aktiv", "active"),
)


@lru_cache(maxsize=1024)
def status(value: str | None, unit: bool = False) -> str:
    """A status word of CVR's; ``unit``: a production unit, whose end is ``closed``."""
    v = fold(value).replace(" ", "").replace("_", "")
    if not v:
        return "unknown"
    for word, code in _STATUS:
        if word in v:
            return "closed" if unit and code == "dissolved" else code
    return "unknown"


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


def _number(get) -> str | None:
    number = get("husnummerFra")
    if number is None:
        return None
    number = f"{number}{get('bogstavFra') or ''}"
    if get("husnummerTil"):
        number += f"-{get('husnummerTil')}{get('bogstavTil') or ''}"
    return number


def _floor_door(floor, door) -> str | None:
    """CVR's ``etage`` and ``sidedoer`` as a Danish address writes them: ``st. tv``, ``3. th``."""
    floor, door = (str(floor).strip() if floor is not None else ""), (str(door).strip() if door is not None else "")
    if floor and not floor.endswith("."):
        floor += "."
    return " ".join(p for p in (floor, door) if p) or None


def _address(a: dict | None) -> dict | None:
    """``Vejnavn 12B, st. tv`` / ``Vejnavn 7-9, 3. th``, a ``c/o`` line first and a ``Postboks`` line
    where given; ``fritekst`` (foreign addresses) as it is."""
    if not a:
        return None
    get = a.get
    road = get("vejnavn")
    if not road and get("fritekst"):
        return address(a["fritekst"], None, None, get("landekode"))
    number = _number(get)
    street = f"{road} {number}" if road and number else (road or number or "")
    floor_door = _floor_door(get("etage"), get("sidedoer"))
    if floor_door:
        street = f"{street}, {floor_door}" if street else floor_door
    parts = []
    if get("conavn"):
        parts.append(f"c/o {get('conavn')}")
    if street:
        parts.append(street)
    if get("postboks"):
        parts.append(f"Postboks {get('postboks')}")
    postcode = get("postnummer")
    return address(", ".join(parts), f"{postcode:04d}" if isinstance(postcode, int) else postcode,
                   get("postdistrikt") or get("bynavn"), get("landekode"))


def _place(a: dict | None) -> tuple[str | None, str | None]:
    """(region, kommune) of a CVR address."""
    kommune = (a or {}).get("kommune") or {}
    name = kommune.get("kommuneNavn")
    return dk_region(kommune.get("kommuneKode")), name.title() if isinstance(name, str) and name.isupper() else name


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


def _protected(doc: dict) -> bool | None:
    value = doc.get("reklamebeskyttet")
    return value if isinstance(value, bool) else None


def parse_virksomhed(v: dict) -> dict:
    meta = v.get("virksomhedMetadata") or {}
    name = (meta.get("nyesteNavn") or {}).get("navn") or (_current(v.get("navne")) or {}).get("navn")
    form = meta.get("nyesteVirksomhedsform") or _current(v.get("virksomhedsform")) or {}
    visiting_raw = meta.get("nyesteBeliggenhedsadresse") or _current(v.get("beliggenhedsadresse"))
    region, municipality = _place(visiting_raw)
    count, span = employees(meta)
    raw_status = meta.get("sammensatStatus") or (_current(v.get("virksomhedsstatus")) or {}).get("status")
    return entity(
        "DK", f"{int(v['cvrNummer']):08d}", name,
        legal_form=form.get("kortBeskrivelse"), legal_form_text=form.get("langBeskrivelse"),
        status=status(raw_status), status_text=raw_status,
        industry_codes=_industry(meta), employees=count, employees_range=span,
        visiting_address=_address(visiting_raw),
        postal_address=_address(_current(v.get("postadresse"))),
        region=region, municipality=municipality, marketing_protection=_protected(v),
        website=_contact(v.get("hjemmeside")),
        phone=_contact(v.get("telefonNummer")),
        email=_contact(v.get("elektroniskPost")) or _contact(v.get("obligatoriskEmail")),
        registered_on=meta.get("stiftelsesDato"),
    )


def parse_produktionsenhed(p: dict) -> dict:
    """A production unit: no legal form of its own (it is a place of the company's)."""
    meta = p.get("produktionsEnhedMetadata") or {}
    name = (meta.get("nyesteNavn") or {}).get("navn") or (_current(p.get("navne")) or {}).get("navn")
    parent = meta.get("nyesteCvrNummerRelation") or (_current(p.get("virksomhedsrelation")) or {}).get("cvrNummer")
    visiting_raw = meta.get("nyesteBeliggenhedsadresse") or _current(p.get("beliggenhedsadresse"))
    region, municipality = _place(visiting_raw)
    count, span = employees(meta)
    raw_status = meta.get("sammensatStatus")
    if not raw_status:  # no status word: the life span says whether it still runs
        life = _current(p.get("livsforloeb"))
        raw_status = None if life is None else ("Ophørt" if (life.get("periode") or {}).get("gyldigTil") else "Aktiv")
    return entity(
        "DK", str(p["pNummer"]), name, kind="sub",
        parent=f"{int(parent):08d}" if parent else None,
        status=status(raw_status, unit=True), status_text=raw_status,
        industry_codes=_industry(meta), employees=count, employees_range=span,
        visiting_address=_address(visiting_raw), postal_address=_address(_current(p.get("postadresse"))),
        region=region, municipality=municipality, marketing_protection=_protected(p),
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
