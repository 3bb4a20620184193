"""Realistic demo and benchmark companies for Norway, Sweden, Denmark and the UK.

Deterministic (seeded); organisation numbers carry valid check digits.
``load`` bulk-inserts through SQLAlchemy Core, fast enough for 100,000 rows.
"""
from __future__ import annotations

import random
from collections.abc import Iterator

from sqlalchemy import insert, select
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from service_common import text
from . import collation
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
    lang = collation.tenant_language(session, tenant_id)
    rows = list(generate(n, seed))
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        values = [{**r, "tenant_id": tenant_id, "sort_name": collation.key(r["name"], lang)} for r in chunk]
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


# -- the full demo: companies with contacts, projects, tasks, agreements, invoices ------
REGIONS = {
    "NO": {"Oslo": "Oslo", "Bergen": "Vestland", "Trondheim": "Trøndelag", "Stavanger": "Rogaland",
           "Drammen": "Buskerud", "Fredrikstad": "Østfold", "Kristiansand": "Agder", "Sandnes": "Rogaland",
           "Tromsø": "Troms", "Sarpsborg": "Østfold", "Skien": "Telemark", "Ålesund": "Møre og Romsdal",
           "Sandefjord": "Vestfold", "Haugesund": "Rogaland", "Tønsberg": "Vestfold", "Moss": "Østfold",
           "Bodø": "Nordland", "Arendal": "Agder", "Hamar": "Innlandet", "Lillehammer": "Innlandet",
           "Gjøvik": "Innlandet", "Halden": "Østfold", "Molde": "Møre og Romsdal", "Harstad": "Troms"},
    "SE": {"Stockholm": "Stockholms län", "Göteborg": "Västra Götalands län", "Malmö": "Skåne län",
           "Uppsala": "Uppsala län", "Västerås": "Västmanlands län", "Örebro": "Örebro län",
           "Linköping": "Östergötlands län", "Helsingborg": "Skåne län", "Jönköping": "Jönköpings län",
           "Norrköping": "Östergötlands län", "Lund": "Skåne län", "Umeå": "Västerbottens län",
           "Gävle": "Gävleborgs län", "Borås": "Västra Götalands län", "Södertälje": "Stockholms län",
           "Eskilstuna": "Södermanlands län", "Karlstad": "Värmlands län", "Täby": "Stockholms län",
           "Växjö": "Kronobergs län", "Halmstad": "Hallands län", "Sundsvall": "Västernorrlands län",
           "Luleå": "Norrbottens län"},
    "DK": {"København": "Region Hovedstaden", "Aarhus": "Region Midtjylland", "Odense": "Region Syddanmark",
           "Aalborg": "Region Nordjylland", "Esbjerg": "Region Syddanmark", "Randers": "Region Midtjylland",
           "Kolding": "Region Syddanmark", "Horsens": "Region Midtjylland", "Vejle": "Region Syddanmark",
           "Roskilde": "Region Sjælland", "Herning": "Region Midtjylland", "Hørsholm": "Region Hovedstaden",
           "Helsingør": "Region Hovedstaden", "Silkeborg": "Region Midtjylland", "Næstved": "Region Sjælland",
           "Fredericia": "Region Syddanmark", "Viborg": "Region Midtjylland", "Køge": "Region Sjælland",
           "Holstebro": "Region Midtjylland", "Taastrup": "Region Hovedstaden"},
    "GB": {"London": "London", "Manchester": "North West", "Birmingham": "West Midlands",
           "Leeds": "Yorkshire and the Humber", "Glasgow": "Scotland", "Edinburgh": "Scotland",
           "Bristol": "South West", "Liverpool": "North West", "Sheffield": "Yorkshire and the Humber",
           "Cardiff": "Wales", "Newcastle upon Tyne": "North East", "Nottingham": "East Midlands",
           "Leicester": "East Midlands", "Belfast": "Northern Ireland", "Aberdeen": "Scotland",
           "Reading": "South East", "Milton Keynes": "South East", "Southampton": "South East",
           "Oxford": "South East", "Cambridge": "East of England"},
}
INDUSTRIES = [
    ("41.200", "Construction of residential and non-residential buildings"), ("43.210", "Electrical installation"),
    ("43.220", "Plumbing, heat and air-conditioning installation"), ("49.410", "Freight transport by road"),
    ("68.200", "Renting and operating of own or leased real estate"), ("69.200", "Accounting and auditing"),
    ("43.341", "Painting"), ("52.290", "Other transportation support activities"),
    ("81.210", "General cleaning of buildings"), ("25.620", "Machining"), ("23.630", "Manufacture of ready-mixed concrete"),
    ("78.200", "Temporary employment agency activities"), ("70.220", "Business and other management consultancy"),
    ("62.010", "Computer programming activities"), ("86.101", "Hospital activities"), ("56.290", "Other food service activities"),
    ("10.110", "Processing and preserving of meat"), ("47.110", "Retail sale in non-specialised stores"),
]
FIRST = {"NO": ["Kari", "Ola", "Ingrid", "Lars", "Silje", "Magnus", "Nora", "Jonas", "Marte", "Henrik"],
         "SE": ["Anna", "Erik", "Elin", "Johan", "Sara", "Oskar", "Maja", "Karl", "Linnea", "Emil"],
         "DK": ["Mette", "Søren", "Freja", "Mads", "Ida", "Rasmus", "Sofie", "Jens", "Line", "Anders"],
         "GB": ["Emma", "James", "Olivia", "Harry", "Amelia", "George", "Isla", "Jack", "Sophie", "Thomas"]}
