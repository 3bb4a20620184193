"""Deterministic, realistic development data in each registry's real formats.

    python -m registry_lookup.devdata --out DIR --per-country N [--seed 1]

writes (under DIR):

    brreg/enheter_alle.json.gz, brreg/underenheter_alle.json.gz   (Brønnøysund bulk: gzip JSON arrays)
    companies-house/BasicCompanyDataAsOneFile-<YYYY-MM>-01.zip    (BasicCompanyData CSV in a zip)
    cvr/cvr-dump.jsonl.gz                                          (CVR ES scroll dump, one hit per line)
    bolagsverket/bolagsverket_bulkfil.zip                          (bolagsverket_bulkfil.txt)

The same generator feeds the stand-ins (``registry_lookup.standins``), so a
company in the files is the company the stand-in APIs serve. Companies are
generated in sequence per country from ``random.Random((seed, country))``: the
first N of a larger run are the same N companies.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import random
import zipfile
from pathlib import Path
from typing import Iterator

from . import orgnr

# (NACE, words per language no/se/da/en, texts per language no/se/da/en)
TRADES = [
    ("4120", ("Bygg", "Bygg", "Byg", "Building"), ("Oppføring av bygninger", "Byggande av hus", "Opførelse af bygninger", "Construction of buildings")),
    ("4322", ("Rør", "VVS", "VVS", "Plumbing"), ("VVS-arbeid", "VVS-arbeten", "VVS- og blikkenslagerforretninger", "Plumbing, heat and air-conditioning installation")),
    ("4321", ("Elektro", "El", "El-service", "Electrical"), ("Elektrisk installasjonsarbeid", "Elinstallationer", "El-installation", "Electrical installation")),
    ("4941", ("Transport", "Transport", "Transport", "Haulage"), ("Godstransport på vei", "Vägtransport, godstrafik", "Vejgodstransport", "Freight transport by road")),
    ("6920", ("Regnskap", "Redovisning", "Revision", "Accountants"), ("Regnskap, revisjon og skatterådgivning", "Redovisning och revision", "Bogføring og revision", "Accounting and auditing activities")),
    ("7820", ("Bemanning", "Bemanning", "Vikarservice", "Staffing"), ("Utleie av arbeidskraft", "Personaluthyrning", "Vikarbureauer", "Temporary employment agency activities")),
    ("7810", ("Rekruttering", "Rekrytering", "Rekruttering", "Recruitment"), ("Rekruttering og formidling av arbeidskraft", "Arbetsförmedling och rekrytering", "Arbejdsformidling", "Activities of employment placement agencies")),
    ("6820", ("Eiendom", "Fastigheter", "Ejendomme", "Property"), ("Utleie av egen eller leid fast eiendom", "Uthyrning och förvaltning av egna fastigheter", "Udlejning af erhvervsejendomme", "Renting and operating of own or leased real estate")),
    ("6201", ("Data", "Data", "Data", "Software"), ("Programmeringstjenester", "Dataprogrammering", "Computerprogrammering", "Computer programming activities")),
    ("6202", ("IT", "IT-konsult", "IT", "IT Services"), ("Konsulentvirksomhet tilknyttet informasjonsteknologi", "Datakonsultverksamhet", "IT-konsulentbistand", "Computer consultancy activities")),
    ("7022", ("Consulting", "Konsult", "Konsulent", "Consulting"), ("Bedriftsrådgivning og annen administrativ rådgivning", "Konsultverksamhet avseende företags organisation", "Virksomhedsrådgivning", "Business and other management consultancy activities")),
    ("8121", ("Renhold", "Städ", "Rengøring", "Cleaning"), ("Rengjøring av bygninger", "Lokalvård", "Almindelig rengøring i bygninger", "General cleaning of buildings")),
    ("5610", ("Kafé", "Restaurang", "Café", "Kitchen"), ("Drift av restauranter og kafeer", "Restaurangverksamhet", "Restauranter", "Restaurants and mobile food service activities")),
    ("4520", ("Bilverksted", "Bilverkstad", "Autoværksted", "Motors"), ("Vedlikehold og reparasjon av motorvogner", "Underhåll och reparation av motorfordon", "Autoreparationsværksteder", "Maintenance and repair of motor vehicles")),
    ("4334", ("Maling", "Måleri", "Malerfirma", "Decorators"), ("Malerarbeid", "Måleriarbeten", "Malerforretninger", "Painting and glazing")),
    ("7111", ("Arkitekter", "Arkitekter", "Arkitekter", "Architects"), ("Arkitekttjenester vedrørende byggverk", "Arkitektverksamhet", "Arkitekter", "Architectural activities")),
    ("8690", ("Helse", "Vård", "Sundhed", "Healthcare"), ("Andre helsetjenester", "Annan hälso- och sjukvård", "Sundhedsvæsen i øvrigt", "Other human health activities")),
    ("1071", ("Bakeri", "Bageri", "Bageri", "Bakery"), ("Produksjon av brød og ferske konditorvarer", "Tillverkning av mjukt matbröd", "Fremstilling af brød og friske brødprodukter", "Manufacture of bread and fresh pastry")),
    ("4711", ("Handel", "Handel", "Handel", "Stores"), ("Butikkhandel med bredt vareutvalg", "Varuhandel med brett sortiment", "Supermarkeder", "Retail sale in non-specialised stores")),
    ("4312", ("Graving", "Mark", "Anlæg", "Groundworks"), ("Grunnarbeid", "Mark- och grundarbeten", "Forberedende byggepladsarbejder", "Site preparation")),
    ("6910", ("Advokatfirma", "Advokatbyrå", "Advokatfirma", "Legal"), ("Juridisk tjenesteyting", "Juridisk verksamhet", "Advokatvirksomhed", "Legal activities")),
    ("5210", ("Logistikk", "Logistik", "Logistik", "Logistics"), ("Lagring", "Magasinering och varulagring", "Oplagring", "Warehousing and storage")),
    ("4332", ("Snekkeri", "Snickeri", "Tømrer", "Joinery"), ("Snekkerarbeid", "Byggnadssnickeriarbeten", "Tømrer- og bygningssnedkervirksomhed", "Joinery installation")),
    ("0321", ("Sjømat", "Fiskodling", "Fisk", "Seafood"), ("Hav- og kystbasert fiskeoppdrett", "Fiskodling i hav", "Havbrug", "Marine aquaculture")),
]
LANG = {"NO": 0, "SE": 1, "DK": 2, "GB": 3}

# (city, postcode, municipality, municipality code)
TOWNS = {
    "NO": [("Oslo", "0150", "Oslo", "0301"), ("Bergen", "5003", "Bergen", "4601"), ("Trondheim", "7010", "Trondheim", "5001"),
           ("Stavanger", "4006", "Stavanger", "1103"), ("Fredrikstad", "1606", "Fredrikstad", "3107"),
           ("Sarpsborg", "1701", "Sarpsborg", "3105"), ("Drammen", "3015", "Drammen", "3005"),
           ("Kristiansand", "4610", "Kristiansand", "4204"), ("Tromsø", "9008", "Tromsø", "5501"),
           ("Bodø", "8006", "Bodø", "1804"), ("Ålesund", "6002", "Ålesund", "1508"), ("Hamar", "2317", "Hamar", "3403"),
           ("Lillehammer", "2609", "Lillehammer", "3405"), ("Moss", "1530", "Moss", "3103"),
           ("Haugesund", "5527", "Haugesund", "1106"), ("Sandnes", "4306", "Sandnes", "1108"),
           ("Tønsberg", "3110", "Tønsberg", "3803"), ("Skien", "3715", "Skien", "3807"), ("Gjøvik", "2815", "Gjøvik", "3407"),
           ("Molde", "6413", "Molde", "1506"), ("Halden", "1771", "Halden", "3101"), ("Sandvika", "1337", "Bærum", "3201"),
           ("Lørenskog", "1470", "Lørenskog", "3222"), ("Førde", "6800", "Sunnfjord", "4647")],
    "SE": [("Stockholm", "11122", "Stockholm", "0180"), ("Göteborg", "41101", "Göteborg", "1480"),
           ("Malmö", "21119", "Malmö", "1280"), ("Uppsala", "75310", "Uppsala", "0380"), ("Västerås", "72211", "Västerås", "1980"),
           ("Örebro", "70210", "Örebro", "1880"), ("Linköping", "58223", "Linköping", "0580"),
           ("Helsingborg", "25221", "Helsingborg", "1283"), ("Jönköping", "55318", "Jönköping", "0680"),
           ("Norrköping", "60224", "Norrköping", "0581"), ("Lund", "22221", "Lund", "1281"), ("Umeå", "90326", "Umeå", "2480"),
           ("Gävle", "80320", "Gävle", "2180"), ("Borås", "50330", "Borås", "1490"), ("Sundsvall", "85230", "Sundsvall", "2281"),
           ("Luleå", "97231", "Luleå", "2580"), ("Östersund", "83130", "Östersund", "2380"), ("Karlstad", "65224", "Karlstad", "1780"),
           ("Växjö", "35230", "Växjö", "0780"), ("Eskilstuna", "63220", "Eskilstuna", "0484")],
    "DK": [("København K", "1050", "København", 101), ("Aarhus C", "8000", "Aarhus", 751), ("Odense C", "5000", "Odense", 461),
           ("Aalborg", "9000", "Aalborg", 851), ("Esbjerg", "6700", "Esbjerg", 561), ("Randers C", "8900", "Randers", 730),
           ("Kolding", "6000", "Kolding", 621), ("Horsens", "8700", "Horsens", 615), ("Vejle", "7100", "Vejle", 630),
           ("Roskilde", "4000", "Roskilde", 265), ("Herning", "7400", "Herning", 657), ("Hørsholm", "2970", "Hørsholm", 223),
           ("Helsingør", "3000", "Helsingør", 217), ("Silkeborg", "8600", "Silkeborg", 740), ("Næstved", "4700", "Næstved", 370),
           ("Fredericia", "7000", "Fredericia", 607), ("Viborg", "8800", "Viborg", 791), ("Køge", "4600", "Køge", 259),
           ("Sønderborg", "6400", "Sønderborg", 540), ("Ærøskøbing", "5970", "Ærø", 492), ("Frederiksberg C", "1850", "Frederiksberg", 147)],
    "GB": [("London", "EC1A", "", ""), ("London", "SE1", "", ""), ("London", "W1D", "", ""), ("Manchester", "M1", "", ""),
           ("Birmingham", "B1", "", ""), ("Leeds", "LS1", "", ""), ("Glasgow", "G1", "", "SC"), ("Edinburgh", "EH1", "", "SC"),
           ("Bristol", "BS1", "", ""), ("Liverpool", "L1", "", ""), ("Sheffield", "S1", "", ""),
           ("Newcastle upon Tyne", "NE1", "", ""), ("Cardiff", "CF10", "", ""), ("Belfast", "BT1", "", "NI"),
           ("Nottingham", "NG1", "", ""), ("Leicester", "LE1", "", ""), ("Southampton", "SO14", "", ""), ("Reading", "RG1", "", ""),
           ("Aberdeen", "AB10", "", "SC"), ("Cambridge", "CB2", "", ""), ("Oxford", "OX1", "", ""), ("York", "YO1", "", "")],
}
PLACES = {
    "NO": ["Østfold", "Viken", "Trøndelag", "Nordland", "Vestland", "Agder", "Romerike", "Hedmark", "Sunnmøre", "Lofoten",
           "Fjord", "Nordlys", "Fjell", "Bjørk", "Havbris", "Vestkyst", "Sørlandet", "Oslofjord", "Hardanger", "Ryfylke", "Ålesund", "Tromsø"],
    "SE": ["Skåne", "Norrland", "Västkust", "Öresund", "Mälardalen", "Dalarna", "Småland", "Roslagen", "Gotland", "Värmland",
           "Halland", "Norrbotten", "Bohus", "Österlen", "Södertörn", "Göta", "Jämtland"],
    "DK": ["Nordsjælland", "Fyn", "Jylland", "Vestjysk", "Østjysk", "Bornholm", "Limfjord", "Øresund", "Sydhavn", "Amager",
           "Ærø", "Himmerland", "Thy", "Djurs", "Sønderjysk"],
    "GB": ["Thames", "Pennine", "Northern", "Albion", "Highland", "Cotswold", "Mersey", "Wessex", "Midland", "Caledonian",
           "Severn", "Tyne", "Chiltern", "Mendip", "Solent"],
}
SURNAMES = {
    "NO": ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen", "Karlsen",
           "Berg", "Haugen", "Hagen", "Dahl", "Jørgensen", "Halvorsen", "Lund", "Sørensen", "Solberg", "Strand", "Bakken",
           "Moen", "Ødegård", "Sæther", "Aasen", "Bråthen", "Økland", "Lie", "Eriksen", "Nygård"],
    "SE": ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
           "Gustafsson", "Pettersson", "Jonsson", "Hansson", "Bengtsson", "Lindberg", "Lindström", "Åberg", "Sjöberg",
           "Öberg", "Ström", "Holm", "Bergström", "Lundqvist", "Engström", "Åkesson"],
    "DK": ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen",
           "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Poulsen", "Møller", "Mortensen",
           "Østergaard", "Bæk", "Skovgaard", "Dalsgaard", "Frølich"],
    "GB": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson",
           "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "O'Neill", "McDonald", "Patel"],
}
FIRST = {"NO": ["Ola", "Kari", "Per", "Ingrid", "Lars", "Sigrid", "Bjørn", "Åse"],
         "SE": ["Erik", "Anna", "Lars", "Maria", "Karl", "Åsa", "Björn", "Linnéa"],
         "DK": ["Mads", "Anne", "Søren", "Mette", "Jens", "Louise", "Bjørn", "Ida"]}
STREETS = {
    "NO": ["Storgata", "Kongens gate", "Industriveien", "Strandveien", "Fjordgata", "Havnegata", "Kirkegata", "Bjørkveien",
           "Løkkeveien", "Sjøgata", "Næringsveien", "Tyvholmen", "Ringveien", "Åsveien"],
    "SE": ["Storgatan", "Drottninggatan", "Industrivägen", "Kungsgatan", "Hamngatan", "Sveavägen", "Järnvägsgatan",
           "Västergatan", "Östra Långgatan", "Ågatan", "Björkvägen"],
    "DK": ["Vestergade", "Østergade", "Nørregade", "Søndergade", "Industrivej", "Havnegade", "Bredgade", "Jernbanegade",
           "Strandvejen", "Ågade", "Bremerholm", "Algade"],
    "GB": ["High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "King Street", "Park Road",
           "Queen Street", "London Road", "Bridge Street", "Market Place"],
}
FORMS = {  # code, text, weight, suffix
    "NO": [("AS", "Aksjeselskap", 60, " AS"), ("ENK", "Enkeltpersonforetak", 20, ""), ("ANS", "Ansvarlig selskap", 4, " ANS"),
           ("DA", "Selskap med delt ansvar", 3, " DA"), ("SA", "Samvirkeforetak", 2, " SA"), ("ASA", "Allmennaksjeselskap", 1, " ASA"),
           ("FLI", "Forening/lag/innretning", 7, ""), ("STI", "Stiftelse", 3, "")],
    "SE": [("AB", "Aktiebolag", 72, " AB"), ("HB", "Handelsbolag", 10, " HB"), ("KB", "Kommanditbolag", 4, " KB"),
           ("EF", "Ekonomisk förening", 6, " ekonomisk förening"), ("BRF", "Bostadsrättsförening", 5, ""),
           ("I", "Ideell förening", 3, "")],
    "DK": [("ApS", "Anpartsselskab", 55, " ApS", 80), ("A/S", "Aktieselskab", 10, " A/S", 60),
           ("ENK", "Enkeltmandsvirksomhed", 22, "", 10), ("I/S", "Interessentskab", 6, " I/S", 30),
           ("P/S", "Partnerselskab", 3, " P/S", 81), ("FORENING", "Forening", 4, "", 115)],
    "GB": [("ltd", "Private Limited Company", 84, None), ("plc", "Public Limited Company", 2, " PLC"),
           ("llp", "Limited Liability Partnership", 6, " LLP"), ("limited-partnership", "Limited Partnership", 2, " LP"),
           ("private-limited-guarant-nsc", "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)", 4, " LIMITED"),
           ("oversea-company", "Oversea Company", 2, "")],
}
EMPLOYEES = [(0, 0), (1, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, 199), (200, 499), (500, 999)]
EMPLOYEE_WEIGHTS = [30, 30, 14, 11, 8, 4, 2, 0.7, 0.3]
DK_INTERVALS = [(0, 0), (1, 1), (2, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, 199), (200, 499), (500, 999), (1000, 999999)]


def _weighted(rng, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def _no_number(base: int, slot: int) -> str:
    for attempt in range(3):
        first8 = str(base + slot * 3 + attempt)
        check = orgnr.no_check_digit(first8)
        if check is not None:
            return first8 + str(check)
    raise AssertionError("unreachable: one of three consecutive numbers has a check digit")


def _dk_number(slot: int) -> str:
    for attempt in range(3):
        first7 = str(2000000 + slot * 3 + attempt)
        check = orgnr.dk_check_digit(first7)
        if check is not None:
            return first7 + str(check)
    raise AssertionError("unreachable")


def _se_number(form: str, i: int) -> str:
    base = {"AB": 556000000, "HB": 969600000, "KB": 916800000, "EF": 769600000, "BRF": 716400000, "I": 802400000}[form]
    first9 = str(base + i)
    return first9 + str(orgnr.luhn_check_digit(first9))


def _gb_number(form: str, prefix: str, i: int) -> str:
    small = i < 900000
    if form == "llp" and small:
        return f"{'SO' if prefix == 'SC' else 'OC'}{100000 + i:06d}"
    if form == "limited-partnership" and small:
        return f"{'SL' if prefix == 'SC' else 'LP'}{100000 + i:06d}"
    if form == "oversea-company" and small:
        return f"FC{10000 + i:06d}"
    if prefix and small:
        return f"{prefix}{100000 + i:06d}"
    return f"{3000000 + i:08d}"


def _date(rng, start_year=1960, end_year=2024) -> str:
    d = dt.date(start_year, 1, 1) + dt.timedelta(days=rng.randrange((end_year - start_year) * 365))
    return d.isoformat()


def _slug(text: str) -> str:
    from .text import words
    return "".join(words(text))[:30] or "firma"


def _postcode(rng, country, town) -> str:
    if country == "GB":
        return f"{town[1]} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    if country == "NO":
        return f"{int(town[1]) + rng.randrange(0, 9):04d}"
    if country == "SE":
        return f"{int(town[1]) + rng.randrange(0, 40):05d}"
    return town[1]


def _address(rng, country, town) -> dict:
    street = f"{rng.choice(STREETS[country])} {rng.randrange(1, 160)}"
    if country == "GB":
        street = f"{rng.randrange(1, 300)} {rng.choice(STREETS[country])}"
    return {"street": street, "postcode": _postcode(rng, country, town), "city": town[0],
            "municipality": town[2], "municipality_code": town[3]}


def _name(rng, country, form_code, suffix, trade_word, town) -> str:
    if country == "NO" and form_code == "FLI":
        return f"{rng.choice(PLACES['NO'])} {rng.choice(['Idrettslag', 'Velforening', 'Musikkorps', 'Sportsklubb'])}"
    if country == "NO" and form_code == "STI":
        return f"Stiftelsen {rng.choice(PLACES['NO'])} {trade_word}"
    if country == "SE" and form_code == "BRF":
        return f"Bostadsrättsföreningen {rng.choice(PLACES['SE'])} {rng.randrange(1, 40)}"
    if country == "SE" and form_code == "I":
        return f"{rng.choice(PLACES['SE'])} {rng.choice(['Idrottsförening', 'Hembygdsförening', 'Golfklubb'])}"
    if country == "DK" and form_code == "FORENING":
        return f"{rng.choice(PLACES['DK'])} {rng.choice(['Boldklub', 'Grundejerforening', 'Idrætsforening'])}"
    if form_code in ("ENK",) and country in FIRST:
        base = f"{rng.choice(FIRST[country])} {rng.choice(SURNAMES[country])} {trade_word}"
    else:
        pattern = rng.randrange(5)
        if pattern == 0:
            base = f"{rng.choice(SURNAMES[country])} {trade_word}"
        elif pattern == 1:
            base = f"{rng.choice(PLACES[country])} {trade_word}"
        elif pattern == 2:
            base = f"{trade_word} {town[0]}"
        elif pattern == 3:
            base = f"{rng.choice(SURNAMES[country])} & {rng.choice(SURNAMES[country])} {trade_word}"
        else:
            base = f"{rng.choice(PLACES[country])} {rng.choice(SURNAMES[country])} {trade_word}"
    if country == "GB":
        base = base.upper()
        if suffix is None:
            suffix = rng.choice([" LIMITED", " LIMITED", " LTD"])
        if form_code == "oversea-company":
            suffix = rng.choice([" GMBH", " B.V.", " SA", " INC."])
    return base + (suffix or "")


def companies(country: str, n: int, seed: int = 1) -> Iterator[dict]:
    """The first ``n`` companies of ``country`` (each with its sub-units)."""
    rng = random.Random(f"{seed}:{country}")
    lang = LANG[country]
    forms = FORMS[country]
    weights = [f[2] for f in forms]
    sub_counter = 0
    towns = TOWNS[country]
    for i in range(n):
        form = _weighted(rng, forms, weights)
        code = form[0]
        trade = rng.choice(TRADES)
        town = rng.choice(towns)
        name = _name(rng, country, code, form[3], trade[1][lang], town)
        if country == "NO":
            number = _no_number(80000000, i)
        elif country == "SE":
            number = _se_number(code, i)
        elif country == "DK":
            number = _dk_number(i)
        else:
            number = _gb_number(code, town[3], i)
        roll = rng.random()
        status = "active" if roll < 0.86 else ("dissolved" if roll < 0.95 else "bankrupt")
        low, high = _weighted(rng, EMPLOYEES, EMPLOYEE_WEIGHTS)
        employees = rng.randint(low, high)
        visiting = _address(rng, country, town)
        postal = visiting if rng.random() < 0.7 else {**_address(rng, country, town),
                                                        "street": f"{'Postboks' if country == 'NO' else 'Box' if country == 'SE' else 'Postboks' if country == 'DK' else 'PO Box'} {rng.randrange(1, 9999)}"}
        slug = _slug(name)
        tld = {"NO": "no", "SE": "se", "DK": "dk", "GB": "co.uk"}[country]
        has_web = rng.random() < 0.5
        c = {
            "country": country, "i": i, "org_number": number, "name": name, "form": code, "form_text": form[1],
            "form_extra": form[4] if len(form) > 4 else None,
            "status": status, "nace": trade[0], "industry_text": trade[2][lang], "employees": employees,
            "visiting": visiting, "postal": postal,
            "website": f"www.{slug}.{tld}" if has_web else None,
            "email": f"post@{slug}.{tld}" if has_web and rng.random() < 0.6 else None,
            "phone": _phone(rng, country) if rng.random() < 0.5 else None,
            "registered_on": _date(rng), "subs": [],
        }
        n_subs = 0
        if country in ("NO", "DK") and employees >= 5 and code in ("AS", "ASA", "ApS", "A/S"):
            n_subs = rng.choice((1, 1, 1, 2, 2, 3))
        if country == "GB" and code == "oversea-company":
            n_subs = rng.choice((1, 1, 2))
        for k in range(n_subs):
            sub_town = town if k == 0 else rng.choice(towns)
            if country == "NO":
                sub_number = _no_number(90000000, sub_counter)
            elif country == "DK":
                sub_number = str(1000000000 + sub_counter * 7 + 3)
            else:
                sub_number = f"BR{20000 + sub_counter:06d}"
            sub_counter += 1
            sub_name = name if k == 0 else f"{name} avd. {sub_town[0]}" if country == "NO" else (
                f"{name} {sub_town[0]}" if country == "DK" else f"{name} ({sub_town[0].upper()} BRANCH)")
            c["subs"].append({
                "org_number": sub_number, "name": sub_name, "visiting": _address(rng, country, sub_town),
                "employees": max(0, employees // (n_subs + 1)), "status": status if status != "bankrupt" else "active",
                "registered_on": _date(rng, int(c["registered_on"][:4]), 2025),
            })
        yield c


def _phone(rng, country) -> str:
    if country == "NO":
        return f"+47 {rng.randrange(22000000, 99999999)}"
    if country == "SE":
        return f"+46 8 {rng.randrange(1000000, 9999999)}"
    if country == "DK":
        return f"+45 {rng.randrange(20000000, 99999999)}"
    return f"+44 20 {rng.randrange(10000000, 99999999)}"


def nace(country: str, code4: str) -> str:
    """A 4-digit NACE code in each registry's notation."""
    return {"NO": f"{code4[:2]}.{code4[2:]}0", "SE": f"{code4}0", "DK": f"{code4}00", "GB": f"{code4}0"}[country]


