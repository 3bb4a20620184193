"""Registry data exactly as published (issue 13): each class of miss, on bodies and rows made
here in the registries' real formats. Nothing invented, the registry's own words kept, the
status model, region and display number, addresses as the registries write them, answers that
are not plain successes, marketing protection."""
import io
import json
import time

import pytest

from registry_lookup import lookup, records
from registry_lookup.exceptions import SourceUnavailable
from registry_lookup.sources import bolagsverket, brreg, companies_house, cvr


def load(samples, name):
    return json.loads((samples / name).read_text(encoding="utf-8"))


# -- Brønnøysund -------------------------------------------------------------
def enhet(**extra):
    doc = {
        "organisasjonsnummer": "914778271", "navn": "FJORDKRAFT TEST AS",
        "organisasjonsform": {"kode": "AS", "beskrivelse": "Aksjeselskap"},
        "forretningsadresse": {"land": "Norge", "landkode": "NO", "postnummer": "5003", "poststed": "BERGEN",
                               "adresse": ["Strandkaien 2", None, ""], "kommune": "BERGEN", "kommunenummer": "4601"},
        "konkurs": False, "underAvvikling": False, "underTvangsavviklingEllerTvangsopplosning": False,
    }
    doc.update(extra)
    return doc


def test_brreg_never_copies_the_visiting_address_into_the_postal_one():
    e = brreg.parse_enhet(enhet())
    assert e["visiting_address"]["street"] == "Strandkaien 2"
    assert e["postal_address"] is None
    assert e["industry"] is None  # no naeringskode: no value, not an empty list
    u = brreg.parse_underenhet({"organisasjonsnummer": "973152773", "navn": "AVD BERGEN", "overordnetEnhet": "914778271",
                                "beliggenhetsadresse": enhet()["forretningsadresse"]})
    assert u["postal_address"] is None and u["visiting_address"]["city"] == "BERGEN"


def test_brreg_region_municipality_and_display_number():
    e = brreg.parse_enhet(enhet())
    assert (e["region"], e["municipality"]) == ("Vestland", "BERGEN")
    assert e["org_number_display"] == "914 778 271"
    assert records.summary(e)["org_number_display"] == "914 778 271"


@pytest.mark.parametrize("flags, status, text", [
    ({}, "active", None),
    ({"konkurs": True, "konkursdato": "2024-03-01"}, "bankrupt", "Konkurs 2024-03-01"),
    ({"underAvvikling": True}, "liquidation", "Under avvikling"),
    ({"underTvangsavviklingEllerTvangsopplosning": True}, "liquidation", "Under tvangsavvikling eller tvangsoppløsning"),
    ({"slettedato": "2025-06-01"}, "deleted", "Slettet 2025-06-01"),
])
def test_brreg_status_model(flags, status, text):
    e = brreg.parse_enhet(enhet(**flags))
    assert (e["status"], e["status_text"]) == (status, text)


def test_brreg_a_closed_underenhet_is_closed():
    u = brreg.parse_underenhet({"organisasjonsnummer": "973152773", "navn": "AVD", "nedleggelsesdato": "2024-06-30"})
    assert (u["status"], u["status_text"]) == ("closed", "Nedlagt 2024-06-30")


def test_brreg_410_gone_is_a_deleted_company_not_not_found(make_registries, standin_data):
    registries = make_registries()
    number = sorted(standin_data.deleted)[0]
    e = registries.get("NO", number)
    assert e is not None and e["status"] == "deleted" and e["status_text"] == "Slettet 2025-06-01"
    assert e["name"]  # the 410 body still names the unit
    # a bare 410 without a body: deleted, and the fields it could not give are named
    bare = brreg.parse_gone(None, "914778271")
    assert bare["status"] == "deleted" and "name" in bare["missing"]


def test_a_deleted_company_reaches_get_as_deleted(index, make_registries, standin_data):
    registries = make_registries(REGISTRY_SEARCH="live")
    number = sorted(standin_data.deleted)[0]
    out = lookup.get(index, registries, "NO", number)
    assert out["status"] == "deleted" and out["source"] == "live"
    assert index.get("NO", number)[0]["status"] == "deleted"


