"""The local index on SQLite and PostgreSQL: import round trip from the dev
bulk files, search ranking and folding, upserts, the Brønnøysund update feed."""
import gzip
import json

from registry_lookup import devdata, importer, lookup
from registry_lookup.schemas import SearchIn


def dev_company(country, i=None, pred=lambda c: True):
    return next(c for c in devdata.companies(country, 200, seed=1) if (i is None or c["i"] == i) and pred(c))


def test_import_round_trip_keeps_every_registry_field(loaded_index):
    index = loaded_index
    assert index.count("NO") == index.count("SE") == index.count("DK") == index.count("GB") == 200
    c = dev_company("DK", pred=lambda c: c["subs"] and c["phone"] and c["website"])
    e, source, _ = index.get("DK", c["org_number"])
    assert source == "bulk"
    assert (e["name"], e["legal_form"], e["phone"], e["website"]) == (c["name"], c["form"], c["phone"], c["website"])
    assert e["industry"] == [{"code": devdata.nace("DK", c["nace"]), "text": c["industry_text"]}]
    assert e["visiting_address"]["street"].startswith(c["visiting"]["street"].rsplit(" ", 1)[0])  # + floor/door, c/o
    assert e["marketing_protection"] is (c["i"] % 7 == 0)
    units = index.subunits("DK", c["org_number"])
    assert sorted(u["org_number"] for u in units) == sorted(s["org_number"] for s in c["subs"])
    no = dev_company("NO", pred=lambda c: c["subs"] and c["email"])
    e, _, _ = index.get("NO", no["org_number"])
    assert (e["email"], e["employees"]) == (no["email"], no["employees"])
    assert len(index.subunits("NO", no["org_number"])) == len(no["subs"])
    gb = dev_company("GB")
    assert index.get("GB", gb["org_number"])[0]["industry"][0]["text"] == gb["industry_text"]
    se = dev_company("SE")
    assert index.get("SE", se["org_number"])[0]["postal_address"]["city"] == se["postal"]["city"].upper()


def test_reimporting_a_file_updates_in_place(loaded_index, dev_files):
    before = loaded_index.count(kind=None)
    importer.import_file(loaded_index, "brreg", dev_files["brreg-enheter"][0])
    assert loaded_index.count(kind=None) == before
    # and the search structures did not double up
    hits = loaded_index.search("NO", ["as"], None, 50)
    assert len({h.item["org_number"] for h in hits}) == len(hits)


def test_search_is_prefix_word_and_accent_insensitive(loaded_index):
    index = loaded_index
    target = dev_company("NO", pred=lambda c: c["name"].startswith("Østfold"))
    hits = index.search("NO", ["ostf"], None, 50)
    assert hits and all(h.rank == 1 for h in hits[:1])
    assert target["org_number"] in [h.item["org_number"] for h in hits]
    assert all(h.item["name"].lower().startswith("østfold") for h in hits if h.rank == 1)
    # a word in the middle of the name
    trade = target["name"].split()[1]
    word_hits = index.search("NO", ["ostfold", trade.lower()[:3]], None, 50)
    assert target["org_number"] in [h.item["org_number"] for h in word_hits]


def test_exact_number_ranks_first(loaded_index, make_registries):
    c = dev_company("NO", i=17)
    offline = make_registries({"NO": "500"}, REGISTRY_SEARCH="index")  # the index must answer alone
    out = lookup.search(loaded_index, offline, SearchIn(q=c["org_number"], countries=["NO"]))
    assert out["items"][0]["org_number"] == c["org_number"]
    assert out["failed_countries"] == []


def test_search_ranks_name_prefix_before_word_matches(loaded_index, make_registries):
    offline = make_registries({"NO": "500", "SE": "500"}, REGISTRY_SEARCH="index")
    out = lookup.search(loaded_index, offline, SearchIn(q="bygg", countries=["NO", "SE"], limit=50))
    ranks = [0 if it["name"].lower().startswith("bygg") else 1 for it in out["items"]]
    assert ranks == sorted(ranks) and 1 in ranks
    assert {it["country"] for it in out["items"]} == {"NO", "SE"}
    assert set(out["items"][0]) == {"country", "org_number", "org_number_display", "name", "city", "region", "status",
                                    "status_text", "legal_form"}