# -- Brønnøysund -----------------------------------------------------------
BRREG_BASE = "https://data.brreg.no/enhetsregisteret/api"


def _brreg_address(a: dict) -> dict:
    return {"land": "Norge", "landkode": "NO", "postnummer": a["postcode"], "poststed": a["city"].upper(),
            "adresse": [a["street"]], "kommune": a["municipality"].upper(), "kommunenummer": a["municipality_code"]}


def brreg_enhet(c: dict, base: str = BRREG_BASE) -> dict:
    doc = {
        "organisasjonsnummer": c["org_number"], "navn": c["name"].upper(),
        "organisasjonsform": {"kode": c["form"], "beskrivelse": c["form_text"],
                              "_links": {"self": {"href": f"{base}/organisasjonsformer/{c['form']}"}}},
    }
    if c["website"]:
        doc["hjemmeside"] = c["website"]
    if c["email"]:
        doc["epostadresse"] = c["email"]
    if c["phone"]:
        doc["telefon"] = c["phone"]
    if c["postal"] is not c["visiting"]:
        doc["postadresse"] = _brreg_address(c["postal"])
    doc.update({
        "registreringsdatoEnhetsregisteret": c["registered_on"],
        "registrertIMvaregisteret": c["form"] not in ("FLI", "STI"),
        "naeringskode1": {"kode": nace("NO", c["nace"]), "beskrivelse": c["industry_text"]},
        "antallAnsatte": c["employees"], "harRegistrertAntallAnsatte": c["employees"] > 0,
        "forretningsadresse": _brreg_address(c["visiting"]),
        "stiftelsesdato": c["registered_on"],
        "institusjonellSektorkode": {"kode": "2100", "beskrivelse": "Private aksjeselskaper mv."},
        "registrertIForetaksregisteret": c["form"] not in ("FLI",),
        "registrertIStiftelsesregisteret": c["form"] == "STI",
        "registrertIFrivillighetsregisteret": c["form"] == "FLI",
        "konkurs": c["status"] == "bankrupt",
        "underAvvikling": c["status"] == "dissolved",
        "underTvangsavviklingEllerTvangsopplosning": False,
        "maalform": "Bokmål",
        "_links": {"self": {"href": f"{base}/enheter/{c['org_number']}"}},
    })
    if c["status"] == "bankrupt":
        doc["konkursdato"] = "2024-03-01"
    return doc


