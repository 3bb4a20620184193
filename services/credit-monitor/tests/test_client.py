"""The Creditsafe client against the stand-in (a real HTTP server): no nameko."""
import pytest

from credit_monitor import standin
from credit_monitor.creditsafe import (AuthenticationFailed, CircuitBreaker, CreditsafeClient, CreditsafeUnavailable,
                                       TokenCache)
from helpers import known_numbers, unknown_number


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def client_for(creditsafe, **kw):
    kw.setdefault("backoff", 0.01)
    return CreditsafeClient(creditsafe.url, standin.DEV_USERNAME, standin.DEV_PASSWORD, **kw)


def test_one_authentication_serves_many_calls(creditsafe):
    client = client_for(creditsafe)
    for reg in known_numbers("NO", 12):
        assert client.find_company("NO", reg)["regNo"] == reg
    stats = creditsafe.control("stats")
    assert stats["authenticate"] == 1
    assert stats["requests"]["GET /v1/companies"] == 12


def test_clients_of_one_credential_share_the_cached_token(creditsafe):
    tokens = TokenCache()
    for _ in range(3):
        client_for(creditsafe, tokens=tokens).find_company("SE", known_numbers("SE", 1)[0])
    assert creditsafe.auth_count == 1


def test_the_token_is_renewed_before_its_hour_ends(creditsafe):
    clock = Clock()
    client = client_for(creditsafe, tokens=TokenCache(clock=clock))
    reg = known_numbers("DK", 1)[0]
    client.find_company("DK", reg)
    clock.t += 54 * 60
    client.find_company("DK", reg)
    assert creditsafe.auth_count == 1
    clock.t += 2 * 60  # 56 minutes: within the renewal margin
    client.find_company("DK", reg)
    assert creditsafe.auth_count == 2


def test_a_401_renews_the_token_once_and_repeats_the_call(creditsafe):
    client = client_for(creditsafe)
    reg = known_numbers("GB", 1)[0]
    client.find_company("GB", reg)
    creditsafe.fault("expire-tokens")  # Creditsafe forgets every token it issued
    assert client.find_company("GB", reg)["id"] == f"GB-0-{reg}"
    stats = creditsafe.control("stats")
    assert stats["authenticate"] == 2
    assert stats["requests"]["GET /v1/companies"] == 3


def test_wrong_credentials_are_a_clear_error(creditsafe):
    client = CreditsafeClient(creditsafe.url, "someone", "wrong")
    with pytest.raises(AuthenticationFailed, match="rejected the username or password"):
        client.find_company("NO", known_numbers("NO", 1)[0])


def test_an_unknown_number_is_no_result(creditsafe):
    assert client_for(creditsafe).find_company("NO", unknown_number("NO")) is None


def test_the_credit_report_gives_band_score_limit_and_description(creditsafe):
    client = client_for(creditsafe)
    reg = known_numbers("NO", 1)[0]
    company = client.find_company("NO", reg)
    rating = client.credit_report(company["id"])
    c = creditsafe.state.company("NO", reg)
    assert (rating.band, rating.score) == (c.band, c.score)
    assert rating.limit == (c.limit or None)
    assert rating.description == standin.DESCRIPTIONS[c.band]
    assert rating.band in "ABCDE" and 1 <= rating.score <= 100


def test_429_and_5xx_are_retried_with_backoff(creditsafe):
    client = client_for(creditsafe, retries=2)
    client.token()
    creditsafe.fault("500", count=2)
    assert client.find_company("NO", known_numbers("NO", 1)[0]) is not None
    assert creditsafe.control("stats")["requests"]["GET /v1/companies"] == 3


def test_the_circuit_opens_when_creditsafe_is_down(creditsafe):
    breaker = CircuitBreaker(threshold=2, reset_timeout=60)
    client = client_for(creditsafe, retries=0, breaker=breaker)
    client.token()
    creditsafe.fault("down")
    reg = known_numbers("NO", 1)[0]
    for _ in range(2):
        with pytest.raises(CreditsafeUnavailable, match="HTTP 503"):
            client.find_company("NO", reg)
    before = creditsafe.control("stats")["requests"]["GET /v1/companies"]
    with pytest.raises(CreditsafeUnavailable, match="skipped"):
        client.find_company("NO", reg)
    assert creditsafe.control("stats")["requests"]["GET /v1/companies"] == before  # not even sent
    assert breaker.state == "open"


