"""The real clients against the stand-ins over real HTTP: each registry's API,
auth, and every way a registry can fail."""
import time

import pytest

from registry_lookup.breaker import CircuitBreaker
from registry_lookup.clients import BolagsverketClient, CompaniesHouseClient
from registry_lookup.exceptions import SourceUnavailable


def company(standin_data, country, pred=lambda c: True):
    return next(c for c in standin_data.countries[country].companies if pred(c))


@pytest.mark.parametrize("country", ["NO", "DK", "GB"])
def test_name_search_and_lookup_by_number(make_registries, standin_data, country):
    registries = make_registries()
    c = company(standin_data, country, lambda c: c["status"] == "active" and c["i"] > 3)
    prefix = c["name"].split()[0][:4].lower()
    found = registries.search(country, prefix, 50)
    assert found and all(e["name"].lower().startswith(prefix) or any(
        w.startswith(prefix) for w in e["name"].lower().split()) for e in found)
    e = registries.get(country, c["org_number"])
    assert e["org_number"] == c["org_number"]
    assert e["name"].upper() == c["name"].upper()
    assert e["industry"][0]["code"].replace(".", "").startswith(c["nace"])
    assert e["visiting_address"]["city"].upper() == c["visiting"]["city"].upper()


def test_sweden_is_looked_up_by_number_through_oauth(make_registries, standin_data, standin_app):
    registries = make_registries()
    c = company(standin_data, "SE")
    e = registries.get("SE", c["org_number"])
    assert (e["name"], e["legal_form"], e["postal_address"]["city"]) == (c["name"], c["form"], c["postal"]["city"])
    assert registries.search("SE", c["org_number"], 5)[0]["org_number"] == c["org_number"]
    assert registries.search("SE", "Cykel", 5) == []  # the API has no name search
    assert standin_app.requests["/bolagsverket/oauth2/token"] == 1  # one token, reused


def test_unknown_numbers_are_none(make_registries):
    registries = make_registries()
    # valid numbers of real companies the stand-ins do not hold
    assert registries.get("NO", "923609016") is None
    assert registries.get("GB", "09999999") is None
    assert registries.get("DK", "21265837") is None
    assert registries.get("SE", "5299999994") is None


@pytest.mark.parametrize("country", ["NO", "DK", "GB"])
def test_subunits(make_registries, standin_data, country):
    c = company(standin_data, country, lambda c: c["subs"])
    units = make_registries().subunits(country, c["org_number"])
    assert sorted(u["org_number"] for u in units) == sorted(s["org_number"] for s in c["subs"])
    assert all(u["kind"] == "sub" and u["parent"] == c["org_number"] for u in units)


def test_requests_carry_a_descriptive_user_agent(make_registries, standin_app):
    make_registries().search("NO", "bygg", 5)
    assert standin_app.user_agents[-1].startswith("crm-registry-lookup/")


def test_wrong_credentials_are_a_clear_source_error(standin_server):
    base = f"http://127.0.0.1:{standin_server.port}"
    ch = CompaniesHouseClient(base + "/ch", "wrong-key", user_agent="test")
    with pytest.raises(SourceUnavailable) as err:
        ch.search("bygg", 5)
    assert "credentials" in err.value.message and err.value.details["country"] == "GB"
    bv = BolagsverketClient(base + "/bolagsverket/vardefulla-datamangder/v1", base + "/bolagsverket/oauth2/token",
                            "dev-client", "wrong", user_agent="test")
    with pytest.raises(SourceUnavailable, match="client credentials"):
        bv.get("5299999994")


@pytest.mark.parametrize("fault, words", [
    ("500", "HTTP 500"), ("503", "HTTP 503"), ("html", "not JSON (text/html)"), ("badjson", "not JSON"),
    ("401", "credentials"), ("slow-3", "timed out"),
])
def test_a_failing_registry_is_a_source_error_with_a_clear_message(make_registries, fault, words):
    registries = make_registries({"NO": fault})
    start = time.perf_counter()
    with pytest.raises(SourceUnavailable) as err:
        registries.search("NO", "bygg", 5)
    assert words in err.value.message
    assert err.value.message.startswith("Brønnøysundregistrene:")
    assert time.perf_counter() - start < 4  # timeouts (1 s read, one retry) bound the wait


def test_transient_failures_are_retried(make_registries, standin_app):
    registries = make_registries({"GB": "flaky-1"})
    assert registries.search("GB", "albion", 3)
    assert standin_app.requests["/_fault/flaky-1/ch/search/companies"] == 2


def test_bolagsverket_partial_answer_names_what_is_missing(make_registries, standin_data):
    registries = make_registries({"SE": "partial"})
    c = company(standin_data, "SE")
    e = registries.get("SE", c["org_number"])
    assert e["org_number"] == c["org_number"] and e["name"] == ""
    assert {"name", "legal_form", "registered_on"} <= set(e["missing"])
    assert "misslyckades" in e["missing_reason"]
    assert e["postal_address"] is not None  # SCB's part still came


def test_bolagsverket_refuses_a_bad_check_digit_without_opening_the_breaker(make_registries):
    registries = make_registries()
    client = registries.client("SE")
    with pytest.raises(SourceUnavailable, match="ogiltig kontrollsiffra"):
        client.get("5299999995")
    assert client.breaker.failures == 0


def test_breaker_opens_after_repeated_failures_and_stops_calling(make_registries, standin_app):
    registries = make_registries({"DK": "500"}, REGISTRY_BREAKER_FAILURES="2", REGISTRY_BREAKER_RESET="60")
    for _ in range(2):
        with pytest.raises(SourceUnavailable, match="HTTP 500"):
            registries.search("DK", "byg", 5)
    calls = standin_app.requests["/_fault/500/cvr/cvr-permanent/virksomhed/_search"]
    with pytest.raises(SourceUnavailable, match="skipped after repeated failures"):
        registries.search("DK", "byg", 5)
    assert standin_app.requests["/_fault/500/cvr/cvr-permanent/virksomhed/_search"] == calls
    assert registries.client("DK").breaker.state == "open"


def test_breaker_half_opens_after_the_reset_timeout():
    now = [0.0]
    breaker = CircuitBreaker("x", failure_threshold=2, reset_timeout=10, clock=lambda: now[0])
    breaker.failure()
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 10.5
    assert breaker.state == "half-open"
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.failure()
    assert breaker.state == "open"  # the trial failed: open again
    now[0] = 21
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow()
