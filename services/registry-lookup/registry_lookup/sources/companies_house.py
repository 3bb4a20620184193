"""Companies House: the Public Data API (search, company profile, UK
establishments) and the monthly BasicCompanyData CSV (zip)."""
from __future__ import annotations

import csv
import re
import io
import zipfile
from typing import Iterator

from ..records import address, clean, entity, industry

# BasicCompanyData "CompanyCategory" text <-> the API's "type" code.
CATEGORIES = {
    "Private Limited Company": "ltd",
    "Public Limited Company": "plc",
    "Limited Liability Partnership": "llp",
    "Limited Partnership": "limited-partnership",
    "Private Unlimited Company": "private-unlimited",
    "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)": "private-limited-guarant-nsc",
    "PRI/LBG/NSC (Private, Limited by guarantee, no share capital, use of 'Limited' exemption)":
        "private-limited-guarant-nsc-limited-exemption",
    "Community Interest Company": "ltd",
    "Scottish Partnership": "scottish-partnership",
    "Charitable Incorporated Organisation": "charitable-incorporated-organisation",
    "Scottish Charitable Incorporated Organisation": "scottish-charitable-incorporated-organisation",
    "Registered Society": "registered-society-non-jurisdictional",
    "Overseas Entity": "registered-overseas-entity",
    "Oversea Company": "oversea-company",
    "Investment Company with Variable Capital": "investment-company-with-variable-capital",
    "Royal Charter Company": "royal-charter",
    "Other company type": "other",
}
# The registry's own descriptions of its ``type`` codes, as Companies House publishes them
# (api-enumerations, constants.yml ``company_type``): shown as they are, never our paraphrase.
# A code not in the list has no description (None), not one of ours.
TYPE_TEXT = {
    "private-unlimited": "Private unlimited company",
    "ltd": "Private limited company",
    "plc": "Public limited company",
    "old-public-company": "Old public company",
    "private-limited-guarant-nsc-limited-exemption":
        "Private Limited Company by guarantee without share capital, use of 'Limited' exemption",
    "limited-partnership": "Limited partnership",
    "private-limited-guarant-nsc": "Private limited by guarantee without share capital",
    "converted-or-closed": "Converted / closed",
    "private-unlimited-nsc": "Private unlimited company without share capital",
    "private-limited-shares-section-30-exemption": "Private Limited Company, use of 'Limited' exemption",
    "assurance-company": "Assurance company",
    "oversea-company": "Overseas company",
    "eeig": "European economic interest grouping (EEIG)",
    "icvc-securities": "Investment company with variable capital",
    "icvc-warrant": "Investment company with variable capital",
    "icvc-umbrella": "Investment company with variable capital",
    "industrial-and-provident-society": "Industrial and provident society",
    "northern-ireland": "Northern Ireland company",
    "northern-ireland-other": "Credit union (Northern Ireland)",
    "llp": "Limited liability partnership",
    "royal-charter": "Royal charter company",
    "investment-company-with-variable-capital": "Investment company with variable capital",
    "unregistered-company": "Unregistered company",
    "other": "Other company type",
    "european-public-limited-liability-company-se": "European public limited liability company (SE)",
}
# ... and of its ``company_status`` codes (constants.yml ``company_status`` / ``company_status_detail``)
STATUS_TEXT = {
    "active": "Active", "dissolved": "Dissolved", "liquidation": "Liquidation", "receivership": "Receivership",
    "converted-closed": "Converted / Closed", "voluntary-arrangement": "Voluntary Arrangement",
    "insolvency-proceedings": "Insolvency Proceedings", "administration": "In Administration",
}
STATUS_DETAIL_TEXT = {
    "transferred-from-uk": "Transfer from UK", "active-proposal-to-strike-off": "Active proposal to strike off",
    "petition-to-restore-dissolved": "Petition to restore dissolved", "transformed-to-se": "Transformed to SE",
    "converted-to-plc": "Converted to PLC",
}
# the API's status codes and the bulk file's status texts (folded: lower case, "-" as " ")
_STATUS = (
    ("proposal to strike off", "active"),
    ("liquidation", "liquidation"), ("receiver", "bankrupt"), ("receivership", "bankrupt"),
    ("administration", "bankrupt"), ("insolvency", "bankrupt"), ("voluntary arrangement", "bankrupt"),
    ("converted closed", "closed"), ("converted/closed", "closed"), ("closed", "closed"),
    ("dissolved", "dissolved"), ("removed", "deleted"),
    ("active", "active"), ("registered", "active"), ("open", "active"),
)


_NUMBER = re.compile(r"^\d+[A-Za-z]?(-\d+[A-Za-z]?)?$")


def status(value: str | None) -> str:
    """``active`` ... from the API's ``company_status`` or the bulk file's ``CompanyStatus``;
    a value not known here is ``unknown`` (its text is kept beside it)."""
    v = " ".join((value or "").strip().lower().replace("-", " ").split())
    if not v:
        return "unknown"
    for word, code in _STATUS:
        if word in v:
            return code
    return "unknown"


def status_text(code: str | None, detail: str | None = None) -> str | None:
    text = STATUS_TEXT.get(code or "", code)
    extra = STATUS_DETAIL_TEXT.get(detail or "", detail)
    return f"{text} ({extra})" if text and extra else text or extra


def _po_box(value: str | None) -> str | None:
    """Companies House's PO box, written once: the value often already reads ``PO BOX 1742``."""
    v = " ".join((value or "").split())
    if not v:
        return None
    if v.upper().replace(".", "").startswith(("PO BOX", "P O BOX", "POBOX")):
        return v
    return f"PO Box {v}"


