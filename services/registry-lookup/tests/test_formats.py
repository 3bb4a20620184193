"""The parsers on the registries' published samples, org numbers, folding, streaming."""
import io
import json

import pytest

from registry_lookup import orgnr
from registry_lookup.sources import bolagsverket, brreg, companies_house, cvr
from registry_lookup.sources.jsonstream import iter_array
from registry_lookup.text import fold, name_key, words


def load(samples, name):
    return json.loads((samples / name).read_text(encoding="utf-8"))


def test_brreg_enhet_detail_becomes_a_complete_entity(samples):
    e = brreg.parse_enhet(load(samples, "brreg-enheter-detail.json"))
    assert (e["country"], e["org_number"], e["name"], e["legal_form"]) == ("NO", "112233445", "SESAM STASJON", "AS")
    assert e["industry"] == [{"code": "52.292", "text": "Skipsmegling"}]
    assert e["employees"] == 50
    assert e["visiting_address"] == {"street": "Tyvholmen 1", "postcode": "0101", "city": "OSLO", "country": "Norge"}
    assert e["postal_address"]["street"] == "c/o reder K. Rusing, Postboks 1752 Vika"  # null and "" lines dropped
    assert e["status"] == "active"


def test_brreg_deleted_units_are_deleted_with_the_registry_date(samples):
    e = brreg.parse_enhet(load(samples, "brreg-enheter-detail-deleted.json"))
    assert (e["status"], e["status_text"]) == ("deleted", "Slettet 2017-10-20")
    assert brreg.parse_underenhet(load(samples, "brreg-underenheter-detail-deleted.json"))["status"] == "deleted"


def test_brreg_search_pages_and_empty_pages(samples):
    found = brreg.parse_search(load(samples, "brreg-enheter-search.json"))
    assert [e["org_number"] for e in found][:1] == ["976030788"]
    assert brreg.parse_search(load(samples, "brreg-enheter-search-empty.json")) == []
    assert brreg.parse_search(load(samples, "brreg-underenheter-search-empty.json"), "underenheter") == []


def test_brreg_underenhet_knows_its_parent_and_location(samples):
    u = brreg.parse_underenhet(load(samples, "brreg-underenheter-detail.json"))
    assert (u["kind"], u["parent"], u["org_number"]) == ("sub", "112233445", "776655441")
    assert u["visiting_address"]["street"] == "Tyvholmen 1"
    subs = brreg.parse_search(load(samples, "brreg-underenheter-search.json"), "underenheter")
    assert subs and all(s["kind"] == "sub" for s in subs)


def test_brreg_update_feed(samples):
    assert brreg.parse_updates(load(samples, "brreg-oppdateringer-enheter-PARTIAL.json")) == [
        {"id": 24720423, "date": "2026-06-28T00:20:10.625Z", "org_number": "923609016", "change": "Endring"}]


def test_companies_house_profile_search_and_bulk_row(samples):
    p = companies_house.parse_profile(load(samples, "companies-house-profile.json"))
    assert (p["org_number"], p["name"], p["legal_form"], p["status"]) == ("00445790", "TESCO PLC", "plc", "active")
    assert p["industry"] == [{"code": "47110", "text": None}]
    assert p["visiting_address"]["postcode"] == "AL7 1GA"
    s = companies_house.parse_search(load(samples, "companies-house-search-companies.json"))
    assert s[0]["org_number"] == "FC040879" and s[0]["legal_form"] == "oversea-company"
    rows = list(companies_house.iter_bulk(samples / "companies-house-basic-company-data-header.csv"))
    assert len(rows) == 1
    r = rows[0]
    assert (r["org_number"], r["name"], r["legal_form"], r["registered_on"]) == ("07687209", "!OBAC UK LIMITED", "ltd", "2011-06-29")
    assert r["industry"][0] == {"code": "70229", "text": "Management consultancy activities other than financial management"}


@pytest.mark.parametrize("value, expected", [("Active", "active"), ("Liquidation", "liquidation"), ("dissolved", "dissolved"),
                                             ("Active - Proposal to Strike off", "active"), ("administration", "bankrupt"),
                                             ("converted-closed", "closed"), ("removed", "deleted"), ("receivership", "bankrupt"), ("something new", "unknown")])
def test_companies_house_statuses(value, expected):
    assert companies_house.status(value) == expected


