"""Realistic demo and benchmark companies for Norway, Sweden, Denmark and the UK.

Deterministic (seeded); organisation numbers carry valid check digits.
``load`` bulk-inserts through SQLAlchemy Core, fast enough for 100,000 rows.
"""
from __future__ import annotations

import random
from collections.abc import Iterator

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import text
from .models import Company, CompanyWord

COUNTRY = {
    "NO": {
        "cities": ["Oslo", "Bergen", "Trondheim", "Stavanger", "Drammen", "Fredrikstad", "Kristiansand", "Sandnes",
                   "Tromsø", "Sarpsborg", "Skien", "Ålesund", "Sandefjord", "Haugesund", "Tønsberg", "Moss",
                   "Bodø", "Arendal", "Hamar", "Lillehammer", "Gjøvik", "Halden", "Molde", "Harstad"],
        "stems": ["Østfold", "Nordlys", "Fjord", "Vestland", "Bjørk", "Solberg", "Fjell", "Havbris", "Norrøn",
                  "Viking", "Midtnorsk", "Sørlandets", "Trøndelag", "Lofoten", "Akershus", "Hålogaland",
                  "Bergens", "Oslofjord", "Nidaros", "Grønland", "Skagerak", "Jæren", "Hardanger", "Valdres"],
        "trades": ["Bygg", "Elektro", "Rør", "Transport", "Eiendom", "Regnskap", "Maskin", "Entreprenør",
                   "Logistikk", "Renhold", "Mekaniske Verksted", "Betong", "Tak", "Sveis", "Catering",
                   "Helse", "Data", "Montasje", "Stillas", "Industri"],
        "forms": ["AS", "AS", "AS", "ASA", "ENK", "DA"],
    },
    "SE": {
        "cities": ["Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping", "Helsingborg",
                   "Jönköping", "Norrköping", "Lund", "Umeå", "Gävle", "Borås", "Södertälje", "Eskilstuna",
                   "Karlstad", "Täby", "Växjö", "Halmstad", "Sundsvall", "Luleå"],
        "stems": ["Norrlands", "Skåne", "Göta", "Svea", "Mälardalens", "Värmlands", "Östgöta", "Bergslagens",
                  "Västkust", "Dalarnas", "Småländska", "Öresund", "Norrskens", "Fjällens", "Vasa", "Kungsholms",
                  "Södra", "Halland", "Gotlands", "Höglands"],
        "trades": ["Bygg", "El", "VVS", "Åkeri", "Fastigheter", "Redovisning", "Måleri", "Entreprenad",
                   "Logistik", "Städ", "Verkstad", "Betong", "Plåt", "Svets", "Konsult", "Bemanning", "Data",
                   "Montage", "Ställning", "Industri"],
        "forms": ["AB", "AB", "AB", "AB (publ)", "HB", "KB"],
    },
    "DK": {
        "cities": ["København", "Aarhus", "Odense", "Aalborg", "Esbjerg", "Randers", "Kolding", "Horsens", "Vejle",
                   "Roskilde", "Herning", "Hørsholm", "Helsingør", "Silkeborg", "Næstved", "Fredericia",
                   "Viborg", "Køge", "Holstebro", "Taastrup"],
        "stems": ["Nordsjællands", "Fyns", "Jyllands", "Østjysk", "Vestkyst", "Limfjord", "Øresund", "Hjørring",
                  "Himmerlands", "Sønderjysk", "Møns", "Bornholms", "Djurs", "Thy", "Lolland", "Amager", "Valby",
                  "Frederiksberg", "Skive", "Ærø"],
        "trades": ["Byg", "El", "VVS", "Vognmand", "Ejendomme", "Revision", "Maler", "Entreprise", "Logistik",
                   "Rengøring", "Maskinfabrik", "Beton", "Tømrer", "Smede", "Rådgivning", "Vikar", "IT",
                   "Montage", "Stillads", "Industri"],
        "forms": ["ApS", "ApS", "A/S", "A/S", "I/S", "IVS"],
    },
    "GB": {
        "cities": ["London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Edinburgh", "Bristol", "Liverpool",
                   "Sheffield", "Cardiff", "Newcastle upon Tyne", "Nottingham", "Leicester", "Belfast", "Aberdeen",
                   "Reading", "Milton Keynes", "Southampton", "Oxford", "Cambridge"],
        "stems": ["Albion", "Thames", "Pennine", "Mersey", "Caledonian", "Northern", "Highland", "Severn",
                  "Cotswold", "Chiltern", "Brunel", "Kingsway", "Whitehall", "Tyneside", "Wessex", "Mercia",
                  "Humber", "Solent", "Clyde", "Avon"],
        "trades": ["Construction", "Electrical", "Plumbing", "Haulage", "Properties", "Accountancy", "Decorators",
                   "Contractors", "Logistics", "Cleaning Services", "Engineering", "Recruitment", "Roofing",
                   "Fabrication", "Consulting", "Staffing", "IT Solutions", "Facilities", "Scaffolding", "Holdings"],
        "forms": ["Ltd", "Ltd", "Limited", "PLC", "LLP"],
    },
}
RELATIONSHIP_WEIGHTS = [("customer", 35), ("prospect", 30), ("suspect", 15), ("supplier", 8), ("partner", 5), ("former_customer", 7)]


