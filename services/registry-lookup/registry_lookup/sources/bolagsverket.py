"""Bolagsverket, Värdefulla datamängder: ``POST /organisationer`` and the
bulk file ``bolagsverket_bulkfil.zip`` (``bolagsverket_bulkfil.txt``:
semicolon-separated, double-quoted, sub-fields separated by ``$``).

No name search exists in the API, and neither source has employees,
a visiting address or sub-units.
"""
from __future__ import annotations

import csv
import io
import zipfile
from typing import Iterator

from ..records import address, entity, industry

FORMS = {
    "AB": "Aktiebolag", "BAB": "Bankaktiebolag", "BF": "Bostadsförening", "BRF": "Bostadsrättsförening",
    "E": "Enskild näringsidkare", "EF": "Ekonomisk förening", "FAB": "Försäkringsaktiebolag",
    "FL": "Filial", "HB": "Handelsbolag", "I": "Ideell förening", "KB": "Kommanditbolag",
    "S": "Stiftelse", "SF": "Sparbank", "TSF": "Trossamfund", "EGTS": "Europeisk gruppering för territoriellt samarbete",
    "SE": "Europabolag", "OFB": "Ömsesidigt försäkringsbolag",
}
BULK_HEADER = ("organisationsidentitet", "namnskyddslopnummer", "registreringsland", "organisationsnamn",
               "organisationsform", "avregistreringsdatum", "avregistreringsorsak",
               "pagandeAvvecklingsEllerOmstruktureringsforfarande", "registreringsdatum",
               "verksamhetsbeskrivning", "postadress")


def _ok(block) -> dict:
    """A response block, or {} when missing or when its data producer failed (``fel``)."""
    if not block or block.get("fel"):
        return {}
    return block


def errors(org: dict) -> list[str]:
    """Descriptions of the data producers that failed for this organisation."""
    out = []
    for block in org.values():
        if isinstance(block, dict) and block.get("fel"):
            out.append(block["fel"].get("felBeskrivning") or block["fel"].get("typ") or "unknown error")
    return out


def _proceedings(org: dict) -> list[str]:
    block = _ok(org.get("pagandeAvvecklingsEllerOmstruktureringsforfarande")
                or org.get("pagaendeAvvecklingsEllerOmstruktureringsforfarande"))
    items = (block.get("pagandeAvvecklingsEllerOmstruktureringsforfarandeLista")
             or block.get("pagaendeAvvecklingsEllerOmstruktureringsforfarandeLista") or [])
    return [i.get("kod") for i in items if i.get("kod")]


def status(deregistered: bool, proceedings: list[str]) -> str:
    if deregistered:
        return "dissolved"
    if "KK" in proceedings:
        return "bankrupt"
    if proceedings:
        return "dissolved"
    return "active"


def parse_organisation(org: dict) -> dict | None:
    ident = org.get("organisationsidentitet") or {}
    number = ident.get("identitetsbeteckning")
    if not number or len(number) != 10:  # personnummer of sole traders are not kept
        return None
    names = _ok(org.get("organisationsnamn")).get("organisationsnamnLista") or []
    name = next((n["namn"] for n in names if (n.get("organisationsnamntyp") or {}).get("kod") == "FORETAGSNAMN"),
                names[0]["namn"] if names else None)
    if not name:
        return None
    form = _ok(org.get("organisationsform"))
    post = _ok(org.get("postadressOrganisation")).get("postadress") or {}
    street = ", ".join(p for p in (post.get("coAdress"), post.get("utdelningsadress")) if p)
    dereg = _ok(org.get("avregistreradOrganisation")).get("avregistreringsdatum")
    return entity(
        "SE", number, name,
        legal_form=form.get("kod"), legal_form_text=form.get("klartext") or FORMS.get(form.get("kod")),
        status=status(bool(dereg), _proceedings(org)),
        industry_codes=[industry(s.get("kod"), s.get("klartext"))
                        for s in _ok(org.get("naringsgrenOrganisation")).get("sni") or []],
        postal_address=address(street, post.get("postnummer"), post.get("postort"), post.get("land")),
        registered_on=_ok(org.get("organisationsdatum")).get("registreringsdatum"),
    )


def parse_organisationer(doc: dict) -> list[dict]:
    return [e for e in (parse_organisation(o) for o in doc.get("organisationer") or []) if e]


def _sub(value: str) -> list[str]:
    return [p.strip() for p in (value or "").split("$")]


def parse_bulk_row(row: dict) -> dict | None:
    ident = _sub(row.get("organisationsidentitet"))
    if len(ident) < 2 or not ident[1].endswith("IDORG") or len(ident[0]) != 10:
        return None
    name = None
    for candidate in (row.get("organisationsnamn") or "").split("|"):
        parts = _sub(candidate)
        if parts and parts[0] and (name is None or (len(parts) > 1 and parts[1].startswith("FORETAGSNAMN-"))):
            name = parts[0]
    if not name:
        return None
    form = _sub(row.get("organisationsform"))[0].rsplit("-", 1)[0] or None
    post = _sub(row.get("postadress")) + [""] * 5
    street = ", ".join(p for p in (post[1], post[0]) if p)
    proceedings = [_sub(p)[0].rsplit("-", 1)[0] for p in (row.get("pagandeAvvecklingsEllerOmstruktureringsforfarande")
                                                           or "").split("|") if p.strip()]
    country = post[4].replace("-LAND", "") if post[4] else None
    return entity(
        "SE", ident[0], name,
        legal_form=form, legal_form_text=FORMS.get(form),
        status=status(bool((row.get("avregistreringsdatum") or "").strip()), proceedings),
        postal_address=address(street, post[3], post[2], "Sverige" if country == "SE" else country),
        registered_on=row.get("registreringsdatum"),
    )


def _decode_lines(raw) -> Iterator[str]:
    for line in raw:
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            yield line.decode("latin-1")


def iter_rows(raw) -> Iterator[dict]:
    reader = csv.reader(_decode_lines(raw), delimiter=";", quotechar='"')
    header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    for values in reader:
        if len(values) < 4:
            continue
        e = parse_bulk_row(dict(zip(header, values)))
        if e:
            yield e


def iter_bulk(path) -> Iterator[dict]:
    """Entities from ``bolagsverket_bulkfil.zip`` (or the bare ``.txt``)."""
    if str(path).endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                if member.lower().endswith(".txt"):
                    with zf.open(member) as raw:
                        yield from iter_rows(io.BufferedReader(raw))
        return
    with open(path, "rb") as raw:
        yield from iter_rows(raw)
