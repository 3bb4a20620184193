"""Brønnøysundregistrene, Enhetsregisteret: enheter, underenheter, update feed.

API JSON (``/enheter/{orgnr}``, search pages under ``_embedded``) and the bulk
files (``/enheter/lastned``: a gzip'd JSON array of the same objects) share
one shape, so one parser serves both.
"""
from __future__ import annotations

import gzip
import io
from typing import Iterator

from ..records import address, entity, industry
from .jsonstream import iter_array


def _address(a: dict | None) -> dict | None:
    if not a:
        return None
    street = ", ".join(line for line in (a.get("adresse") or []) if line and line.strip())
    return address(street, a.get("postnummer"), a.get("poststed"), a.get("land") or a.get("landkode"))


def _industry(doc: dict) -> list:
    return [industry((doc.get(k) or {}).get("kode"), (doc.get(k) or {}).get("beskrivelse"))
            for k in ("naeringskode1", "naeringskode2", "naeringskode3") if doc.get(k)]


def status(doc: dict) -> str:
    if doc.get("slettedato") or doc.get("nedleggelsesdato"):
        return "dissolved"
    if doc.get("konkurs"):
        return "bankrupt"
    if doc.get("underAvvikling") or doc.get("underTvangsavviklingEllerTvangsopplosning"):
        return "dissolved"
    return "active"


def parse_enhet(doc: dict) -> dict:
    form = doc.get("organisasjonsform") or {}
    return entity(
        "NO", doc["organisasjonsnummer"], doc.get("navn"),
        parent=doc.get("overordnetEnhet"),
        legal_form=form.get("kode"), legal_form_text=form.get("beskrivelse"),
        status=status(doc),
        industry_codes=_industry(doc),
        employees=doc.get("antallAnsatte") if doc.get("harRegistrertAntallAnsatte", True) else None,
        visiting_address=_address(doc.get("forretningsadresse")),
        postal_address=_address(doc.get("postadresse")) or _address(doc.get("forretningsadresse")),
        website=doc.get("hjemmeside"),
        phone=doc.get("telefon") or doc.get("mobil"),
        email=doc.get("epostadresse"),
        registered_on=doc.get("stiftelsesdato") or doc.get("registreringsdatoEnhetsregisteret"),
    )


def parse_underenhet(doc: dict) -> dict:
    form = doc.get("organisasjonsform") or {}
    return entity(
        "NO", doc["organisasjonsnummer"], doc.get("navn"),
        kind="sub", parent=doc.get("overordnetEnhet"),
        legal_form=form.get("kode"), legal_form_text=form.get("beskrivelse"),
        status=status(doc),
        industry_codes=_industry(doc),
        employees=doc.get("antallAnsatte") if doc.get("harRegistrertAntallAnsatte", True) else None,
        visiting_address=_address(doc.get("beliggenhetsadresse")),
        postal_address=_address(doc.get("postadresse")) or _address(doc.get("beliggenhetsadresse")),
        website=doc.get("hjemmeside"),
        registered_on=doc.get("oppstartsdato") or doc.get("registreringsdatoEnhetsregisteret"),
    )


def parse_search(doc: dict, kind: str = "enheter") -> list[dict]:
    """A search page (``GET /enheter?...``); no ``_embedded`` means no hits."""
    items = (doc.get("_embedded") or {}).get(kind) or []
    parse = parse_enhet if kind == "enheter" else parse_underenhet
    return [parse(item) for item in items]


def parse_updates(doc: dict, kind: str = "enheter") -> list[dict]:
    """An update feed page -> [{"id", "date", "org_number", "change"}]."""
    key = "oppdaterteEnheter" if kind == "enheter" else "oppdaterteUnderenheter"
    return [
        {"id": int(u["oppdateringsid"]), "date": u.get("dato"), "org_number": u["organisasjonsnummer"],
         "change": u.get("endringstype") or "Ukjent"}
        for u in (doc.get("_embedded") or {}).get(key) or []
    ]


def iter_bulk(path, kind: str = "enheter") -> Iterator[dict]:
    """Entities from ``enheter_alle.json.gz`` / ``underenheter_alle.json.gz``
    (plain ``.json`` also accepted)."""
    parse = parse_enhet if kind == "enheter" else parse_underenhet
    raw = gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")
    with raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
        for doc in iter_array(text):
            yield parse(doc)