def test_upsert_moves_a_company_in_search(loaded_index):
    c = dev_company("GB", i=3)
    e, _, _ = loaded_index.get("GB", c["org_number"])
    loaded_index.upsert([{**e, "name": "ZYXWORDS HOLDINGS LIMITED"}], source="live")
    assert [h.item["org_number"] for h in loaded_index.search("GB", ["zyxw"], None, 5)] == [c["org_number"]]
    old_word = c["name"].split()[0].lower()
    assert c["org_number"] not in [h.item["org_number"] for h in loaded_index.search("GB", [old_word], None, 200)
                                   if h.item["name"] == c["name"]]
    assert loaded_index.get("GB", c["org_number"])[1] == "live"


def test_update_feed_renames_and_dissolves(loaded_index, make_registries, standin_data):
    registries = make_registries()
    loaded_index.set_cursor(lookup.FEED, "dato:2025-01-01T00:00:00.000Z")
    renamed = next(c for c in standin_data.countries["NO"].companies if c["i"] % 50 == 7 and c["i"] < 200)
    deleted = next(c for c in standin_data.countries["NO"].companies if c["i"] % 97 == 13 and c["i"] < 200)
    assert loaded_index.get("NO", renamed["org_number"])[0]["name"] != renamed["name"].upper()
    result = lookup.sync_brreg(loaded_index, registries, page_size=2)
    assert result["applied"] >= 2
    assert loaded_index.get("NO", renamed["org_number"])[0]["name"] == renamed["name"].upper()
    assert loaded_index.get("NO", renamed["org_number"])[1] == "feed"
    assert loaded_index.get("NO", deleted["org_number"])[0]["status"] == "deleted"
    cursor = loaded_index.cursor(lookup.FEED)
    assert cursor == f"id:{standin_data.feed[-1]['oppdateringsid'] + 1}"
    assert lookup.sync_brreg(loaded_index, registries)["applied"] == 0  # nothing new since


def test_importer_command_line(tmp_path, dev_files, capsys):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    importer.main(["cvr", str(dev_files["cvr"][0]), "--database-url", url])
    assert "imported" in capsys.readouterr().out


def test_dev_bulk_files_are_in_the_registries_formats(dev_files):
    with gzip.open(dev_files["brreg-enheter"][0], "rt", encoding="utf-8") as f:
        enheter = json.load(f)
    assert len(enheter) == 200 and {"organisasjonsnummer", "navn", "organisasjonsform", "forretningsadresse"} <= set(enheter[0])
    from stdnum.no import orgnr as no_orgnr
    assert all(no_orgnr.is_valid(e["organisasjonsnummer"]) for e in enheter)
    from stdnum.dk import cvr
    from stdnum.se import orgnr as se_orgnr
    assert all(cvr.is_valid(c["org_number"]) for c in devdata.companies("DK", 500))
    assert all(se_orgnr.is_valid(c["org_number"]) for c in devdata.companies("SE", 500))



def test_long_word_prefixes_and_number_prefixes(loaded_index):
    from registry_lookup.index import FTS_PREFIX
    from registry_lookup.text import words

    long = next(w for c in devdata.companies("NO", 200, seed=1) for w in words(c["name"]) if len(w) > FTS_PREFIX + 1)
    for q in (long[:FTS_PREFIX + 1], long):  # longer than the longest FTS prefix index
        hits = loaded_index.search("NO", [q], None, 50)
        assert hits and all(any(w.startswith(q) for w in words(h.item["name"])) for h in hits)
    # a number prefix looks at companies only: Danish P-numbers (sub-units) start with 1, CVR numbers here with 2
    assert loaded_index.search("DK", [], None, 10, number_prefix="10") == []
    found = loaded_index.search("DK", [], None, 10, number_prefix="20")
    assert len(found) == 10 and all(len(h.item["org_number"]) == 8 for h in found)
