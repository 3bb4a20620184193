"""Companies House: the Public Data API (search, company profile, UK
establishments) and the monthly BasicCompanyData CSV (zip)."""
from __future__ import annotations

import csv
import io
import zipfile
from typing import Iterator

from ..records import address, entity, industry

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
TYPE_TEXT = {
    "ltd": "Private limited company",
    "plc": "Public limited company",
    "llp": "Limited liability partnership",
    "limited-partnership": "Limited partnership",
    "private-unlimited": "Private unlimited company",
    "private-limited-guarant-nsc": "Private company limited by guarantee",
    "private-limited-guarant-nsc-limited-exemption": "Private company limited by guarantee (exempt from 'Limited')",
    "oversea-company": "Overseas company",
    "uk-establishment": "UK establishment",
    "registered-overseas-entity": "Overseas entity",
    "scottish-partnership": "Scottish partnership",
    "charitable-incorporated-organisation": "Charitable incorporated organisation",
    "royal-charter": "Royal charter company",
    "other": "Other company type",
}
_BANKRUPT = ("liquidation", "receivership", "administration", "insolvency", "voluntary-arrangement",
             "voluntary arrangement")
_DISSOLVED = ("dissolved", "converted-closed", "converted/closed", "removed", "closed")


def status(value: str | None) -> str:
    v = (value or "").strip().lower()
    if any(w in v for w in _DISSOLVED):
        return "dissolved"
    if any(w in v for w in _BANKRUPT):
        return "bankrupt"
    return "active"


def _street(a: dict) -> str:
    parts = [a.get("care_of") and f"c/o {a['care_of']}", a.get("po_box") and f"PO Box {a['po_box']}",
             a.get("premises"), a.get("address_line_1"), a.get("address_line_2")]
    return ", ".join(p.strip() for p in parts if p and p.strip())


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
    """``GET /company/{company_number}``."""
    kind_type = doc.get("type")
    branch = doc.get("branch_company_details") or {}
    office = _address(doc.get("registered_office_address"))
    return entity(
        "GB", doc["company_number"], doc.get("company_name"),
        kind="sub" if kind_type == "uk-establishment" else "main",
        parent=branch.get("parent_company_number"),
        legal_form=kind_type, legal_form_text=TYPE_TEXT.get(kind_type, kind_type),
        status=status(doc.get("company_status")),
        industry_codes=[_sic(c, (sic_texts or {}).get(c)) for c in doc.get("sic_codes") or []],
        visiting_address=office,
        postal_address=_address(doc.get("service_address")) or office,
        registered_on=doc.get("date_of_creation"),
    )


def parse_search(doc: dict) -> list[dict]:
    """``GET /search/companies`` -> entities (no SIC codes in search results)."""
    out = []
    for item in doc.get("items") or []:
        if not item.get("company_number"):
            continue
        a = _address(item.get("address"))
        out.append(entity(
            "GB", item["company_number"], item.get("title"),
            legal_form=item.get("company_type"), legal_form_text=TYPE_TEXT.get(item.get("company_type")),
            status=status(item.get("company_status")), visiting_address=a, postal_address=a,
            registered_on=item.get("date_of_creation"),
        ))
    return out


def parse_establishments(doc: dict, parent: str) -> list[dict]:
    """``GET /company/{number}/uk-establishments``."""
    return [
        entity("GB", item["company_number"], item.get("company_name"), kind="sub", parent=parent,
               legal_form="uk-establishment", legal_form_text=TYPE_TEXT["uk-establishment"],
               status=status(item.get("company_status")),
               visiting_address=address(city=item.get("locality"), country="United Kingdom"))
        for item in doc.get("items") or [] if item.get("company_number")
    ]


def parse_csv_row(row: dict) -> dict:
    """One BasicCompanyData row (header names stripped of their stray spaces)."""
    sics = []
    for n in (1, 2, 3, 4):
        value = (row.get(f"SICCode.SicText_{n}") or "").strip()
        if value and value != "None Supplied":
            code, _, text = value.partition(" - ")
            sics.append(_sic(code.strip(), text.strip() or None))
    category = (row.get("CompanyCategory") or "").strip()
    code = CATEGORIES.get(category, category.lower() or None)
    street = ", ".join(p.strip() for p in (
        row.get("RegAddress.CareOf") and f"c/o {row['RegAddress.CareOf']}",
        row.get("RegAddress.POBox") and f"PO Box {row['RegAddress.POBox']}",
        row.get("RegAddress.AddressLine1"), row.get("RegAddress.AddressLine2"),
    ) if p and p.strip())
    office = address(street, row.get("RegAddress.PostCode"), row.get("RegAddress.PostTown"),
                     row.get("RegAddress.Country") or row.get("CountryOfOrigin"))
    return entity(
        "GB", row["CompanyNumber"].strip(), row.get("CompanyName"),
        legal_form=code, legal_form_text=TYPE_TEXT.get(code, category or None),
        status=status(row.get("CompanyStatus")),
        industry_codes=sics, visiting_address=office, postal_address=office,
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