def test_cvr_virksomhed_uses_the_current_values(samples):
    (e,) = cvr.parse_search(load(samples, "cvr-virksomhed-search.json"))
    assert (e["org_number"], e["name"], e["legal_form"]) == ("21265837", "HOLDINGSELSKABET POUL ERIK BECH ERHVERV A/S", "A/S")
    assert e["visiting_address"] == {"street": "Bremerholm 29", "postcode": "1069", "city": "København K", "country": "DK"}
    assert e["industry"] == [{"code": "642020", "text": "Ikke-finansielle holdingselskaber"}]
    assert e["phone"] is None  # the only phone number in the sample expired in 2003


def test_cvr_production_units_point_at_their_company(samples):
    units = cvr.parse_search(load(samples, "cvr-produktionsenhed-search.json"))
    assert len(units) == 10
    assert units[0]["kind"] == "sub" and units[0]["parent"] == "36238208" and units[0]["status"] == "closed"  # a production unit that ended
    assert all(u["legal_form"] is None for u in units)  # a production unit has no legal form of its own


@pytest.mark.parametrize("value, expected", [("NORMAL", "active"), ("Aktiv", "active"), ("Ophørt", "dissolved"),
                                             ("UNDER KONKURS", "bankrupt"), ("OPLØST EFTER KONKURS", "dissolved"),
                                             ("UNDER FRIVILLIG LIKVIDATION", "liquidation"), ("SLETTET", "deleted"), ("UNDER REASSUMERING", "unknown"), ("", "unknown")])
def test_cvr_statuses(value, expected):
    assert cvr.status(value) == expected


def test_bolagsverket_organisation(samples):
    (e,) = bolagsverket.parse_organisationer(load(samples, "bolagsverket-organisationer-aktiebolag.json"))
    assert (e["org_number"], e["name"], e["legal_form"]) == ("5299999994", "Cykelbolaget AB", "AB")
    assert e["status"] == "dissolved"  # avregistrerad
    assert [i["code"] for i in e["industry"]] == ["47642", "45400"]
    assert e["postal_address"] == {"street": "C/o Annat företag, Jobbstigen 2", "postcode": "12345",
                                   "city": "Grönköping", "country": "Sverige"}


def test_bolagsverket_sole_traders_are_not_kept_and_partial_errors_are_reported(samples):
    assert bolagsverket.parse_organisationer(load(samples, "bolagsverket-organisationer-enskild-naringsidkare.json")) == []
    doc = load(samples, "bolagsverket-organisationer-partial-error.json")
    assert bolagsverket.parse_organisationer(doc) == []
    assert "misslyckades" in bolagsverket.errors(doc["organisationer"][0])[0]


def test_bolagsverket_bulk_row(samples):
    header = (samples / "bolagsverket-bulkfil-header.txt").read_text(encoding="utf-8").strip()
    row = '"5566778899$ORGNR-IDORG";"";"SE-LAND";"Exempel Sverige AB$FORETAGSNAMN-ORGNAM$2020-01-02";"AB-ORGFO";"";"";"";"2020-01-02";"Handel";"Box 1$$STOCKHOLM$11122$SE-LAND"'
    (e,) = bolagsverket.iter_rows(io.BytesIO((header + "\n" + row + "\n").encode()))
    assert (e["org_number"], e["name"], e["legal_form"], e["status"]) == ("5566778899", "Exempel Sverige AB", "AB", "active")
    assert e["postal_address"] == {"street": "Box 1", "postcode": "11122", "city": "STOCKHOLM", "country": "SE"}
    assert e["legal_form_text"] is None  # the file has only the code


@pytest.mark.parametrize("country, raw, expected", [
    ("NO", "976 030 788", "976030788"), ("SE", "556677-8898", None), ("SE", "529999-9994", "5299999994"),
    ("DK", "21265837", "21265837"), ("DK", "21265838", None), ("GB", "445790", "00445790"), ("GB", "sc123456", "SC123456"),
    ("NO", "976030789", None), ("GB", "12", None),
])
def test_org_numbers_are_validated_per_country(country, raw, expected):
    assert orgnr.parse(country, raw) == expected


def test_folding_is_case_and_accent_insensitive():
    assert fold("Østfold Bygg AS") == "ostfold bygg as"
    assert words("Ærø Göteborg Smörgås") == ["aero", "goteborg", "smorgas"]
    assert name_key("  Bjørk   & Søn  ") == "bjork son"
    assert words("976 030 788") == ["976030788"]


def test_json_array_streams_in_small_chunks():
    items = [{"n": i, "text": "ø" * (i % 50)} for i in range(500)]
    stream = io.StringIO(json.dumps(items))
    assert list(iter_array(stream, chunk_size=64)) == items
    assert list(iter_array(io.StringIO("[]"))) == []
    with pytest.raises(ValueError):
        list(iter_array(io.StringIO('[{"a": 1}, {"b": ')))
