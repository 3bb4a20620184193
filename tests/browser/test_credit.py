"""Credit monitoring in a real browser (Debian's Chromium, Playwright) against the running
suite (issue 10): create a company from the registry, see its rating on the card and in
the overview; change its rating at the Creditsafe stand-in, see the owner's bell count go
up and the chart and timeline update; check now (with its cost warning); stop and start."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.browser.ui import login
from tests.e2e.test_credit_flow import _probe, known_dev_company


def test_rating_on_card_and_overview_change_bell_chart_timeline_stop_start(page, suite):
    c = known_dev_company(start=20)
    rating = _probe.company("NO", c["org_number"])
    login(page)

    page.goto(f"/registry/pick?country=NO&org_number={c['org_number']}")
    form = page.locator("#company-form")
    expect(form.locator("input[name=org_number]")).to_have_value(c["org_number"])
    form.get_by_role("button", name="Create company").click()
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))
    card_url = page.url

    box = page.locator("#box-credit")
    expect(box).to_contain_text("Monitored by Creditsafe", timeout=30_000)
    expect(box.locator(".credit-now .band")).to_have_text(rating.band)
    expect(box.locator(".credit-score")).to_contain_text(str(rating.score))
    expect(box.locator("svg circle.chart-point")).to_have_count(1)
    bell = page.locator("#bell")
    expect(bell).to_be_visible()
    before = int(bell.locator(".bell-count").get_attribute("data-count") or 0) if bell.locator(".bell-count").count() else 0

    # the overview: band and score in the credit column
    # (the crm learns the rating from the credit monitor's rating_changed event, a moment after the card shows it)
    cell = page.locator("#results tbody tr td.credit")
    for _ in range(30):
        page.goto(f"/companies?q={c['org_number']}")
        if f"{rating.band} {rating.score}" in (cell.first.text_content() or ""):
            break
        page.wait_for_timeout(1000)
    expect(cell).to_contain_text(f"{rating.band} {rating.score}")

    # the rating changes at Creditsafe (the stand-in's control endpoint)
    new_score = 12 if rating.score > 40 else 88
    stand_in = f"http://127.0.0.1:{suite.env['CREDITSAFE_STANDIN_PORT']}"
    changed = requests.post(f"{stand_in}/_control/rating",
                            json={"country": "NO", "regNo": c["org_number"], "score": new_score}, timeout=5).json()
    page.goto(card_url)
    for _ in range(60):  # the poll runs every second in the suite; the bell refreshes on load
        count = page.locator("#bell .bell-count")
        if count.count() and int(count.get_attribute("data-count")) == before + 1:
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("#bell .bell-count")).to_have_attribute("data-count", str(before + 1))
    box = page.locator("#box-credit")
    expect(box.locator(".credit-score")).to_contain_text(str(new_score))
    expect(box.locator(".credit-now .band")).to_have_text(changed["band"])
    expect(box.locator("svg circle.chart-point")).to_have_count(2)
    expect(box.locator("svg polyline.chart-line")).to_have_count(1)

    page.get_by_role("tab", name="Timeline").click()
    expect(page.locator("#records")).to_contain_text("Changed credit rating")
    expect(page.locator("#records")).to_contain_text(f"{changed['band']} ({new_score})")

    # check now: it warns that a report may cost, then orders it
    box.get_by_role("link", name="Check now").click()
    expect(box).to_contain_text("may cost money")
    box.get_by_role("button", name="Order report").click()
    expect(box.get_by_role("link", name="Check now")).to_be_visible()
    expect(box.locator(".credit-score")).to_contain_text(str(new_score))

    # stop and start monitoring
    box.get_by_role("button", name="Stop monitoring").click()
    expect(box).to_contain_text("Monitoring stopped")
    expect(box.locator(".credit-score")).to_contain_text(str(new_score))  # the history stays
    box.get_by_role("button", name="Start monitoring").click()
    expect(box).to_contain_text("Monitored by Creditsafe")

    # the bell's list: newest first, links to the company, mark all read
    page.locator("#bell").click()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    entry = page.locator(".notification").first
    expect(entry).to_contain_text(f"{changed['band']} ({new_score})")
    expect(entry.locator("a.notification-title")).to_have_attribute("href", re.compile(r"/companies/\d+$"))
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("#notification-list")).to_contain_text("Nothing unread")
    expect(page.locator("#bell .bell-count")).to_have_count(0)