def brreg_underenheter(c: dict, base: str = BRREG_BASE) -> list[dict]:
    out = []
    for s in c["subs"]:
        out.append({
            "organisasjonsnummer": s["org_number"], "navn": s["name"].upper(),
            "organisasjonsform": {"kode": "BEDR", "beskrivelse": "Underenhet til næringsdrivende og offentlig forvaltning",
                                  "_links": {"self": {"href": f"{base}/organisasjonsformer/BEDR"}}},
            "registreringsdatoEnhetsregisteret": s["registered_on"], "registrertIMvaregisteret": True,
            "naeringskode1": {"kode": nace("NO", c["nace"]), "beskrivelse": c["industry_text"]},
            "antallAnsatte": s["employees"], "harRegistrertAntallAnsatte": s["employees"] > 0,
            "overordnetEnhet": c["org_number"], "oppstartsdato": s["registered_on"],
            "beliggenhetsadresse": _brreg_address(s["visiting"]),
            **({"nedleggelsesdato": "2024-06-30"} if s["status"] == "dissolved" else {}),
            "_links": {"self": {"href": f"{base}/underenheter/{s['org_number']}"},
                       "overordnetEnhet": {"href": f"{base}/enheter/{c['org_number']}"}},
        })
    return out


# -- Companies House -------------------------------------------------------
CH_HEADER = ["CompanyName", " CompanyNumber", "RegAddress.CareOf", "RegAddress.POBox", "RegAddress.AddressLine1",
             " RegAddress.AddressLine2", "RegAddress.PostTown", "RegAddress.County", "RegAddress.Country",
             "RegAddress.PostCode", "CompanyCategory", "CompanyStatus", "CountryOfOrigin", "DissolutionDate",
             "IncorporationDate", "Accounts.AccountRefDay", "Accounts.AccountRefMonth", "Accounts.NextDueDate",
             "Accounts.LastMadeUpDate", "Accounts.AccountCategory", "Returns.NextDueDate", "Returns.LastMadeUpDate",
             "Mortgages.NumMortCharges", "Mortgages.NumMortOutstanding", "Mortgages.NumMortPartSatisfied",
             "Mortgages.NumMortSatisfied", "SICCode.SicText_1", "SICCode.SicText_2", "SICCode.SicText_3",
             "SICCode.SicText_4", "LimitedPartnerships.NumGenPartners", "LimitedPartnerships.NumLimPartners", "URI"]