LAST = {"NO": ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Berg", "Haugen"],
        "SE": ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson", "Lindberg"],
        "DK": ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen", "Madsen"],
        "GB": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson"]}
TITLES = ["Daglig leder", "HR-sjef", "Innkjøpssjef", "Driftsleder", "Prosjektleder", "CFO", "HR Manager", "Site manager"]
PHONE = {"NO": lambda r: f"+479{r.randrange(10**7):07d}", "SE": lambda r: f"+4670{r.randrange(10**7):07d}",
         "DK": lambda r: f"+452{r.randrange(10**7):07d}", "GB": lambda r: f"+447700900{r.randrange(1000):03d}"}
STREETS = {"NO": "gata", "SE": "gatan", "DK": "vej", "GB": " Road"}
STAFF = [("Kari Nordmann", "Oslo"), ("Ola Hansen", "Oslo"), ("Ingrid Berg", "Bergen"), ("Lars Haugen", "Bergen"),
         ("Anna Lindberg", "Stockholm"), ("Erik Svensson", "Stockholm"), ("Mette Jensen", "København"),
         ("James Taylor", "London")]
TAGS = ["Nøkkelkunde", "Rammeavtale", "Offentlig sektor", "VIP", "Bygg og anlegg", "Helse", "Industri", "Logistikk",
        "Vinterkampanje", "Ny kunde", "Kredittsjekk", "Sommervikarer"]
ATTRIBUTES = [("Potensial", "stars", []), ("Rammeavtale", "bool", []),
              ("Segment", "dropdown", ["Privat", "Offentlig", "Ideell"]),
              ("Tjenester", "multi", ["Bemanning", "Rekruttering", "Konsulent", "Outsourcing"])]
PROJECT_TYPES = ["staffing"] * 5 + ["recruitment"] * 2 + ["recruitment_staffing", "consulting", "other"]
PROJECT_STATUS = ["active"] * 4 + ["active_urgent", "request", "not_started", "solved_ended", "solved_ended", "solved_ongoing"]
AGREEMENT_STATUS = ["signed"] * 6 + ["draft"] * 2 + ["sent"] * 2
TASK_TITLES = ["Ring tilbake", "Send tilbud", "Følg opp avtale", "Bestill møte", "Oppdater kontaktperson",
               "Send prisliste", "Sjekk kreditt", "Forbered kvartalsmøte"]


def ensure_staff(session: Session, tenant_id: int) -> tuple[list[int], list[int]]:
    """Departments and a few coworkers to own companies (created once per tenant)."""
    from .auth import hasher
    from .models import Department, User

    depts = {d.name: d.id for d in session.scalars(select(Department).where(Department.tenant_id == tenant_id))}
    for _, office in STAFF:
        if office not in depts:
            d = Department(tenant_id=tenant_id, name=office)
            session.add(d)
            session.flush()
            depts[office] = d.id
    users = session.scalars(select(User).where(User.tenant_id == tenant_id)).all()
    names = {u.name for u in users}
    unusable = hasher.hash(f"demo-{random.random()}")  # demo coworkers cannot log in
    for name, office in STAFF:
        if name not in names:
            email = f"{text.words(name)[0]}.{text.words(name)[-1]}.t{tenant_id}@demo.example"
            session.add(User(tenant_id=tenant_id, email=email, name=name, password_hash=unusable, role="user",
                             department_id=depts[office], active=True))
    session.commit()
    user_ids = list(session.scalars(select(User.id).where(User.tenant_id == tenant_id).order_by(User.id)))
    return user_ids, sorted(depts.values())


def ensure_tags_and_attributes(session: Session, tenant_id: int) -> tuple[list[int], list[tuple]]:
    import json

    from .models import Attribute, Tag

    tags = {t.folded: t.id for t in session.scalars(select(Tag).where(Tag.tenant_id == tenant_id))}
    for name in TAGS:
        if name.casefold() not in tags:
            t = Tag(tenant_id=tenant_id, name=name, folded=name.casefold())
            session.add(t)
            session.flush()
            tags[t.folded] = t.id
    attrs = {a.name: a for a in session.scalars(select(Attribute).where(Attribute.tenant_id == tenant_id))}
    for name, kind, options in ATTRIBUTES:
        if name not in attrs:
            a = Attribute(tenant_id=tenant_id, name=name, type=kind, options=json.dumps(options))
            session.add(a)
            session.flush()
            attrs[name] = a
    session.commit()
    return [tags[n.casefold()] for n in TAGS], [(attrs[n].id, k, o) for n, k, o in ATTRIBUTES]


def load_full(session: Session, tenant_id: int, n: int, seed: int = 42, batch: int = 2000) -> int:
    """Insert ``n`` companies with on average 2 contacts, 3 projects, 5 tasks,
    1 agreement and 10 invoices each, plus owners, tags, attributes and
    addresses; counters and invoiced totals consistent with the rows. Core
    bulk inserts, committed per batch."""
    from datetime import date, datetime, timedelta, timezone

    from sqlalchemy import func

    from .models import (Activity, Agreement, CompanyAddress, CompanyAttributeValue, CompanyInvoiceTotal,
                         CompanyOwner, CompanyTag, Contact, Invoice, Project, Task, Tenant)

    rng = random.Random(seed * 7919 + 1)
    lang = collation.tenant_language(session, tenant_id)
    user_ids, dept_ids = ensure_staff(session, tenant_id)
    tag_ids, attrs = ensure_tags_and_attributes(session, tenant_id)
    next_id = (session.scalar(select(func.max(Company.id))) or 0) + 1
    currency = session.scalar(select(Tenant.currency).where(Tenant.id == tenant_id)) or "NOK"
    today = date.today()
    now = datetime.now(timezone.utc)
    first_day = date(today.year - 1, 1, 1)
    span = (today - first_day).days
    rows = list(generate(n, seed))
    done = 0
    for start in range(0, len(rows), batch):
        t: dict[str, list] = {k: [] for k in ("companies", "words", "owners", "addresses", "tags", "attrs", "contacts",
                                               "projects", "tasks", "agreements", "invoices", "totals", "activities")}
        for r in rows[start:start + batch]:
            cid = next_id
            next_id += 1
            country, city = r["country"], r["city"]
            region = REGIONS[country].get(city)
            code, industry = rng.choice(INDUSTRIES)
            created = now - timedelta(days=rng.randrange(5 * 365), minutes=rng.randrange(1440))
            customerish = r["relationship"] in ("customer", "former_customer")
            # projects
            active = 0
            for _ in range(rng.randint(0, 6) if customerish else rng.randint(0, 4)):
                status = rng.choice(PROJECT_STATUS)
                active += status in ("active", "active_urgent")
                begin = today - timedelta(days=rng.randrange(700))
                t["projects"].append({"tenant_id": tenant_id, "company_id": cid, "name": f"{rng.choice(['Bemanning', 'Rekruttering', 'Innleie', 'Sesong'])} {begin.year}",
                                      "type": rng.choice(PROJECT_TYPES), "status": status, "start_date": begin,
                                      "end_date": begin + timedelta(days=rng.randrange(30, 400)),
                                      "owner_id": rng.choice(user_ids), "created_at": created + timedelta(days=rng.randrange(30))})
            # tasks
            unresolved = 0
            for _ in range(rng.randint(0, 10)):
                is_done = rng.random() < 0.6
                unresolved += not is_done
                due = today + timedelta(days=rng.randrange(-60, 60))
                t["tasks"].append({"tenant_id": tenant_id, "company_id": cid, "title": rng.choice(TASK_TITLES),
                                   "due_date": due, "assignee_id": rng.choice(user_ids),
                                   "priority": rng.choice(["low", "normal", "normal", "high"]), "contact_id": None,
                                   "done": is_done, "done_at": now if is_done else None,
                                   "created_at": now - timedelta(days=rng.randrange(90))})
            # agreements
            unsigned = 0
            for _ in range(rng.randint(0, 2)):
                status = rng.choice(AGREEMENT_STATUS)
                unsigned += status != "signed"
                valid = today - timedelta(days=rng.randrange(400))
                t["agreements"].append({"tenant_id": tenant_id, "company_id": cid, "project_id": None,
                                        "title": rng.choice(["Samarbeidsavtale", "Prisavtale", "Rammeavtale"]),
                                        "kind": rng.choice(["cooperation", "price", "framework"]), "status": status,
                                        "valid_from": valid, "valid_to": valid + timedelta(days=365),
                                        "signed_at": now if status == "signed" else None,
                                        "created_at": created + timedelta(days=rng.randrange(60))})
            # invoices and totals per year
            if r["relationship"] == "customer":
                count = rng.randint(8, 24)
            elif r["relationship"] == "former_customer":
                count = rng.randint(0, 16)
            else:
                count = rng.randint(0, 13)
            totals: dict[int, int] = {}
            for k in range(count):
                issued = first_day + timedelta(days=rng.randrange(span + 1))
                amount = rng.randrange(5_000_00, 250_000_00, 100)
                totals[issued.year] = totals.get(issued.year, 0) + amount
                t["invoices"].append({"tenant_id": tenant_id, "company_id": cid, "invoice_number": f"D{seed}-{cid}-{k + 1}",
                                      "kind": "invoice", "issued_on": issued, "due_on": issued + timedelta(days=14),
                                      "amount_minor": amount, "currency": currency, "credited_invoice_id": None})
            for year, amount in totals.items():
                t["totals"].append({"company_id": cid, "year": year, "tenant_id": tenant_id, "amount_minor": amount})
            # contacts and activities
            domain = "".join(text.words(r["name"])[:2])[:30] + {"GB": ".co.uk"}.get(country, f".{country.lower()}")
            for _ in range(rng.randint(0, 4)):
                first, last = rng.choice(FIRST[country]), rng.choice(LAST[country])
                t["contacts"].append({"tenant_id": tenant_id, "company_id": cid, "first_name": first, "last_name": last,
                                      "title": rng.choice(TITLES),
                                      "email": f"{text.fold(first)}.{text.fold(last)}@{domain}",
                                      "phone": PHONE[country](rng), "notes": None, "active": rng.random() < 0.9,
                                      "created_at": created})
            for _ in range(rng.randint(0, 2)):
                t["activities"].append({"tenant_id": tenant_id, "company_id": cid,
                                        "kind": rng.choice(["call", "visit", "email", "note", "sales_meeting"]),
                                        "at": now - timedelta(days=rng.randrange(365), minutes=rng.randrange(600)),
                                        "user_id": rng.choice(user_ids), "contact_id": None,
                                        "text": rng.choice(["Snakket om sommervikarer", "Ønsker tilbud på 5 lagerarbeidere",
                                                            "Fornøyd med leveransen", "Ny innkjøpssjef fra mars"])})
            # the card: owners, address, tags, attributes
            for uid in rng.sample(user_ids, k=min(len(user_ids), rng.choice([0, 1, 1, 1, 2]))):
                t["owners"].append({"company_id": cid, "user_id": uid, "tenant_id": tenant_id})
            street = f"{rng.choice(COUNTRY[country]['stems'])}{STREETS[country]} {rng.randint(1, 120)}"
            postcode = f"{rng.randrange(1000, 9999)}" if country != "SE" else f"{rng.randrange(100, 999)} {rng.randrange(10, 99)}"
            if country == "GB":
                postcode = f"{rng.choice(['EC1A', 'M1', 'B2', 'LS1', 'G1', 'BS1'])} {rng.randint(1, 9)}AB"
            for kind in ("visiting", "postal") + (("billing",) if rng.random() < 0.3 else ()):
                t["addresses"].append({"company_id": cid, "kind": kind, "tenant_id": tenant_id, "street": street,
                                       "postcode": postcode, "city": city, "region": region, "country": country})
            for tag in rng.sample(tag_ids, k=rng.choice([0, 0, 1, 1, 2, 3])):
                t["tags"].append({"company_id": cid, "tag_id": tag, "tenant_id": tenant_id})
            for attr_id, kind, options in attrs:
                if rng.random() < 0.4:
                    if kind == "stars":
                        values = [str(rng.randint(1, 5))]
                    elif kind == "bool":
                        values = [rng.choice(["true", "false"])]
                    elif kind == "dropdown":
                        values = [rng.choice(options)]
                    else:
                        values = rng.sample(options, k=rng.randint(1, len(options)))
                    t["attrs"] += [{"company_id": cid, "attribute_id": attr_id, "value": v, "tenant_id": tenant_id}
                                   for v in values]
            t["companies"].append({
                **r, "id": cid, "tenant_id": tenant_id, "sort_name": collation.key(r["name"], lang), "region": region,
                "legal_form": r["name"].rsplit(" ", 1)[-1] if not r["name"].endswith("(publ)") else "AB",
                "industry_code": code, "industry_text": industry,
                "industry_words": f" {' '.join(text.words(industry))} ", "employees": rng.choice([3, 8, 15, 40, 120, 600]),
                "website": f"https://www.{domain}", "phone": PHONE[country](rng), "email": f"post@{domain}",
                "department_id": rng.choice(dept_ids) if dept_ids and rng.random() < 0.7 else None,
                "invoice_type": rng.choice(["email_pdf", "email_link", "paper"]), "invoice_email": f"faktura@{domain}",
                "credit_days": rng.choice([10, 14, 14, 30]), "created_at": created, "updated_at": created,
                "active_projects": active, "unresolved_tasks": unresolved, "unsigned_agreements": unsigned,
            })
            t["words"] += [{"tenant_id": tenant_id, "word": w, "company_id": cid}
                           for w in text.company_words(r["name"], r["org_number"])]
        for key, model in (("companies", Company), ("words", CompanyWord), ("owners", CompanyOwner),
                           ("addresses", CompanyAddress), ("tags", CompanyTag), ("attrs", CompanyAttributeValue),
                           ("contacts", Contact), ("projects", Project), ("tasks", Task), ("agreements", Agreement),
                           ("invoices", Invoice), ("totals", CompanyInvoiceTotal), ("activities", Activity)):
            if t[key]:
                session.execute(insert(model), t[key])
        session.commit()
        done += len(t["companies"])
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text_sql("SELECT setval(pg_get_serial_sequence('companies', 'id'), "
                                 "(SELECT max(id) FROM companies))"))
        session.commit()
    if n >= 1000:
        analyze(session)
    return done


def analyze(session: Session) -> None:
    """Refresh the planner's statistics after a bulk load (SQLite has none until
    ANALYZE runs, and then picks worse indexes for the overview)."""
    session.commit()
    session.connection().exec_driver_sql("ANALYZE")
    session.commit()
