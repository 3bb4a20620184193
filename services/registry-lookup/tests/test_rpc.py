"""The RPC API over real RabbitMQ, on SQLite and PostgreSQL, with the
registries' stand-ins behind it."""
import pytest
from nameko.exceptions import RemoteError

from registry_lookup.service import RegistryLookupService
from conftest import standin_config


@pytest.fixture
def start_service(container_factory_real, database_url, standin_server):
    def start(faults=None, **extra):
        config = {"REGISTRY_DATABASE_URL": database_url, **standin_config(standin_server, faults, **extra)}
        container = container_factory_real(RegistryLookupService, config)
        container.start()
        return container
    return start


@pytest.fixture
def rpc(rpc_factory):
    return rpc_factory(timeout=20).registry_lookup


def company(standin_data, country, pred=lambda c: True):
    return next(c for c in standin_data.countries[country].companies if pred(c))


def test_search_merges_countries_from_the_index(loaded_index, start_service, rpc, standin_app):
    start_service()
    out = rpc.search({"q": "ostf", "countries": ["NO", "SE", "DK", "GB"], "limit": 10})
    assert out["failed_countries"] == []
    assert out["items"] and all("ostf" in i["name"].lower().replace("ø", "o") for i in out["items"])
    assert out["items"][0]["name"].upper().startswith("ØSTFOLD")
    assert set(out["items"][0]) == {"country", "org_number", "org_number_display", "name", "city", "region", "status",
                                    "status_text", "legal_form"}
    assert out["items"][0]["status"] in ("active", "dissolved", "bankrupt", "liquidation", "closed", "deleted", "unknown")
    assert sum(standin_app.requests.values()) == 0  # the index answered alone


def test_search_validates_its_input(start_service, rpc):
    start_service()
    with pytest.raises(RemoteError) as err:
        rpc.search({"q": "a"})
    assert err.value.exc_type == "ValidationError" and err.value.value == "q: Type at least 2 characters"
    for bad, field in [({"q": "ab", "limit": 51}, "limit"), ({"q": "ab", "countries": ["FI"]}, "countries.0"),
                       ({"q": "ab", "extra": 1}, "extra")]:
        with pytest.raises(RemoteError) as err:
            rpc.search(bad)
        assert err.value.exc_type == "ValidationError" and err.value.value.startswith(f"{field}: ")


def test_a_failing_registry_is_named_and_the_others_still_answer(start_service, rpc):
    # empty index: every country goes live; Denmark's registry answers HTML
    start_service({"DK": "html"})
    out = rpc.search({"q": "albion", "countries": ["GB", "DK"], "limit": 5})
    assert out["failed_countries"] == ["DK"]
    assert "not JSON" in out["errors"][0]["message"]
    assert out["items"] and {i["country"] for i in out["items"]} == {"GB"}


def test_a_timing_out_registry_fails_only_its_country(start_service, rpc):
    start_service({"NO": "slow-3"})
    out = rpc.search({"q": "albion", "countries": ["NO", "GB"], "limit": 5})
    assert out["failed_countries"] == ["NO"] and "timed out" in out["errors"][0]["message"]
    assert out["items"]


def test_get_answers_from_the_index(loaded_index, start_service, rpc, standin_app):
    start_service()
    c = company_from_index(loaded_index, "NO")
    out = rpc.get({"country": "NO", "org_number": c["org_number"]})
    assert out["source"] == "index" and out["name"] == c["name"]
    assert set(out) >= {"name", "org_number", "country", "legal_form", "industry", "employees", "visiting_address",
                        "postal_address", "website", "phone", "email", "status"}
    assert sum(standin_app.requests.values()) == 0


def company_from_index(index, country):
    hit = index.search(country, ["bygg"] if country == "NO" else ["ab"], None, 1)[0]
    return hit.item


