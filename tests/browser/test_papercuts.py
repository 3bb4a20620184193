"""Issue 13 in a real browser: the papercuts a new user hits (project-edit round trip, the
new-company invoice box). Real stack: gateway, RabbitMQ, crm, database."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.ui import login


@pytest.fixture
def card(page):
    login(page)
    page.get_by_role("searchbox", name="Search companies").press_sequentially("berg", delay=30)
    expect(page).to_have_url(re.compile(r"q=berg"))
    page.locator("#results tbody tr").first.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))
    return page


def test_editing_a_project_keeps_its_owner(card):
    card.locator("#tab-projects").click()
    card.get_by_role("button", name="+ New project").click()
    card.fill("#project-new-name", "Papercut rammeavtale")
    owner = card.locator("#project-new-owner_id")
    chosen = owner.locator("option:checked").inner_text()
    assert chosen and chosen != "—"  # a new project is mine by default
    card.get_by_role("button", name="Create project").click()
    row = card.locator(".rec.project", has_text="Papercut rammeavtale")
    expect(row).to_contain_text(f"Owner: {chosen}")
    row.get_by_role("button", name="Edit").click()
    form = card.locator(".rec.project.editing")
    expect(form.locator("select[name=owner_id] option:checked")).to_have_text(chosen)  # shown, not "—"
    form.locator("input[name=end_date]").fill("2027-06-30")
    form.get_by_role("button", name="Save project").click()
    row = card.locator(".rec.project", has_text="Papercut rammeavtale")
    expect(row).to_contain_text(f"Owner: {chosen}")  # saving did not clear it
    card.reload()
    card.locator("#tab-projects").click()
    expect(card.locator(".rec.project", has_text="Papercut rammeavtale")).to_contain_text(f"Owner: {chosen}")


def test_new_company_invoice_box_defaults_and_validation(page):
    login(page)
    page.goto("/companies/new")
    form = page.locator("#company-form")
    form.locator("#new-name").fill("Papercut Faktura AS")
    expect(form.get_by_label("Invoices go by")).to_have_value("")  # the default needs no e-mail
    form.get_by_label("Invoices go by").select_option("email_link")
    form.get_by_role("button", name="Create company").click()
    expect(page.locator("#new-invoice-email-err")).to_have_text("An invoice e-mail is required when invoices go by e-mail.")
    expect(page.locator("#new-name")).to_have_value("Papercut Faktura AS")  # nothing lost
    page.locator("#company-form").get_by_label("Invoice e-mail").fill("faktura@papercut.no")
    page.locator("#company-form").get_by_label("Credit days").fill("30")
    page.locator("#company-form").get_by_role("button", name="Create company").click()
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))
    box = page.locator("#box-invoice")
    expect(box).to_contain_text("E-mail with tracking link")
    expect(box).to_contain_text("faktura@papercut.no")
    expect(box).to_contain_text("30")
    # the card accepts the values the new-company form saved: saving its invoice box unchanged works
    box.get_by_role("button", name="Edit").click()
    page.locator("#box-invoice").get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator("#box-invoice")).to_contain_text("faktura@papercut.no")
    expect(page.locator("#box-invoice .field-error")).to_have_count(0)


def _protected_dk_company() -> dict:
    """An active Danish dev company the CVR stand-in data marks ``reklamebeskyttet`` (every 7th),
    with a name no other dev company shares, in the suite's index (tests/registry_picks.py)."""
    import os

    from registry_lookup import devdata

    n = min(int(os.environ.get("REGISTRY_DEV_ENTITIES", "2000")), 2000)
    companies = list(devdata.companies("DK", n))
    names: dict[str, int] = {}
    for c in companies:
        names[c["name"].lower()] = names.get(c["name"].lower(), 0) + 1
    return next(c for c in companies if c["i"] % 7 == 0 and c["i"] >= 50 and c["status"] == "active"
                and names[c["name"].lower()] == 1)


def test_marketing_protection_from_the_registry_reaches_the_card(page):
    c = _protected_dk_company()
    login(page)
    page.goto("/companies/new")
    box = page.locator("#registry-q")
    box.press_sequentially(c["org_number"], delay=25)
    option = page.locator("#registry-listbox [role=option]").filter(has_text=c["org_number"])
    expect(option).to_have_count(1)
    option.click()  # an option holds no link (WAI-ARIA listbox, issue 15): a click on it picks
    form = page.locator("#company-form")
    expect(form.locator("#new-name")).to_have_value(c["name"])
    expect(form.locator(".marketing-protection")).to_contain_text("Marketing protection.")
    form.get_by_role("button", name="Create company").click()
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))
    expect(page.locator(".marketing-protection")).to_contain_text("e-mail campaigns skip it")


