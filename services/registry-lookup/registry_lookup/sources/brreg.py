"""Brønnøysundregistrene, Enhetsregisteret: enheter, underenheter, update feed.

API JSON (``/enheter/{orgnr}``, search pages under ``_embedded``) and the bulk
files (``/enheter/lastned``: a gzip'd JSON array of the same objects) share
one shape, so one parser serves both.
"""
from __future__ import annotations

import gzip
import io
from typing import Iterator

from ..records import MERGEABLE, address, entity, industry
from ..regions import no_fylke
from .jsonstream import iter_array


def _address(a: dict | None) -> dict | None:
    if not a:
        return None
    street = ", ".join(line.strip() for line in (a.get("adresse") or []) if line and line.strip())
    return address(street, a.get("postnummer"), a.get("poststed"), a.get("land") or a.get("landkode"))


def _place(*addresses) -> tuple[str | None, str | None]:
    """(fylke, kommune) of the first address that names its kommune."""
    for a in addresses:
        if a and (a.get("kommunenummer") or a.get("kommune")):
            return no_fylke(a.get("kommunenummer")), a.get("kommune")
    return None, None


def _industry(doc: dict) -> list:
    return [industry((doc.get(k) or {}).get("kode"), (doc.get(k) or {}).get("beskrivelse"))
            for k in ("naeringskode1", "naeringskode2", "naeringskode3") if doc.get(k)]


def status(doc: dict) -> tuple[str, str | None]:
    """(status, the registry's words): Enhetsregisteret has flags and dates, not one status field."""
    if doc.get("slettedato"):
        return "deleted", f"Slettet {doc['slettedato']}"
    if doc.get("nedleggelsesdato"):
        return "closed", f"Nedlagt {doc['nedleggelsesdato']}"
    if doc.get("konkurs"):
        return "bankrupt", "Konkurs" + (f" {doc['konkursdato']}" if doc.get("konkursdato") else "")
    if doc.get("underTvangsavviklingEllerTvangsopplosning"):
        return "liquidation", "Under tvangsavvikling eller tvangsoppløsning"
    if doc.get("underAvvikling"):
        return "liquidation", "Under avvikling"
    return "active", None


def _common(doc: dict) -> dict:
    form = doc.get("organisasjonsform") or {}
    code, text = status(doc)
    return {"legal_form": form.get("kode"), "legal_form_text": form.get("beskrivelse"), "status": code,
            "status_text": text, "industry_codes": _industry(doc),
            "employees": doc.get("antallAnsatte") if doc.get("harRegistrertAntallAnsatte", True) else None,
            "website": doc.get("hjemmeside")}


def parse_enhet(doc: dict) -> dict:
    region, municipality = _place(doc.get("forretningsadresse"), doc.get("postadresse"))
    return entity(
        "NO", doc["organisasjonsnummer"], doc.get("navn"),
        parent=doc.get("overordnetEnhet"), **_common(doc),
        visiting_address=_address(doc.get("forretningsadresse")),
        postal_address=_address(doc.get("postadresse")),
        region=region, municipality=municipality,
        phone=doc.get("telefon") or doc.get("mobil"),
        email=doc.get("epostadresse"),
        registered_on=doc.get("stiftelsesdato") or doc.get("registreringsdatoEnhetsregisteret"),
    )


def parse_underenhet(doc: dict) -> dict:
    region, municipality = _place(doc.get("beliggenhetsadresse"), doc.get("postadresse"))
    return entity(
        "NO", doc["organisasjonsnummer"], doc.get("navn"),
        kind="sub", parent=doc.get("overordnetEnhet"), **_common(doc),
        visiting_address=_address(doc.get("beliggenhetsadresse")),
        postal_address=_address(doc.get("postadresse")),
        region=region, municipality=municipality,
        registered_on=doc.get("oppstartsdato") or doc.get("registreringsdatoEnhetsregisteret"),
    )


def parse_gone(doc: dict | None, org_number: str, kind: str = "enheter") -> dict:
    """HTTP 410 Gone: the unit was removed from Enhetsregisteret. Its body, when it has one, is the
    unit as it was (with ``slettedato``); otherwise only the number is known (``missing`` says so)."""
    doc = doc if isinstance(doc, dict) else {}
    if doc.get("organisasjonsnummer"):
        parse = parse_enhet if kind == "enheter" else parse_underenhet
        e = parse(doc)
        e["status"] = "deleted"
        e["status_text"] = f"Slettet {doc['slettedato']}" if doc.get("slettedato") else "Slettet (HTTP 410 Gone)"
        if not e["name"]:
            e["missing"], e["missing_reason"] = ["name"], "Enhetsregisteret answered 410 Gone without a name"
        return e
    message = doc.get("message") or doc.get("feilmelding") or "Enhetsregisteret answered 410 Gone"
    return entity("NO", org_number, None, kind="main" if kind == "enheter" else "sub", status="deleted",
                  status_text="Slettet (HTTP 410 Gone)", missing=[k for k in MERGEABLE if k not in ("status", "status_text", "org_number_display")],
                  missing_reason=message)


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