def test_a_slow_creditsafe_times_out(creditsafe):
    client = client_for(creditsafe, retries=0, timeout=0.3)
    client.token()
    creditsafe.fault("slow", seconds=2)
    with pytest.raises(CreditsafeUnavailable, match="timed out"):
        client.find_company("NO", known_numbers("NO", 1)[0])


def test_portfolio_is_created_once_and_adding_twice_is_harmless(creditsafe):
    client = client_for(creditsafe)
    pid = client.ensure_portfolio("CRM tenant 1")
    assert client.ensure_portfolio("CRM tenant 1") == pid
    cid = client.find_company("SE", known_numbers("SE", 1)[0])["id"]
    assert client.add_company(pid, cid) is True
    assert client.add_company(pid, cid) is False  # 409 already in portfolio
    assert [c["id"] for c in client.portfolio_companies(pid)] == [cid]
    assert client.remove_company(pid, cid) is True
    assert client.remove_company(pid, cid) is False


def test_every_page_of_notification_events_is_read(creditsafe):
    client = client_for(creditsafe)
    pid = client.ensure_portfolio("paging")
    regs = known_numbers("NO", 9)
    for reg in regs:
        client.add_company(pid, f"NO-X-{reg}")
    creditsafe.control("ratings", {"changes": [{"country": "NO", "regNo": r, "score": 15} for r in regs]})
    pages = list(client.notification_events(pid, page_size=4))
    events = [e for page in pages for e in page]
    total = creditsafe.control("stats")["requests"]["GET /v1/monitoring/portfolios/{id}/notificationEvents"]
    assert len(pages) == total == -(-len(events) // 4) and len(pages) >= 3
    assert len({e["eventId"] for e in events}) == len(events) >= 9
    assert {e["company"]["id"] for e in events} == {f"NO-X-{r}" for r in regs}


def test_an_import_file_adds_many_companies_once_after_creditsafe_processed_it(creditsafe):
    client = client_for(creditsafe)
    pid = client.ensure_portfolio("imports")
    regs = known_numbers("GB", 12)
    safe = [client.find_company("GB", reg)["safeNo"] for reg in regs]
    status = client.import_companies(pid, safe + safe[:3])  # duplicates in the file are ignored
    assert status.startswith("Accepted for processing. Import Id ")
    import time

    deadline = time.monotonic() + 5
    while len(list(client.portfolio_companies(pid))) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    listed = {c["id"]: c for c in client.portfolio_companies(pid, page_size=5)}  # every page
    assert set(listed) == {f"GB-0-{reg}" for reg in regs}
    c = creditsafe.state.company("GB", regs[0])
    assert (listed[c.id]["ratingCommon"], listed[c.id]["ratingLocal"]) == (c.band, str(c.score))
    client.import_companies(pid, safe[:4] + ["GB99999999"])  # again, and a number Creditsafe does not have
    time.sleep(0.5)
    assert len(list(client.portfolio_companies(pid))) == 12
    assert creditsafe.control("stats")["requests"]["POST /v1/monitoring/portfolios/{id}/import"] == 2


def test_an_import_without_its_file_is_a_400(creditsafe):
    from credit_monitor.creditsafe import RequestRejected

    client = client_for(creditsafe)
    pid = client.ensure_portfolio("imports")
    with pytest.raises(RequestRejected) as err:
        client.request("POST", f"/monitoring/portfolios/{pid}/import", files={"other": ("x.csv", b"a\r\n", "text/csv")})
    assert err.value.status == 400
    with pytest.raises(RequestRejected) as err:
        client.request("POST", f"/monitoring/portfolios/{pid}/import",
                       files={"importCsv": ("x.csv", b"Name\r\nAcme\r\n", "text/csv")})
    assert err.value.status == 400 and "Safe Number" in str(err.value)