def test_slash_focuses_the_overview_search_but_not_while_typing(page):
    login(page)
    search = page.get_by_role("searchbox", name="Search companies")
    search.evaluate("element => element.blur()")  # it has autofocus: start from the page itself
    expect(search).not_to_be_focused()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("")  # the "/" itself is not typed
    search.press_sequentially("a/b", delay=20)
    expect(search).to_have_value("a/b")  # inside a field "/" is just a character


def test_mine_can_be_unticked_in_the_owner_filter(page):
    """Issue 13: ticking and unticking "Mine" leaves no owner=mine behind and no second "mine" box."""
    login(page)
    panel = page.locator("#filter-panel")
    expect(panel.locator(".facet-count").first).to_be_visible()  # the counts have come
    panel.locator("summary", has_text="Owner").click()
    mine = panel.locator("input[name=owner][value=mine]")
    expect(mine).to_have_count(1)
    mine.check()
    expect(page).to_have_url(re.compile(r"owner=mine"))
    expect(panel.locator("input[name=owner][value=mine]")).to_have_count(1)
    expect(page.locator("#results .chips")).to_contain_text("Owner: Mine")
    panel.locator("input[name=owner][value=mine]").uncheck()
    expect(page).not_to_have_url(re.compile(r"owner="))
    expect(panel.locator("input[name=owner][value=mine]")).to_have_count(1)
    expect(panel.locator("input[name=owner][value=mine]")).not_to_be_checked()
    expect(page.locator("#results .chips")).to_have_count(0)
    page.reload()
    expect(page.locator("#filter-panel input[name=owner][value=mine]")).not_to_be_checked()


def test_long_facets_have_a_filter_box_and_ticked_values_stay_on_top(page):
    login(page)
    panel = page.locator("#filter-panel")
    expect(panel.locator(".facet-count").first).to_be_visible()
    panel.locator("summary", has_text="City").click()
    cities = panel.locator("[data-facet-list=city] li")
    assert cities.count() > 30  # the demo book has more cities than the old cut at 30
    last = cities.last.locator(".facet-label").inner_text()
    url = page.url
    box = panel.locator("[data-facet-filter=city]")
    box.fill(last[:4])
    # exactly this city ("Oslo" and a registry's "OSLO" are two values; has_text would match both)
    exact = page.locator(".facet-label").get_by_text(last, exact=True)
    expect(panel.locator("[data-facet-list=city] li:visible").filter(has=exact)).to_have_count(1)
    assert panel.locator("[data-facet-list=city] li:visible").count() < cities.count()
    assert page.url == url  # typing in the filter box asks nothing
    panel.locator("[data-facet-list=city] li:visible").filter(has=exact).locator("input").first.check()
    expect(page).to_have_url(re.compile(r"city="))
    panel = page.locator("#filter-panel")
    expect(panel.locator("[data-facet-list=city] li").first).to_contain_text(last)  # ticked: on top
    expect(panel.locator("[data-facet-list=city] li").first.locator("input")).to_be_checked()


def test_the_industry_chip_shows_the_industry_text(page):
    login(page)
    panel = page.locator("#filter-panel")
    expect(panel.locator(".facet-count").first).to_be_visible()
    panel.locator("summary", has_text="Industry").click()
    first = panel.locator("[data-facet-list=industry] li").first
    text = first.locator(".facet-label").inner_text()
    first.locator("input").check()
    expect(page).to_have_url(re.compile(r"industry="))
    page.reload()  # the chip comes with the list, before the panel's counts
    expect(page.locator("#results .chips")).to_contain_text(f"Industry: {text}")


def _no_horizontal_overflow(page) -> None:
    sizes = page.evaluate("""() => {
        const wrap = document.querySelector('#results .table-scroll');
        return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                wrap: wrap.scrollWidth, wrapClient: wrap.clientWidth};
    }""")
    assert sizes["page"] <= sizes["view"], sizes
    assert sizes["wrap"] <= sizes["wrapClient"], sizes