@pytest.mark.parametrize("country", ["NO", "SE", "DK", "GB"])
def test_get_falls_through_to_the_registry_and_the_index_learns(loaded_index, start_service, rpc, standin_data, country):
    start_service()
    c = company(standin_data, country, lambda c: c["i"] >= 200)  # not in the dev index (first 200)
    assert loaded_index.get(country, c["org_number"]) is None
    out = rpc.get({"country": country, "org_number": c["org_number"]})
    assert out["source"] == "live" and out["name"].upper() == c["name"].upper()
    assert out["industry"] and out["industry"][0]["code"]
    learned = loaded_index.get(country, c["org_number"])
    assert learned is not None and learned[1] == "live"
    again = rpc.get({"country": country, "org_number": c["org_number"]})
    assert again["source"] == "index"
    # and search finds it by number now, from the index
    assert rpc.search({"q": c["org_number"], "countries": [country]})["items"][0]["org_number"] == c["org_number"]


def test_search_by_a_number_the_index_lacks_asks_the_registry(loaded_index, start_service, rpc, standin_data):
    start_service()
    c = company(standin_data, "DK", lambda c: c["i"] >= 200)
    out = rpc.search({"q": c["org_number"], "countries": ["DK", "NO"]})
    assert out["items"][0]["org_number"] == c["org_number"] and out["failed_countries"] == []


def test_get_errors(loaded_index, start_service, rpc):
    start_service({"GB": "503"})
    with pytest.raises(RemoteError) as err:
        rpc.get({"country": "NO", "org_number": "976030789"})
    assert err.value.exc_type == "ValidationError" and err.value.value.startswith("org_number: ")
    assert "9 digits" in err.value.value
    with pytest.raises(RemoteError) as err:
        rpc.get({"country": "NO", "org_number": "923609016"})
    assert err.value.exc_type == "NotFound"
    with pytest.raises(RemoteError) as err:
        rpc.get({"country": "GB", "org_number": "09999999"})
    assert err.value.exc_type == "SourceUnavailable" and "Companies House" in err.value.value


def test_stale_copy_when_the_registry_is_down(loaded_index, start_service, rpc):
    start_service({"NO": "500"}, REGISTRY_MAX_AGE_HOURS="0")
    c = company_from_index(loaded_index, "NO")
    out = rpc.get({"country": "NO", "org_number": c["org_number"]})
    assert out["stale"] is True and out["source"] == "index" and out["name"] == c["name"]


def test_subunits_per_country(loaded_index, start_service, rpc, standin_data):
    start_service()
    no = company(standin_data, "NO", lambda c: c["subs"] and c["i"] < 200)
    out = rpc.subunits({"country": "NO", "org_number": no["org_number"]})
    assert out["source"] == "index"
    assert sorted(u["org_number"] for u in out["items"]) == sorted(s["org_number"] for s in no["subs"])
    item = out["items"][0]
    assert set(item) >= {"org_number", "name", "visiting_address", "postal_address", "industry", "employees"}
    dk = company(standin_data, "DK", lambda c: c["subs"] and c["i"] < 200)
    assert len(rpc.subunits({"country": "DK", "org_number": dk["org_number"]})["items"]) == len(dk["subs"])
    gb = company(standin_data, "GB", lambda c: c["subs"] and c["i"] < 200)
    out = rpc.subunits({"country": "GB", "org_number": gb["org_number"]})
    assert out["source"] == "live" and [u["org_number"] for u in out["items"]] == [s["org_number"] for s in gb["subs"]]
    plain = company(standin_data, "GB", lambda c: c["form"] == "ltd" and c["i"] < 200)
    assert rpc.subunits({"country": "GB", "org_number": plain["org_number"]})["items"] == []
    se = company(standin_data, "SE")
    assert rpc.subunits({"country": "SE", "org_number": se["org_number"]})["items"] == []
    with pytest.raises(RemoteError) as err:
        rpc.subunits({"country": "DK", "org_number": "1234"})
    assert err.value.exc_type == "ValidationError"


def test_subunits_from_a_failing_registry_is_a_typed_error(start_service, rpc, standin_data):
    start_service({"NO": "503"})
    no = company(standin_data, "NO", lambda c: c["subs"])
    with pytest.raises(RemoteError) as err:
        rpc.subunits({"country": "NO", "org_number": no["org_number"]})
    assert err.value.exc_type == "SourceUnavailable" and "HTTP 503" in err.value.value
