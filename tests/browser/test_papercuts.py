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
    option.locator("a").click()
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
