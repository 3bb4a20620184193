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

BULK_HEADER = ("organisationsidentitet", "namnskyddslopnummer", "registreringsland", "organisationsnamn",
               "organisationsform", "avregistreringsdatum", "avregistreringsorsak",
               "pagandeAvvecklingsEllerOmstruktureringsforfarande", "registreringsdatum",
               "verksamhetsbeskrivning", "postadress")


# which entity fields each response block gives (a block whose data producer failed, ``fel``,
# leaves these out: ``missing`` names them)
BLOCK_FIELDS = {
    "organisationsnamn": ("name",),
    "organisationsform": ("legal_form", "legal_form_text"),
    "postadressOrganisation": ("postal_address",),
    "naringsgrenOrganisation": ("industry",),
    "organisationsdatum": ("registered_on",),
    "avregistreradOrganisation": ("status", "status_text"),
    "avregistreringsorsak": ("status", "status_text"),
    "pagandeAvvecklingsEllerOmstruktureringsforfarande": ("status", "status_text"),
    "pagaendeAvvecklingsEllerOmstruktureringsforfarande": ("status", "status_text"),
    "reklamsparr": ("marketing_protection",),
}
PROCEEDINGS = {"KK": "bankrupt", "LI": "liquidation"}


def _ok(block) -> dict:
    """A response block, or {} when missing or when its data producer failed (``fel``)."""
    if not block or not isinstance(block, dict) or block.get("fel"):
        return {}
    return block


def errors(org: dict) -> list[str]:
    """Descriptions of the data producers that failed for this organisation."""
    out = []
    for block in org.values():
        if isinstance(block, dict) and block.get("fel"):
            out.append(block["fel"].get("felBeskrivning") or block["fel"].get("typ") or "unknown error")
    return out


def missing(org: dict) -> list[str]:
    """The entity fields this answer could not give (their block's producer failed)."""
    return sorted({f for key, fields in BLOCK_FIELDS.items()
                   if isinstance(org.get(key), dict) and org[key].get("fel") for f in fields})


def _proceedings(org: dict) -> list[dict]:
    block = _ok(org.get("pagandeAvvecklingsEllerOmstruktureringsforfarande")
                or org.get("pagaendeAvvecklingsEllerOmstruktureringsforfarande"))
    items = (block.get("pagandeAvvecklingsEllerOmstruktureringsforfarandeLista")
             or block.get("pagaendeAvvecklingsEllerOmstruktureringsforfarandeLista") or [])
    return [i for i in items if i.get("kod")]


def status(deregistered: bool, proceedings: list[str]) -> str:
    """Deregistered: dissolved; otherwise the first known proceeding (KK bankruptcy, LI liquidation);
    another proceeding is ``unknown`` (its text is kept), none is active."""
    if deregistered:
        return "dissolved"
    for code in proceedings:
        if code in PROCEEDINGS:
            return PROCEEDINGS[code]
    return "unknown" if proceedings else "active"


def _date(value) -> str | None:
    return value[:10] if isinstance(value, str) and value else None


def _marketing(org: dict) -> bool | None:
    block = org.get("reklamsparr")
    if isinstance(block, dict):
        if block.get("fel"):
            return None
        return {"JA": True, "NEJ": False}.get(block.get("kod"))
    # no reklamsparr object while the postal address came: none is registered (the spec says so)
    return False if _ok(org.get("postadressOrganisation")) else None


def parse_organisation(org: dict, asked: str | None = None) -> dict | None:
    """One ``organisationer`` item. ``asked``: the number the request named (a partial answer
    may lack ``organisationsidentitet``). Failed blocks leave their fields None and named in
    ``missing``; the caller keeps the values it had for them."""
    ident = _ok(org.get("organisationsidentitet"))
    number = ident.get("identitetsbeteckning") or asked
    if not number or len(number) != 10:  # personnummer of sole traders are not kept
        return None
    gaps = missing(org)
    names = _ok(org.get("organisationsnamn")).get("organisationsnamnLista") or []
    name = next((n["namn"] for n in names if (n.get("organisationsnamntyp") or {}).get("kod") == "FORETAGSNAMN"),
                names[0]["namn"] if names else None)
    if not name and "name" not in gaps:
        return None
    form = _ok(org.get("organisationsform"))
    post = _ok(org.get("postadressOrganisation")).get("postadress") or {}
    street = ", ".join(p for p in (post.get("coAdress"), post.get("utdelningsadress")) if p)
    dereg = _date(_ok(org.get("avregistreradOrganisation")).get("avregistreringsdatum"))
    reason = _ok(org.get("avregistreringsorsak")).get("klartext")
    proceedings = _proceedings(org)
    if dereg:
        text = f"Avregistrerad {dereg}" + (f" ({reason})" if reason else "")
    else:
        text = ", ".join(p.get("klartext") or p["kod"] for p in proceedings) or None
    problems = errors(org)
    return entity(
        "SE", number, name,
        legal_form=form.get("kod"), legal_form_text=form.get("klartext"),
        status=status(bool(dereg), [p["kod"] for p in proceedings]), status_text=text,
        industry_codes=[industry(s.get("kod"), s.get("klartext"))
                        for s in _ok(org.get("naringsgrenOrganisation")).get("sni") or []],
        postal_address=address(street, post.get("postnummer"), post.get("postort"), post.get("land")),
        marketing_protection=_marketing(org),
        missing=gaps, missing_reason=problems[0] if gaps and problems else None,
        registered_on=_ok(org.get("organisationsdatum")).get("registreringsdatum"),
    )


def parse_organisationer(doc: dict, asked: str | None = None) -> list[dict]:
    return [e for e in (parse_organisation(o, asked) for o in doc.get("organisationer") or []) if e]


def _sub(value: str) -> list[str]:
    return [p.strip() for p in (value or "").split("$")]


def parse_bulk_row(row: dict) -> dict | None:
    """One row of ``bolagsverket_bulkfil.txt``. The file has codes (``AB-ORGFO``), not their
    descriptions: ``legal_form_text`` is None rather than a text of ours."""
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
    dereg = (row.get("avregistreringsdatum") or "").strip()
    reason = _sub(row.get("avregistreringsorsak"))[0].rsplit("-", 1)[0]
    if dereg:
        text = f"Avregistrerad {dereg}" + (f" ({reason})" if reason else "")
    else:
        text = ", ".join(proceedings) or None
    return entity(
        "SE", ident[0], name,
        legal_form=form,
        status=status(bool(dereg), proceedings), status_text=text,
        postal_address=address(street, post[3], post[2], country),
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