# -- Companies House ----------------------------------------------------------
def test_companies_house_profile_keeps_the_registrys_words_and_invents_no_postal_address(samples):
    p = companies_house.parse_profile(load(samples, "companies-house-profile.json"))
    assert p["legal_form_text"] == "Public limited company"  # Companies House's own description of "plc"
    assert p["postal_address"] is None  # the public API has only the registered office
    assert p["status_text"] == "Active"
    odd = companies_house.parse_profile({"company_number": "RS007123", "company_name": "X", "type": "a-new-type",
                                         "company_status": "a-new-status"})
    assert odd["legal_form_text"] is None  # not our paraphrase
    assert odd["status"] == "unknown" and odd["status_text"] == "a-new-status"  # never shown as active
    assert odd["industry"] is None


def test_companies_house_po_box_written_once_and_region_kept():
    p = companies_house.parse_profile({
        "company_number": "01234567", "company_name": "BOX LTD", "type": "ltd", "company_status": "active",
        "company_status_detail": "active-proposal-to-strike-off",
        "registered_office_address": {"po_box": "PO BOX 1742", "premises": "10", "address_line_1": "Downing Street",
                                      "locality": "London", "region": "Greater London", "postal_code": "SW1A 2AA",
                                      "country": "England"}})
    assert p["visiting_address"]["street"] == "PO BOX 1742, 10 Downing Street"
    assert p["region"] == "Greater London"
    assert p["status"] == "active" and p["status_text"] == "Active (Active proposal to strike off)"
    q = companies_house.parse_profile({"company_number": "01234568", "company_name": "B", "type": "ltd",
                                       "registered_office_address": {"po_box": "55", "premises": "Tesco House",
                                                                     "address_line_1": "Shire Park", "locality": "Welwyn"}})
    assert q["visiting_address"]["street"] == "PO Box 55, Tesco House, Shire Park"


CH_HEADER = ("CompanyName, CompanyNumber,RegAddress.CareOf,RegAddress.POBox,RegAddress.AddressLine1, RegAddress.AddressLine2,"
             "RegAddress.PostTown,RegAddress.County,RegAddress.Country,RegAddress.PostCode,CompanyCategory,CompanyStatus,"
             "CountryOfOrigin,DissolutionDate,IncorporationDate,SICCode.SicText_1")


def ch_row(**v):
    values = {"CompanyName": "PADDED ROW LIMITED", "CompanyNumber": "07687210", "RegAddress.CareOf": "",
              "RegAddress.POBox": "PO BOX 1742", "RegAddress.AddressLine1": "UNIT 9   BERRY COURT FARM",
              "RegAddress.AddressLine2": "LITTLE  LONDON", "RegAddress.PostTown": "TADLEY", "RegAddress.County": "HAMPSHIRE",
              "RegAddress.Country": "", "RegAddress.PostCode": "RG26 5AT",
              "CompanyCategory": "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)",
              "CompanyStatus": "Active - Proposal to Strike off", "CountryOfOrigin": "United Kingdom",
              "DissolutionDate": "", "IncorporationDate": "29/06/2011", "SICCode.SicText_1": "None Supplied"}
    values.update(v)
    return ",".join(f'"{values[h.strip()]}"' for h in CH_HEADER.split(","))


def test_companies_house_bulk_row_as_the_file_writes_it():
    (e,) = companies_house.iter_csv(io.StringIO(CH_HEADER + "\n" + ch_row() + "\n"))
    assert e["visiting_address"] == {"street": "PO BOX 1742, UNIT 9 BERRY COURT FARM, LITTLE LONDON", "postcode": "RG26 5AT",
                                     "city": "TADLEY", "country": None}  # empty country not filled from origin
    assert e["postal_address"] is None
    assert e["legal_form_text"] == "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)"
    assert e["status"] == "active" and e["status_text"] == "Active - Proposal to Strike off"
    assert e["region"] == "HAMPSHIRE"
    assert e["industry"] is None  # "None Supplied"


