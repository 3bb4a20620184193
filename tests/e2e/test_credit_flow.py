"""End to end, credit monitoring (issue 10): a company created from the registry is
enrolled (crm outbox -> RabbitMQ -> credit_monitor -> the Creditsafe stand-in), its
rating reaches the card and the overview; a rating change at the stand-in reaches
the owners' bell, the chart and the timeline; stop and start monitoring."""
from __future__ import annotations

import re
import time

import requests

from credit_monitor import standin
from tests.registry_picks import dev_company, form_fields

HX = {"HX-Request": "true"}
_probe = standin.State({}, 3600)


def wait_for(check, timeout=30.0, interval=0.25):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s; last: {str(last)[:2000]}")


def known_dev_company(start: int = 3) -> dict:
    """A dev registry company the Creditsafe stand-in knows."""
    for nth in range(start, start + 40):
        c = dev_company(nth, min_subunits=0)
        if _probe.company("NO", c["org_number"]) is not None:
            return c
    raise AssertionError("no known company")


def create_from_registry(suite, admin, c) -> int:
    pick = admin.get(f"{suite.url}/registry/pick", params={"country": "NO", "org_number": c["org_number"]}, headers=HX)
    assert 'id="company-form"' in pick.text, (pick.status_code, pick.text[:1500])
    data = form_fields(pick.text)
    data.pop("subunit", None)
    data["relationship"] = ["customer"]
    created = admin.post(f"{suite.url}/companies/new", data=data, headers=HX)
    assert created.status_code == 204, created.text[:2000]
    assert data.get("owner_ids"), "the creator owns a new company by default"
    return int(created.headers["HX-Redirect"].rsplit("/", 1)[1])


def bell(suite, session) -> int:
    body = session.get(f"{suite.url}/notifications/bell", headers=HX).text
    match = re.search(r'data-count="(\d+)"', body)
    return int(match.group(1)) if match else 0


def test_registry_company_is_rated_and_a_change_reaches_owners_chart_and_timeline(suite, admin):
    stand_in = f"http://127.0.0.1:{suite.env['CREDITSAFE_STANDIN_PORT']}"
    c = known_dev_company()
    company_id = create_from_registry(suite, admin, c)
    rating = _probe.company("NO", c["org_number"])

    box = wait_for(lambda: (b := admin.get(f"{suite.url}/companies/{company_id}/credit", headers=HX).text)
                   and "Monitored by Creditsafe" in b and b)
    assert f"band-{rating.band}" in box and f">{rating.score}<" in box and "<svg" in box

    # the overview shows it (the crm got rating_changed): band and score in the credit column
    def overview():
        body = admin.get(f"{suite.url}/companies", params={"q": c["org_number"]}, headers=HX).text
        return f'<span class="band band-{rating.band}">{rating.band}</span> {rating.score}' in body and body
    wait_for(overview)
    sorted_by_band = admin.get(f"{suite.url}/companies", params={"credit_band": rating.band, "sort": "-credit_score"},
                               headers=HX).text
    assert f'href="/companies/{company_id}"' in sorted_by_band

    before = bell(suite, admin)
    new_score = 12 if rating.score > 40 else 88
    changed = requests.post(f"{stand_in}/_control/rating",
                            json={"country": "NO", "regNo": c["org_number"], "score": new_score}, timeout=5).json()
    wait_for(lambda: bell(suite, admin) == before + 1, timeout=40)
    listed = admin.get(f"{suite.url}/notifications").text
    assert f'href="/companies/{company_id}"' in listed and f"{changed['band']} ({new_score})" in listed

    box = admin.get(f"{suite.url}/companies/{company_id}/credit", headers=HX).text
    assert f">{new_score}<" in box and box.count("<circle") == 2  # two ratings on the chart
    timeline = admin.get(f"{suite.url}/companies/{company_id}?tab=timeline").text
    assert "Changed credit rating" in timeline and f"{changed['band']} ({new_score})" in timeline

    # stop and start monitoring
    stopped = admin.post(f"{suite.url}/companies/{company_id}/credit/stop", headers=HX).text
    assert "Monitoring stopped" in stopped and "Start monitoring" in stopped and f">{new_score}<" in stopped
    started = admin.post(f"{suite.url}/companies/{company_id}/credit/start", headers=HX).text
    assert "Monitored by Creditsafe" in started and "Stop monitoring" in started

    # mark all read: the bell goes back to zero
    admin.post(f"{suite.url}/notifications/read-all", headers=HX)
    assert bell(suite, admin) == 0


def test_enrolment_while_the_credit_monitor_is_down_is_delivered_when_it_is_back(suite, admin):
    suite.stop("credit_monitor")
    try:
        c = known_dev_company(start=12)
        company_id = create_from_registry(suite, admin, c)
        down = admin.get(f"{suite.url}/companies/{company_id}/credit", headers=HX).text
        assert "Could not update" in down  # the card says so and does not hang
    finally:
        suite.start("credit_monitor")
    wait_for(lambda: "Monitored by Creditsafe" in admin.get(f"{suite.url}/companies/{company_id}/credit",
                                                            headers=HX).text, timeout=90, interval=1)