def _street(a: dict) -> str:
    premises, line1 = (a.get("premises") or "").strip(), (a.get("address_line_1") or "").strip()
    if premises and line1 and _NUMBER.match(premises):
        premises, line1 = f"{premises} {line1}", None  # "10" + "Downing Street": one line
    parts = [a.get("care_of") and f"c/o {a['care_of']}", _po_box(a.get("po_box")), premises, line1,
             a.get("address_line_2")]
    return ", ".join(" ".join(p.split()) for p in parts if p and p.strip())


def _address(a: dict | None) -> dict | None:
    if not a:
        return None
    return address(_street(a), a.get("postal_code"), a.get("locality"), a.get("country"))


def _sic(code: str, text: str | None = None) -> dict | None:
    return industry(code, text)


def _date(ddmmyyyy: str | None) -> str | None:
    v = (ddmmyyyy or "").strip()
    if len(v) == 10 and v[2] == "/" and v[5] == "/":
        return f"{v[6:]}-{v[3:5]}-{v[:2]}"
    return v or None


def parse_profile(doc: dict, sic_texts: dict | None = None) -> dict:
    """``GET /company/{company_number}``. The public data API has only the registered office
    (and a service address for overseas entities): that is the visiting address; there is no
    postal address unless the registry gives one."""
    kind_type = doc.get("type")
    branch = doc.get("branch_company_details") or {}
    office_raw = doc.get("registered_office_address") or {}
    return entity(
        "GB", doc["company_number"], doc.get("company_name"),
        kind="sub" if kind_type == "uk-establishment" else "main",
        parent=branch.get("parent_company_number"),
        legal_form=kind_type, legal_form_text=TYPE_TEXT.get(kind_type),
        status=status(doc.get("company_status")),
        status_text=status_text(doc.get("company_status"), doc.get("company_status_detail")),
        industry_codes=[_sic(c, (sic_texts or {}).get(c)) for c in doc.get("sic_codes") or []],
        visiting_address=_address(office_raw),
        postal_address=_address(doc.get("service_address")),
        region=office_raw.get("region"),
        registered_on=doc.get("date_of_creation"),
    )


def parse_search(doc: dict) -> list[dict]:
    """``GET /search/companies`` -> entities (no SIC codes in search results)."""
    out = []
    for item in doc.get("items") or []:
        if not item.get("company_number"):
            continue
        raw = item.get("address") or {}
        out.append(entity(
            "GB", item["company_number"], item.get("title"),
            legal_form=item.get("company_type"), legal_form_text=TYPE_TEXT.get(item.get("company_type")),
            status=status(item.get("company_status")), status_text=status_text(item.get("company_status")),
            visiting_address=_address(raw), region=raw.get("region"),
            registered_on=item.get("date_of_creation"),
        ))
    return out


def parse_establishments(doc: dict, parent: str) -> list[dict]:
    """``GET /company/{number}/uk-establishments`` (a locality is all the list gives)."""
    return [
        entity("GB", item["company_number"], item.get("company_name"), kind="sub", parent=parent,
               legal_form="uk-establishment",
               status=status(item.get("company_status")), status_text=status_text(item.get("company_status")),
               visiting_address=address(city=item.get("locality")))
        for item in doc.get("items") or [] if item.get("company_number")
    ]


def parse_csv_row(row: dict) -> dict:
    """One BasicCompanyData row (header names stripped of their stray spaces). ``CompanyCategory``
    and ``CompanyStatus`` are kept as the file writes them; an empty ``RegAddress.Country`` stays
    empty (``CountryOfOrigin`` is where the company comes from, not where its office is)."""
    sics = []
    for n in (1, 2, 3, 4):
        value = clean(row.get(f"SICCode.SicText_{n}"))
        if value and value != "None Supplied":
            code, _, text = value.partition(" - ")
            sics.append(_sic(code.strip(), text.strip() or None))
    category = clean(row.get("CompanyCategory"))
    code = CATEGORIES.get(category or "", (category or "").lower() or None)
    street = ", ".join(" ".join(p.split()) for p in (
        row.get("RegAddress.CareOf") and f"c/o {row['RegAddress.CareOf']}",
        _po_box(row.get("RegAddress.POBox")),
        row.get("RegAddress.AddressLine1"), row.get("RegAddress.AddressLine2"),
    ) if p and p.strip())
    office = address(street, row.get("RegAddress.PostCode"), row.get("RegAddress.PostTown"),
                     row.get("RegAddress.Country"))
    raw_status = clean(row.get("CompanyStatus"))
    return entity(
        "GB", row["CompanyNumber"].strip(), row.get("CompanyName"),
        legal_form=code, legal_form_text=category,
        status=status(raw_status), status_text=raw_status,
        industry_codes=sics, visiting_address=office, region=row.get("RegAddress.County"),
        registered_on=_date(row.get("IncorporationDate")),
    )


def iter_csv(text_stream) -> Iterator[dict]:
    reader = csv.reader(text_stream)
    header = [h.strip() for h in next(reader)]
    width = len(header)
    for values in reader:
        if len(values) < 2:
            continue
        if len(values) != width:
            values = (values + [""] * width)[:width]
        yield parse_csv_row(dict(zip(header, values)))


def iter_bulk(path) -> Iterator[dict]:
    """Entities from ``BasicCompanyDataAsOneFile-YYYY-MM-01.zip`` (or a part
    file, or the bare ``.csv``)."""
    if str(path).endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                if member.lower().endswith(".csv"):
                    with zf.open(member) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
                        yield from iter_csv(text)
        return
    with open(path, encoding="utf-8", newline="") as text:
        yield from iter_csv(text)