for _n in range(1, 11):
    CH_HEADER += [("PreviousName_%d.CONDATE" % _n) if _n == 1 else " PreviousName_%d.CONDATE" % _n if _n == 2 else "PreviousName_%d.CONDATE" % _n,
                  " PreviousName_%d.CompanyName" % _n]
CH_HEADER += ["ConfStmtNextDueDate", " ConfStmtLastMadeUpDate"]
CH_STATUS = {"active": "active", "dissolved": "dissolved", "bankrupt": "liquidation"}
CH_STATUS_TEXT = {"active": "Active", "dissolved": "Dissolved", "bankrupt": "Liquidation"}


def _etag(*parts) -> str:
    return hashlib.sha1(":".join(parts).encode()).hexdigest()


def _dmy(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"


def _gb_country(c) -> str:
    return "Germany" if c["form"] == "oversea-company" else ("Scotland" if c["org_number"][:2] in ("SC", "SO", "SL")
                                                              else "United Kingdom")


GB_COUNTIES = {"London": "GREATER LONDON", "Manchester": "GREATER MANCHESTER", "Birmingham": "WEST MIDLANDS",
               "Leeds": "WEST YORKSHIRE", "Sheffield": "SOUTH YORKSHIRE", "Liverpool": "MERSEYSIDE",
               "Newcastle upon Tyne": "TYNE AND WEAR", "Nottingham": "NOTTINGHAMSHIRE", "Leicester": "LEICESTERSHIRE",
               "Southampton": "HAMPSHIRE", "Reading": "BERKSHIRE", "Cambridge": "CAMBRIDGESHIRE",
               "Oxford": "OXFORDSHIRE", "York": "NORTH YORKSHIRE", "Bristol": "BRISTOL"}


def _gb_po_box(c: dict) -> str:
    """Companies House writes the PO box as the filer typed it: often with "PO BOX" already in it."""
    return f"PO BOX {1000 + c['i']}" if c["i"] % 13 == 5 else ""


def _gb_street(c: dict) -> str:
    street = c["visiting"]["street"]
    return street.replace(" ", "   ", 1) if c["i"] % 17 == 2 else street  # the bulk file's padded rows


def ch_csv_row(c: dict) -> list[str]:
    v = c["visiting"]
    # the country column is empty in some rows: CountryOfOrigin must not stand in for it
    country = "" if c["i"] % 19 == 4 else _gb_country(c)
    row = [c["name"], c["org_number"], "", _gb_po_box(c), _gb_street(c).upper(), "", v["city"].upper(),
           GB_COUNTIES.get(v["city"], ""), country,
           v["postcode"], c["form_text"], CH_STATUS_TEXT[c["status"]], "United Kingdom",
           "15/03/2023" if c["status"] == "dissolved" else "", _dmy(c["registered_on"]), "31", "12", "30/09/2025",
           "31/12/2023", "TOTAL EXEMPTION FULL", "", "", "0", "0", "0", "0",
           f"{nace('GB', c['nace'])} - {c['industry_text']}", "", "", "", "0", "0",
           f"http://business.data.gov.uk/id/company/{c['org_number']}"]
    row += [""] * 20
    row += ["13/07/2025", "29/06/2024"]
    return row


def ch_address(c: dict, v: dict | None = None) -> dict:
    own = v is None
    v = v or c["visiting"]
    out = {"address_line_1": v["street"], "locality": v["city"], "postal_code": v["postcode"], "country": _gb_country(c)}
    if GB_COUNTIES.get(v["city"]):
        out["region"] = GB_COUNTIES[v["city"]].title()
    if own and _gb_po_box(c):
        out["po_box"] = _gb_po_box(c)
    return out


def ch_profile(c: dict) -> dict:
    doc = {
        "company_name": c["name"], "company_number": c["org_number"], "company_status": CH_STATUS[c["status"]],
        "type": c["form"], "can_file": c["status"] == "active", "date_of_creation": c["registered_on"],
        "jurisdiction": "scotland" if c["org_number"][:2] in ("SC", "SO", "SL") else "england-wales",
        "registered_office_address": ch_address(c), "sic_codes": [nace("GB", c["nace"])],
        "has_charges": False, "has_insolvency_history": c["status"] == "bankrupt",
        "etag": _etag(c["org_number"], "profile"),
        "links": {"self": f"/company/{c['org_number']}", "filing_history": f"/company/{c['org_number']}/filing-history",
                  "officers": f"/company/{c['org_number']}/officers"},
    }
    if c["status"] == "dissolved":
        doc["date_of_cessation"] = "2023-03-15"
    if c["form"] == "oversea-company":
        doc["jurisdiction"] = "noneu"
        doc["links"]["uk_establishments"] = f"/company/{c['org_number']}/uk-establishments"
        doc["foreign_company_details"] = {"business_activity": c["industry_text"], "legal_form": "Limited Company"}
    return doc


def ch_establishment_profile(c: dict, s: dict) -> dict:
    return {
        "company_name": s["name"], "company_number": s["org_number"], "company_status": CH_STATUS[s["status"]],
        "type": "uk-establishment", "can_file": False, "date_of_creation": s["registered_on"],
        "registered_office_address": ch_address(c, s["visiting"]),
        "branch_company_details": {"parent_company_number": c["org_number"], "parent_company_name": c["name"],
                                   "business_activity": c["industry_text"]},
        "links": {"self": f"/company/{s['org_number']}"},
    }


def ch_search_item(c: dict) -> dict:
    a = ch_address(c)
    return {
        "kind": "searchresults#company", "company_number": c["org_number"], "title": c["name"],
        "company_status": CH_STATUS[c["status"]], "company_type": c["form"], "date_of_creation": c["registered_on"],
        "address": {"premises": a["address_line_1"].split(" ", 1)[0], "address_line_1": a["address_line_1"].split(" ", 1)[-1],
                    "locality": a["locality"], "postal_code": a["postal_code"], "country": a["country"]},
        "address_snippet": f"{a['address_line_1']}, {a['locality']}, {a['postal_code']}",
        "description": f"{c['org_number']} - Incorporated on {c['registered_on']}",
        "description_identifier": ["incorporated-on"], "snippet": "", "matches": {"title": [1, 3], "snippet": []},
        "links": {"self": f"/company/{c['org_number']}"},
    }


def ch_establishments(c: dict) -> dict:
    return {
        "etag": _etag(c["org_number"], "uk-establishments"), "kind": "ukestablishment-companies",
        "links": {"self": f"/company/{c['org_number']}/uk-establishments"},
        "items": [{"company_number": s["org_number"], "company_name": s["name"], "company_status": CH_STATUS[s["status"]],
                   "locality": s["visiting"]["city"], "links": {"company": f"/company/{s['org_number']}"}}
                  for s in c["subs"]],
    }


# -- CVR ---------------------------------------------------------------------
def _period(start, end=None) -> dict:
    return {"gyldigFra": start, "gyldigTil": end}


def _cvr_address(a: dict, start: str, k: int = 0) -> dict:
    """``k`` (the company's place) picks the realistic extras: a floor and door (``st. tv``,
    ``3. th`` with a number range), a letter, a c/o line."""
    street, _, number = a["street"].rpartition(" ")
    floor, door, letter, to, co = None, None, None, None, None
    if k % 5 == 1:
        floor, door, letter = "st", "tv", "B"
    elif k % 5 == 2:
        floor, door, to = "3", "th", int(number) + 2
    if k % 11 == 3:
        co = "Revisionsfirmaet Holm"
    return {"landekode": "DK", "fritekst": None, "vejkode": 1000 + len(street), "kommune": {
        "kommuneKode": a["municipality_code"], "kommuneNavn": a["municipality"].upper(), "periode": _period("2007-01-01"),
        "sidstOpdateret": "2006-11-13T00:00:00.000+01:00"},
        "husnummerFra": int(number), "adresseId": None, "sidstValideret": None, "husnummerTil": to,
        "bogstavFra": letter, "bogstavTil": None, "etage": floor, "sidedoer": door, "conavn": co,
        "postboks": None, "vejnavn": street, "bynavn": None, "postnummer": int(a["postcode"]),
        "postdistrikt": a["city"], "periode": _period(start), "sidstOpdateret": f"{start}T00:00:00.000+01:00"}


def _cvr_interval(n: int) -> str:
    for low, high in DK_INTERVALS:
        if low <= n <= high:
            return f"ANTAL_{low}_{high}"
    return "ANTAL_1000_999999"


def _cvr_status(status: str) -> str:
    return {"active": "Normal", "dissolved": "Ophørt", "bankrupt": "UnderKonkurs"}[status]


def _contact(value, start) -> list:
    return [{"kontaktoplysning": value, "hemmelig": False, "periode": _period(start),
             "sidstOpdateret": f"{start}T00:00:00.000+01:00"}] if value else []


def cvr_virksomhed(c: dict) -> dict:
    start = c["registered_on"]
    name = {"navn": c["name"], "periode": _period(start), "sidstOpdateret": f"{start}T00:00:00.000+01:00"}
    form = {"virksomhedsformkode": c["form_extra"], "kortBeskrivelse": c["form"], "langBeskrivelse": c["form_text"],
            "ansvarligDataleverandoer": "E&S", "periode": _period(start), "sidstOpdateret": f"{start}T00:00:00.000+01:00"}
    branche = {"branchekode": nace("DK", c["nace"]), "branchetekst": c["industry_text"], "periode": _period(start),
               "sidstOpdateret": f"{start}T00:00:00.000+01:00"}
    visiting = _cvr_address(c["visiting"], start, c["i"])
    employment = {"aar": 2024, "antalAnsatte": None, "antalAarsvaerk": None, "antalInklusivEjere": None,
                  "intervalKodeAntalAnsatte": _cvr_interval(c["employees"]), "intervalKodeAntalAarsvaerk": None,
                  "intervalKodeAntalInklusivEjere": None, "sidstOpdateret": "2025-02-01T00:00:00.000+01:00"}
    return {
        "cvrNummer": int(c["org_number"]), "enhedsNummer": 4000000000 + c["i"], "enhedstype": "VIRKSOMHED",
        "reklamebeskyttet": c["i"] % 7 == 0, "navne": [name], "binavne": [],
        "beliggenhedsadresse": [visiting],
        "postadresse": [] if c["postal"] is c["visiting"] else [_cvr_address(c["postal"], start)],
        "telefonNummer": _contact(c["phone"], start), "elektroniskPost": _contact(c["email"], start),
        "hjemmeside": _contact(c["website"], start), "obligatoriskEmail": [],
        "livsforloeb": [{"periode": _period(start, "2023-06-30" if c["status"] == "dissolved" else None),
                         "sidstOpdateret": f"{start}T00:00:00.000+01:00"}],
        "hovedbranche": [branche], "bibranche1": [], "bibranche2": [], "bibranche3": [],
        "virksomhedsstatus": [{"status": "NORMAL", "periode": _period(start), "sidstOpdateret": f"{start}T00:00:00.000+01:00"}],
        "virksomhedsform": [form], "aarsbeskaeftigelse": [employment], "kvartalsbeskaeftigelse": [],
        "maanedsbeskaeftigelse": [],
        "penheder": [{"pNummer": int(s["org_number"]), "periode": _period(s["registered_on"]),
                      "sidstOpdateret": f"{s['registered_on']}T00:00:00.000+01:00"} for s in c["subs"]],
        "deltagerRelation": [],
        "virksomhedMetadata": {
            "nyesteNavn": name, "nyesteBinavne": [], "nyesteVirksomhedsform": form, "nyesteBeliggenhedsadresse": visiting,
            "nyesteHovedbranche": branche, "nyesteBibranche1": None, "nyesteBibranche2": None, "nyesteBibranche3": None,
            "nyesteStatus": None, "nyesteKontaktoplysninger": [v for v in (c["phone"], c["email"], c["website"]) if v],
            "antalPenheder": len(c["subs"]), "nyesteAarsbeskaeftigelse": employment,
            "nyesteKvartalsbeskaeftigelse": None, "nyesteMaanedsbeskaeftigelse": None,
            "sammensatStatus": _cvr_status(c["status"]), "stiftelsesDato": start, "virkningsDato": start,
        },
        "sidstOpdateret": "2025-02-01T08:47:39.000+01:00", "sidstIndlaest": "2025-02-01T14:09:02.084+01:00",
        "samtId": 1, "dataAdgang": 0,
    }


def cvr_produktionsenheder(c: dict) -> list[dict]:
    out = []
    for s in c["subs"]:
        start = s["registered_on"]
        name = {"navn": s["name"], "periode": _period(start), "sidstOpdateret": f"{start}T00:00:00.000+01:00"}
        branche = {"branchekode": nace("DK", c["nace"]), "branchetekst": c["industry_text"], "periode": _period(start),
                   "sidstOpdateret": f"{start}T00:00:00.000+01:00"}
        visiting = _cvr_address(s["visiting"], start)
        employment = {"aar": 2024, "antalAnsatte": None, "intervalKodeAntalAnsatte": _cvr_interval(s["employees"]),
                      "sidstOpdateret": "2025-02-01T00:00:00.000+01:00"}
        out.append({
            "pNummer": int(s["org_number"]), "enhedsNummer": 4100000000 + int(s["org_number"]) % 100000000,
            "enhedstype": "PRODUKTIONSENHED", "reklamebeskyttet": False, "navne": [name],
            "beliggenhedsadresse": [visiting], "postadresse": [], "telefonNummer": [], "elektroniskPost": [],
            "virksomhedsrelation": [{"cvrNummer": int(c["org_number"]), "periode": _period(start),
                                     "sidstOpdateret": f"{start}T00:00:00.000+01:00"}],
            "hovedbranche": [branche], "bibranche1": [], "bibranche2": [], "bibranche3": [],
            "aarsbeskaeftigelse": [employment], "kvartalsbeskaeftigelse": [],
            "livsforloeb": [{"periode": _period(start), "sidstOpdateret": f"{start}T00:00:00.000+01:00"}],
            "produktionsEnhedMetadata": {
                "nyesteNavn": name, "nyesteCvrNummerRelation": int(c["org_number"]), "nyesteBeliggenhedsadresse": visiting,
                "nyesteHovedbranche": branche, "nyesteBibranche1": None, "nyesteBibranche2": None,
                "nyesteBibranche3": None, "nyesteKontaktoplysninger": [], "nyesteAarsbeskaeftigelse": employment,
                "nyesteKvartalsbeskaeftigelse": None, "sammensatStatus": "Ophørt" if s["status"] == "dissolved" else "Aktiv",
            },
            "sidstOpdateret": "2025-02-01T08:47:39.000+01:00",
        })
    return out


def cvr_hit(doc: dict, index: str = "virksomhed") -> dict:
    key = "Vrvirksomhed" if index == "virksomhed" else "VrproduktionsEnhed"
    return {"_index": f"cvr-permanent-{index}-20250201", "_type": "_doc", "_id": str(doc["enhedsNummer"]),
            "_score": 1.0, "_source": {key: doc}}


# -- Bolagsverket ------------------------------------------------------------
BV_HEADER = ["organisationsidentitet", "namnskyddslopnummer", "registreringsland", "organisationsnamn",
             "organisationsform", "avregistreringsdatum", "avregistreringsorsak",
             "pagandeAvvecklingsEllerOmstruktureringsforfarande", "registreringsdatum", "verksamhetsbeskrivning",
             "postadress"]


def _bv_description(c) -> str:
    return f"Bolaget ska bedriva {c['industry_text'].lower()} samt därmed förenlig verksamhet."


def bolagsverket_row(c: dict) -> list[str]:
    p = c["postal"]
    proceedings = {"bankrupt": "KK-AVOMFO$2024-01-26", "dissolved": ""}.get(c["status"], "")
    return [
        f"{c['org_number']}$ORGNR-IDORG", "", "SE-LAND", f"{c['name']}$FORETAGSNAMN-ORGNAM${c['registered_on']}",
        f"{c['form']}-ORGFO", "2023-05-05" if c["status"] == "dissolved" else "",
        "LIAV-AVORG" if c["status"] == "dissolved" else "", proceedings, c["registered_on"], _bv_description(c),
        f"{p['street']}$${p['city'].upper()}${p['postcode']}$SE-LAND",
    ]


def _bv_block(producer="Bolagsverket", **fields) -> dict:
    return {**fields, "fel": None, "dataproducent": producer}


def bolagsverket_organisation(c: dict) -> dict:
    p = c["postal"]
    return {
        "organisationsidentitet": {"identitetsbeteckning": c["org_number"], "typ": {"kod": "ORGNR", "klartext": "Organisationsnummer"}},
        "namnskyddslopnummer": None,
        "organisationsnamn": _bv_block(organisationsnamnLista=[{
            "registreringsdatum": c["registered_on"], "namn": c["name"],
            "organisationsnamntyp": {"kod": "FORETAGSNAMN", "klartext": "Företagsnamn"},
            "verksamhetsbeskrivningSarskiltForetagsnamn": None}]),
        "registreringsland": {"kod": "SE-LAND", "klartext": "Sverige"},
        "organisationsform": _bv_block(kod=c["form"], klartext=c["form_text"]),
        "reklamsparr": _bv_block("SCB", kod="JA" if c["i"] % 9 == 0 else "NEJ"),
        "juridiskForm": _bv_block("SCB", kod="49" if c["form"] == "AB" else "96", klartext="Övriga aktiebolag" if c["form"] == "AB" else "Övriga"),
        "verksamOrganisation": _bv_block("SCB", kod="JA" if c["status"] == "active" else "NEJ"),
        "postadressOrganisation": _bv_block("SCB", postadress={
            "postnummer": p["postcode"], "utdelningsadress": p["street"], "land": "Sverige", "coAdress": None,
            "postort": p["city"]}),
        "verksamhetsbeskrivning": _bv_block(beskrivning=_bv_description(c)),
        "organisationsdatum": _bv_block(registreringsdatum=c["registered_on"], infortHosScb=c["registered_on"]),
        "avregistreradOrganisation": _bv_block(avregistreringsdatum="2023-05-05T00:00:00.000+00:00" if c["status"] == "dissolved" else None),
        "avregistreringsorsak": _bv_block(kod="LIAV", klartext="Likvidation") if c["status"] == "dissolved" else None,
        "pagandeAvvecklingsEllerOmstruktureringsforfarande": _bv_block(
            pagandeAvvecklingsEllerOmstruktureringsforfarandeLista=[
                {"kod": "KK", "klartext": "Konkurs", "fromDatum": "2024-01-26T00:00:00.000+00:00"}]) if c["status"] == "bankrupt" else None,
        "naringsgrenOrganisation": _bv_block(sni=[{"kod": nace("SE", c["nace"]), "klartext": c["industry_text"]}]),
    }


# -- files -------------------------------------------------------------------
def write_brreg(out: Path, n: int, seed: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    main, subs = out / "enheter_alle.json.gz", out / "underenheter_alle.json.gz"
    with gzip.open(main, "wt", encoding="utf-8", compresslevel=1) as fm, \
            gzip.open(subs, "wt", encoding="utf-8", compresslevel=1) as fs:
        fm.write("[")
        fs.write("[")
        first_m = first_s = True
        for c in companies("NO", n, seed):
            fm.write(("" if first_m else ",\n") + json.dumps(brreg_enhet(c), ensure_ascii=False))
            first_m = False
            for u in brreg_underenheter(c):
                fs.write(("" if first_s else ",\n") + json.dumps(u, ensure_ascii=False))
                first_s = False
        fm.write("]")
        fs.write("]")
    return [main, subs]


def write_companies_house(out: Path, n: int, seed: int, month: str | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    month = month or dt.date.today().strftime("%Y-%m")
    name = f"BasicCompanyDataAsOneFile-{month}-01"
    path = out / f"{name}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(f"{name}.csv", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
            text.write(",".join(CH_HEADER) + "\n")
            for c in companies("GB", n, seed):
                writer.writerow(ch_csv_row(c))
    return [path]


def write_cvr(out: Path, n: int, seed: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "cvr-dump.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as f:
        for c in companies("DK", n, seed):
            f.write(json.dumps(cvr_hit(cvr_virksomhed(c)), ensure_ascii=False) + "\n")
            for p in cvr_produktionsenheder(c):
                f.write(json.dumps(cvr_hit(p, "produktionsenhed"), ensure_ascii=False) + "\n")
    return [path]


def write_bolagsverket(out: Path, n: int, seed: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "bolagsverket_bulkfil.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("bolagsverket_bulkfil.txt", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            writer = csv.writer(text, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
            text.write(";".join(BV_HEADER) + "\n")
            for c in companies("SE", n, seed):
                writer.writerow(bolagsverket_row(c))
    return [path]


WRITERS = {"brreg": write_brreg, "companies-house": write_companies_house, "cvr": write_cvr,
           "bolagsverket": write_bolagsverket}


def write_all(out: Path, per_country: int, seed: int = 1, workers: int = 1) -> dict[str, list[Path]]:
    """Every registry's bulk files; returns {importer source: [paths]}.
    ``workers`` > 1 writes that many registries at once, each in its own process."""
    out = Path(out)
    if workers > 1:
        _write_in_processes(out, per_country, seed, workers)
        written = {
            "brreg": [out / "brreg" / "enheter_alle.json.gz", out / "brreg" / "underenheter_alle.json.gz"],
            "companies-house": sorted((out / "companies-house").glob("BasicCompanyDataAsOneFile-*.zip"))[-1:],
            "cvr": [out / "cvr" / "cvr-dump.jsonl.gz"],
            "bolagsverket": [out / "bolagsverket" / "bolagsverket_bulkfil.zip"],
        }
    else:
        written = {name: write(out / name, per_country, seed) for name, write in WRITERS.items()}
    brreg_main, brreg_subs = written["brreg"]
    return {
        "brreg-enheter": [brreg_main],
        "brreg-underenheter": [brreg_subs],
        "companies-house": written["companies-house"],
        "cvr": written["cvr"],
        "bolagsverket": written["bolagsverket"],
    }


def _write_in_processes(out: Path, per_country: int, seed: int, workers: int) -> None:
    """``python -m registry_lookup.devdata --only NAME`` per registry, ``workers`` at a time."""
    import os
    import subprocess
    import sys
    import time

    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    pending = list(WRITERS)
    running: list[tuple[str, subprocess.Popen]] = []
    try:
        while pending or running:
            while pending and len(running) < workers:
                name = pending.pop(0)
                cmd = [sys.executable, "-m", "registry_lookup.devdata", "--out", str(out), "--per-country",
                       str(per_country), "--seed", str(seed), "--only", name]
                running.append((name, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)))
            for item in list(running):
                code = item[1].poll()
                if code is None:
                    continue
                running.remove(item)
                if code:
                    raise RuntimeError(f"writing the {item[0]} dev files failed (exit code {code})")
            time.sleep(0.05)
    finally:
        for _, proc in running:  # only after a failure: stop the writers we started
            proc.terminate()
            proc.wait()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Write development bulk files in each registry's real format.")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--per-country", type=int, default=20000, help="companies per country")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="registries written at once (processes)")
    parser.add_argument("--only", choices=sorted(WRITERS), help="write one registry's files")
    args = parser.parse_args(argv)
    if args.only:
        for p in WRITERS[args.only](Path(args.out) / args.only, args.per_country, args.seed):
            print(f"{args.only}\t{p}")
        return
    for source, paths in write_all(Path(args.out), args.per_country, args.seed, args.workers).items():
        for p in paths:
            print(f"{source}\t{p}")


if __name__ == "__main__":
    main()