@pytest.mark.parametrize("text, status", [("Liquidation", "liquidation"), ("In Administration", "bankrupt"),
                                          ("Receivership Action", "bankrupt"), ("Dissolved", "dissolved"),
                                          ("Voluntary Arrangement", "bankrupt"), ("Live but Receiver Manager on at least one charge", "bankrupt")])
def test_companies_house_bulk_statuses(text, status):
    (e,) = companies_house.iter_csv(io.StringIO(CH_HEADER + "\n" + ch_row(CompanyStatus=text) + "\n"))
    assert (e["status"], e["status_text"]) == (status, text)


# -- CVR ------------------------------------------------------------------------
def cvr_address(**v):
    a = {"landekode": "DK", "fritekst": None, "kommune": {"kommuneKode": 751, "kommuneNavn": "AARHUS"},
         "husnummerFra": 12, "husnummerTil": None, "bogstavFra": "B", "bogstavTil": None, "etage": "st", "sidedoer": "tv",
         "conavn": None, "postboks": None, "vejnavn": "Vestergade", "bynavn": None, "postnummer": 8000,
         "postdistrikt": "Aarhus C", "periode": {"gyldigFra": "2015-01-01", "gyldigTil": None}}
    a.update(v)
    return a


def virksomhed(address, **extra):
    v = {"cvrNummer": 12345674, "reklamebeskyttet": True, "navne": [], "beliggenhedsadresse": [address], "postadresse": [],
         "virksomhedMetadata": {"nyesteNavn": {"navn": "Vestergade Test ApS"}, "nyesteBeliggenhedsadresse": address,
                                "nyesteVirksomhedsform": {"kortBeskrivelse": "APS", "langBeskrivelse": "Anpartsselskab"},
                                "sammensatStatus": "Normal"}}
    v.update(extra)
    return v


@pytest.mark.parametrize("extra, street", [
    ({}, "Vestergade 12B, st. tv"),
    ({"husnummerFra": 7, "husnummerTil": 9, "bogstavFra": None, "etage": "3", "sidedoer": "th"}, "Vestergade 7-9, 3. th"),
    ({"etage": None, "sidedoer": None, "bogstavFra": None, "conavn": "Revisor Holm"}, "c/o Revisor Holm, Vestergade 12"),
    ({"etage": "2", "sidedoer": None, "bogstavFra": None}, "Vestergade 12, 2."),
])
def test_cvr_addresses_as_danish_addresses_are_written(extra, street):
    e = cvr.parse_virksomhed(virksomhed(cvr_address(**extra)))
    assert e["visiting_address"]["street"] == street


def test_cvr_region_marketing_protection_and_no_postal_copy():
    e = cvr.parse_virksomhed(virksomhed(cvr_address()))
    assert (e["region"], e["municipality"]) == ("Region Midtjylland", "Aarhus")
    assert e["marketing_protection"] is True
    assert e["postal_address"] is None
    assert e["status_text"] == "Normal" and e["legal_form_text"] == "Anpartsselskab"
    assert e["industry"] is None


def test_cvr_sample_company_is_not_marketing_protected(samples):
    hit = load(samples, "cvr-virksomhed-search.json")["hits"]["hits"][0]["_source"]["Vrvirksomhed"]
    e = cvr.parse_virksomhed(hit)
    assert e["marketing_protection"] is False and e["region"] == "Region Hovedstaden"


# -- Bolagsverket ----------------------------------------------------------------
def test_bolagsverket_reklamsparr_status_text_and_own_words(samples):
    (e,) = bolagsverket.parse_organisationer(load(samples, "bolagsverket-organisationer-aktiebolag.json"))
    assert e["marketing_protection"] is True  # reklamsparr JA
    assert e["status"] == "dissolved" and e["status_text"] == "Avregistrerad 2023-05-05 (Likvidation)"
    assert e["legal_form_text"] == "Aktiebolag"
    assert e["org_number_display"] == "529999-9994"
    assert e["visiting_address"] is None and e["postal_address"]["street"] == "C/o Annat företag, Jobbstigen 2"
    assert e["missing"] is None