def test_the_overview_fits_1280_px_and_the_sorted_column_is_visible(page):
    """Issue 13: no sideways scrolling at 1280x800; whichever column sorts is on screen."""
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page)
    expect(page.locator("#results tbody tr").first).to_be_visible()
    page.screenshot(path="/tmp/p13-overview-1280.png", caret="initial")
    _no_horizontal_overflow(page)
    for column in ("Invoiced this year", "Credit rating", "Unsigned agreements", "Org. number"):
        page.locator("#results thead th a.sort", has_text=column).click()
        expect(page.locator("#results thead th[aria-sort=ascending], #results thead th[aria-sort=descending]")
               ).to_contain_text(column)
        th = page.locator("#results thead th[aria-sort=ascending], #results thead th[aria-sort=descending]")
        expect(th).to_be_visible()
        box = th.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1280, (column, box)
        _no_horizontal_overflow(page)
    page.screenshot(path="/tmp/p13-overview-1280-sorted.png", caret="initial")


def test_on_a_phone_the_search_comes_before_the_filters_and_log_out_is_visible(page):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page)
    search = page.get_by_role("searchbox", name="Search companies")
    filters = page.locator("#filter-panel")
    page.screenshot(path="/tmp/p13-overview-phone-before.png", full_page=True, caret="initial")
    expect(search).to_be_visible()
    assert search.bounding_box()["y"] < filters.bounding_box()["y"]
    logout = page.get_by_role("button", name="Log out")
    expect(logout).to_be_visible()
    box = logout.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path="/tmp/p13-overview-phone.png", caret="initial")


def test_every_error_of_the_new_company_form_shows_at_once(page):
    """Issue 13: one submit shows the form's own errors and the crm's (org number, phone) together."""
    login(page)
    page.goto("/companies/new")
    form = page.locator("#company-form")
    form.locator("#new-org_number").fill("123")
    form.locator("#new-phone").fill("1234")
    form.locator("#new-email").fill("not-an-address")
    form.locator("#new-website").fill("not a site")
    form.get_by_role("button", name="Create company").click()
    for field in ("name", "org_number", "phone", "email", "website"):
        expect(page.locator(f"#new-{field}-err")).to_be_visible()
    expect(page.locator("#new-phone-err")).not_to_contain_text("not a phone number")
    expect(page.locator("#new-org_number")).to_have_value("123")  # nothing lost
    expect(page).to_have_url(re.compile(r"/companies/new"))


def test_every_error_of_a_card_box_shows_at_once(card):
    box = card.locator("#box-general")
    box.get_by_role("button", name=re.compile("Edit")).first.click()
    box = card.locator("#box-general")
    box.locator("#gen-org_number").fill("123")
    box.locator("#gen-phone").fill("1234")
    box.locator("#gen-email").fill("nope")
    box.get_by_role("button", name=re.compile("Save")).click()
    for field in ("org_number", "phone", "email"):
        expect(card.locator(f"#gen-{field}-err")).to_be_visible()


def test_a_meeting_and_an_activity_are_edited_after_creation(card):
    card.locator("#tab-meetings").click()
    card.get_by_role("button", name="+ Book meeting").click()
    card.fill("#meeting-new-title", "Papercut statusmøte")
    card.fill("#meeting-new-starts_at", "2020-01-06T10:00")  # in the past: other tests' meetings stay first
    card.get_by_role("button", name="Book meeting").click()
    row = card.locator(".rec.meeting", has_text="Papercut statusmøte")
    row.get_by_role("button", name="Edit").click()
    form = card.locator(".rec.meeting.editing")
    expect(form.locator("input[name=title]")).to_have_value("Papercut statusmøte")
    form.locator("input[name=title]").fill("Papercut statusmøte, runde 2")
    form.locator("input[name=place]").fill("Hos dem")
    form.get_by_role("button", name="Save meeting").click()
    expect(card.locator(".rec.meeting", has_text="runde 2")).to_contain_text("Hos dem")
    card.locator("#tab-activities").click()
    card.locator(".quick-log").get_by_role("button").first.click()
    card.locator("#activity-new-text").fill("Papercut samtale")
    card.get_by_role("button", name="Log activity").click()
    row = card.locator(".rec.activity", has_text="Papercut samtale")
    row.get_by_role("button", name="Edit").click()
    card.locator(".rec.activity.editing textarea[name=text]").fill("Papercut samtale, ringer tilbake")
    card.locator(".rec.activity.editing").get_by_role("button", name="Save activity").click()
    expect(card.locator(".rec.activity", has_text="ringer tilbake")).to_have_count(1)
    card.locator("#tab-meetings").click()  # read back from the crm
    expect(card.locator(".rec.meeting", has_text="runde 2")).to_contain_text("Hos dem")
    card.locator("#tab-history").click()
    expect(card.locator("#records")).to_contain_text("Hos dem")
