"""“+ then Company” in a real browser (Debian's Chromium, driven by Playwright) against the
running suite: the registry search with the keyboard, the form filled in, a sub-unit ticked, created."""
from __future__ import annotations

import re
from urllib.parse import urlparse

from playwright.sync_api import expect

from tests.browser.ui import login
from tests.registry_picks import dev_company


def _ci(text: str, whole: bool = True) -> re.Pattern:
    """Case-insensitive: the dev registries, like Brønnøysund, write names and places in capitals."""
    return re.compile(("^" + re.escape(text) + "$") if whole else re.escape(text), re.I)


def _arrow_to(page, box, org_number: str) -> str:
    """Press ArrowDown until the highlighted suggestion is the one for ``org_number``; its id."""
    options = page.locator("#registry-listbox [role=option]")
    expect(options.filter(has_text=org_number)).to_have_count(1)
    target = options.filter(has_text=org_number).get_attribute("id")
    for _ in range(options.count()):
        box.press("ArrowDown")
        if box.get_attribute("aria-activedescendant") == target:
            break
    expect(box).to_have_attribute("aria-activedescendant", target)
    expect(page.locator(f"#{target}")).to_have_attribute("aria-selected", "true")
    return target


def test_plus_new_company_search_with_the_keyboard_and_create_with_a_subunit(page):
    c = dev_company(1)
    branch = next(s for s in c["subs"] if s["name"] != c["name"])
    login(page)

    page.get_by_role("link", name="+ New company").click()
    dialog = page.locator("#new-company-dialog")
    expect(dialog).to_be_visible()
    box = dialog.get_by_role("combobox", name="Search the company registries")
    expect(box).to_be_focused()
    for code in ("NO", "SE", "DK", "GB"):
        expect(dialog.locator(f"input[name=countries][value={code}]")).to_be_checked()

    box.press_sequentially("a", delay=30)
    expect(dialog.locator("#registry-results")).to_contain_text("Type at least 2 characters")
    box.fill("")
    box.press_sequentially(c["name"], delay=25)
    expect(dialog.get_by_role("listbox")).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")

    _arrow_to(page, box, c["org_number"])
    box.press("Enter")  # in the dialog a pick opens the new-company page, filled in
    expect(page).to_have_url(re.compile(r"/registry/pick\?country=NO&org_number=" + c["org_number"]))

    form = page.locator("#company-form")
    expect(form.locator("input[name=name]")).to_have_value(_ci(c["name"]))  # Brønnøysund writes in capitals
    expect(form.locator("input[name=org_number]")).to_have_value(c["org_number"])
    expect(form.locator("input[name=legal_form]")).to_have_value("AS")
    expect(form.locator("input[name='addresses.visiting.city']")).to_have_value(_ci(c["visiting"]["city"]))
    expect(form.locator("input[name=name]")).to_be_editable()  # everything stays editable

    subunits = form.locator("#subunits")
    expect(subunits.locator("input[name=subunit]")).to_have_count(len(c["subs"]))
    subunits.get_by_role("button", name="Select all").click()
    for box_ in subunits.locator("input[name=subunit]").all():
        expect(box_).to_be_checked()
    subunits.get_by_role("button", name="Select none").click()
    for box_ in subunits.locator("input[name=subunit]").all():
        expect(box_).not_to_be_checked()
    subunits.locator("li", has_text=branch["org_number"]).locator("input[name=subunit]").check()

    form.get_by_role("button", name="Create company").click()
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))
    parent_url = page.url
    expect(page.locator("main")).to_contain_text(c["org_number"])

    # the ticked sub-unit is a child company whose card names the parent
    page.goto(f"/companies?q={branch['org_number']}")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    rows.first.locator("a", has_text=_ci(branch["name"], whole=False)).first.click()
    expect(page.locator("main")).to_contain_text(branch["org_number"])
    parent_link = page.locator("main a", has_text=_ci(c["name"], whole=False)).filter(has_not_text=re.compile("avd", re.I))
    expect(parent_link.first).to_have_attribute("href", urlparse(parent_url).path)


def test_new_company_page_pick_fills_the_form_in_place_and_escape_closes_the_list(page):
    c = dev_company(2)
    login(page)
    page.goto("/companies/new")
    box = page.get_by_role("combobox", name="Search the company registries")
    expect(box).to_be_focused()

    # unticking Norway drops it from the search
    with page.expect_response(lambda r: "/registry/suggest" in r.url and "countries=NO" not in r.url):
        page.locator("input[name=countries][value=NO]").uncheck()
    with page.expect_response(lambda r: "/registry/suggest" in r.url and "q=" in r.url and "countries=NO" not in r.url):
        box.press_sequentially(c["name"], delay=25)
    expect(page.locator("#registry-results")).not_to_contain_text(c["org_number"])
    page.locator("input[name=countries][value=NO]").check()
    expect(page.locator("#registry-listbox [role=option]", has_text=c["org_number"])).to_have_count(1)

    box.press("Escape")
    expect(page.locator("#registry-listbox")).to_be_hidden()
    box.press_sequentially(" ", delay=10)  # typing again brings the list back
    expect(page.locator("#registry-listbox [role=option]", has_text=c["org_number"])).to_have_count(1)

    _arrow_to(page, box, c["org_number"])
    box.press("Enter")  # on this page the pick fills the form below, in place
    form = page.locator("#company-form")
    expect(form.locator("input[name=name]")).to_have_value(_ci(c["name"]))
    expect(page).to_have_url(re.compile(r"/registry/pick\?"))
    expect(page.locator("#registry-listbox")).to_be_hidden()
    expect(form).to_contain_text("Filled in from Brønnøysund Register Centre")

    form.locator("input[name=name]").fill(c["name"] + " (edited)")  # everything stays editable
    form.locator("#subunits").get_by_role("button", name="Select all").click()
    form.get_by_role("button", name="Create company").click()
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))
    expect(page.locator("main")).to_contain_text(c["name"] + " (edited)")