def test_bolagsverket_proceedings_and_no_invented_form_text():
    org = {"organisationsidentitet": {"identitetsbeteckning": "5566778899"},
           "organisationsnamn": {"organisationsnamnLista": [{"namn": "Likvid AB", "organisationsnamntyp": {"kod": "FORETAGSNAMN"}}]},
           "organisationsform": {"kod": "AB", "klartext": None, "fel": None},
           "pagandeAvvecklingsEllerOmstruktureringsforfarande": {
               "pagandeAvvecklingsEllerOmstruktureringsforfarandeLista": [{"kod": "LI", "klartext": "Likvidation"}]}}
    (e,) = bolagsverket.parse_organisationer({"organisationer": [org]})
    assert (e["status"], e["status_text"]) == ("liquidation", "Likvidation")
    assert e["legal_form_text"] is None  # the answer gave none: not one from a table of ours
    assert e["marketing_protection"] is None  # no reklamsparr and no postal address: not said


def test_bolagsverket_fel_block_names_what_is_missing(samples):
    doc = load(samples, "bolagsverket-organisationer-partial-error.json")
    (e,) = bolagsverket.parse_organisationer(doc, asked="5299999994")
    assert e["org_number"] == "5299999994" and e["name"] == ""
    assert {"name", "legal_form", "postal_address", "registered_on", "status"} <= set(e["missing"])
    assert e["missing_reason"].startswith("Uppkoppling mot Bolagsverket misslyckades")


def test_a_partial_bolagsverket_answer_never_overwrites_stored_values(index, make_registries, standin_data):
    c = standin_data.countries["SE"].companies[3]
    good = bolagsverket.parse_organisationer({"organisationer": [
        __import__("registry_lookup.devdata", fromlist=["x"]).bolagsverket_organisation(c)]})[0]
    index.upsert([good], source="live")
    with index.engine.begin() as conn:  # make the stored copy stale, so get asks the registry
        conn.exec_driver_sql(index._sql("UPDATE registry_entities SET refreshed_at = ? WHERE org_number = ?"),
                             (int(time.time()) - 10 * 86400, c["org_number"]))
    registries = make_registries({"SE": "partial"})
    out = lookup.get(index, registries, "SE", c["org_number"])
    assert out["source"] == "live" and "name" in out["missing"]
    assert out["name"] == good["name"] and out["legal_form"] == good["legal_form"]  # kept, not nulled
    assert out["registered_on"] == good["registered_on"]
    stored = index.get("SE", c["org_number"])[0]
    assert stored["name"] == good["name"] and stored["registered_on"] == good["registered_on"]


def test_a_partial_answer_without_a_stored_copy_is_a_source_error(index, make_registries, standin_data):
    c = standin_data.countries["SE"].companies[4]
    registries = make_registries({"SE": "partial"}, REGISTRY_SEARCH="live")
    with pytest.raises(SourceUnavailable, match="misslyckades"):
        lookup.get(index, registries, "SE", c["org_number"])
    assert index.get("SE", c["org_number"]) is None  # nothing nameless stored


def test_bulk_import_stores_the_new_columns(loaded_index):
    with loaded_index.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT country, org_number_display, region, status_text, marketing_protection FROM registry_entities "
            "WHERE kind = 'main'").all()
    by = {}
    for r in rows:
        by.setdefault(r[0], []).append(r)
    assert all(" " in r[1] for r in by["NO"]) and all("-" in r[1] for r in by["SE"])
    assert any(r[2] == "Vestland" for r in by["NO"]) and any(r[2] and r[2].startswith("Region ") for r in by["DK"])
    assert any(r[4] for r in by["DK"])  # reklamebeskyttet companies
    streets = [loaded_index.get("DK", r[1])[0]["visiting_address"]["street"] for r in by["DK"][:12]]
    assert any(s.endswith(", st. tv") for s in streets) and any(", 3. th" in s for s in streets)