def _no(rng: random.Random) -> str:
    while True:
        digits = [rng.choice((8, 9))] + [rng.randrange(10) for _ in range(7)]
        r = 11 - sum(d * w for d, w in zip(digits, (3, 2, 7, 6, 5, 4, 3, 2))) % 11
        if r == 11:
            r = 0
        if r != 10:
            return "".join(map(str, digits + [r]))


def _se(rng: random.Random) -> str:
    digits = [5, 5, 6] + [rng.randrange(10) for _ in range(6)]
    total = 0
    for i, d in enumerate(digits):
        v = d * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def _dk(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(6)]
        last = (-sum(d * w for d, w in zip(digits, (2, 7, 6, 5, 4, 3, 2)))) % 11
        if last != 10:
            return "".join(map(str, digits + [last]))


def _gb(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return "SC" + f"{rng.randrange(10**6):06d}"
    return f"{rng.randrange(1, 16_000_000):08d}"


ORGNR = {"NO": _no, "SE": _se, "DK": _dk, "GB": _gb}


def generate(n: int, seed: int = 42) -> Iterator[dict]:
    rng = random.Random(seed)
    seen: set[tuple[str, str]] = set()
    rels = [r for r, w in RELATIONSHIP_WEIGHTS for _ in range(w)]
    countries = ["NO"] * 4 + ["SE"] * 3 + ["DK"] * 2 + ["GB"] * 2
    for _ in range(n):
        country = rng.choice(countries)
        spec = COUNTRY[country]
        city = rng.choice(spec["cities"])
        style = rng.random()
        if style < 0.45:
            name = f"{rng.choice(spec['stems'])} {rng.choice(spec['trades'])}"
        elif style < 0.8:
            name = f"{city} {rng.choice(spec['trades'])}"
        else:
            name = f"{rng.choice(spec['stems'])} {rng.choice(spec['trades'])} {city}"
        name = f"{name} {rng.choice(spec['forms'])}"
        org = ORGNR[country](rng)
        while (country, org) in seen:
            org = ORGNR[country](rng)
        seen.add((country, org))
        yield {"name": name, "org_number": org, "country": country, "city": city, "relationship": rng.choice(rels)}


def load(session: Session, tenant_id: int, n: int, seed: int = 42, batch: int = 5000) -> int:
    """Insert ``n`` generated companies (and their search words) for a tenant."""
    done = 0
    rows = list(generate(n, seed))
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        values = [{**r, "tenant_id": tenant_id, "sort_name": text.sort_key(r["name"])} for r in chunk]
        session.execute(insert(Company), values)
        ids = {
            (country, org): id_
            for country, org, id_ in session.execute(
                select(Company.country, Company.org_number, Company.id).where(
                    Company.tenant_id == tenant_id, Company.org_number.in_([r["org_number"] for r in chunk])
                )
            )
        }
        words = [
            {"tenant_id": tenant_id, "word": w, "company_id": ids[(r["country"], r["org_number"])]}
            for r in chunk
            for w in text.company_words(r["name"], r["org_number"])
        ]
        session.execute(insert(CompanyWord), words)
        session.commit()
        done += len(chunk)
    return done
