"""The app with the keyboard only (issue 15), in a real browser (Debian's Chromium, Playwright)
against the running suite: no clicks, no mouse, no page.fill: keys typed and pressed, as a
keyboard user (or a screen-reader user) does. After each step the test asserts where focus is
(document.activeElement) and what the page's one live region (#announcer) says.

The rule under test (README, "Focus and announcements"): a form that opens puts focus on its first
field, a form back with errors on its first invalid field, a form that closes (saved or cancelled)
on the control that opened it; Escape cancels; a swapped fragment's data-announce is read out."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.registry_picks import dev_company

FOCUSED = """() => { const a = document.activeElement;
  return {id: a.id || '', tag: a.tagName, name: a.getAttribute('name') || '', value: a.value === undefined ? '' : String(a.value),
          role: a.getAttribute('role') || '', label: a.getAttribute('aria-label') || '', cls: a.className || '',
          text: (a.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 80)}; }"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def press_until(page, key: str, test, limit: int = 80) -> dict:
    """Press ``key`` (Tab, Shift+Tab, an arrow) until the focused element passes ``test``."""
    for _ in range(limit):
        now = focused(page)
        if test(now):
            return now
        page.keyboard.press(key)
    raise AssertionError(f"{key} ×{limit} never reached the element; focus is on {focused(page)}")


def expect_focus(page, **want) -> dict:
    """Wait (htmx settles after a swap) until the focused element has these properties."""
    page.wait_for_function(
        """want => { const a = document.activeElement; return Object.entries(want).every(([k, v]) =>
             k === 'name' ? a.getAttribute('name') === v : k === 'label' ? a.getAttribute('aria-label') === v :
             k === 'value' ? String(a.value) === v : a[k] === v); }""", arg=want, timeout=10_000)
    return focused(page)


def test_a_day_with_the_keyboard_only(page):
    announcer = page.locator("#announcer")

    # --- log in: Tab to the e-mail field (the skip link comes first), the password, Enter submits
    page.goto("/companies")
    expect(page).to_have_url(re.compile(r"/login"))
    press_until(page, "Tab", lambda f: f["name"] == "email", 10)
    page.keyboard.type(ADMIN_EMAIL)
    page.keyboard.press("Tab")
    expect_focus(page, name="password")
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"^[^?]*/companies$"))

    # --- the overview opens in its search box; live search says how many it found
    expect_focus(page, id="search-q")
    expect(page.locator("#filter-panel .facet-count").first).to_be_visible()  # the panel's counts arrived
    page.keyboard.type("berg", delay=40)
    expect(page).to_have_url(re.compile(r"q=berg"))
    expect(announcer).to_have_text(re.compile(r"^\d+ compan(y|ies) matching “berg”$"))
    expect_focus(page, id="search-q")  # typing never loses its place
    page.wait_for_load_state("networkidle")  # the filter panel's counts for "berg" are in

    # --- tick a filter: focus stays on the checkbox when the panel is re-rendered with new counts
    press_until(page, "Shift+Tab", lambda f: f["name"] == "relationship" and f["value"] == "customer")
    page.evaluate("document.getElementById('filter-panel').dataset.before = '1'")  # to see the re-render
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"relationship=customer"))
    expect(page.locator("#filter-panel:not([data-before])")).to_have_count(1)  # re-rendered
    expect_focus(page, name="relationship", value="customer")
    expect(announcer).to_have_text(re.compile(r"compan(y|ies) matching “berg”"))
    page.wait_for_load_state("networkidle")

    # open a closed section, untick: after the re-render the section is still open, focus where it was
    credit = page.locator("details[data-key=credit_band]")
    expect(credit).not_to_have_attribute("open", "")
    press_until(page, "Tab", lambda f: f["tag"] == "SUMMARY" and "Credit rating" in f["text"])
    page.keyboard.press("Enter")
    expect(credit).to_have_attribute("open", "")
    press_until(page, "Shift+Tab", lambda f: f["name"] == "relationship" and f["value"] == "customer")
    page.evaluate("document.getElementById('filter-panel').dataset.before = '1'")
    page.keyboard.press("Space")
    expect(page).not_to_have_url(re.compile(r"relationship=customer"))
    expect(page.locator("#filter-panel:not([data-before])")).to_have_count(1)
    expect(credit).to_have_attribute("open", "")
    expect_focus(page, name="relationship", value="customer")

    # --- open a company: "/" jumps to the search, Tab walks to the first company in the list
    page.keyboard.press("/")
    expect_focus(page, id="search-q")
    link = press_until(page, "Tab", lambda f: f["tag"] == "A" and bool(
        page.evaluate("document.activeElement.closest('#results td.name-cell') !== null")))
    # a focused link in the sideways-scrolling table is fully in view
    inside = page.evaluate("""() => { const a = document.activeElement.getBoundingClientRect();
        const w = document.activeElement.closest('.table-scroll').getBoundingClientRect();
        return a.left >= w.left - 1 && a.right <= w.right + 1; }""")
    assert inside, "the focused company link is scrolled out of the table's view"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))
    expect(page.locator("main")).to_contain_text(link["text"])

    # --- the skip link is the first Tab stop; it moves focus to <main>
    page.keyboard.press("Tab")
    expect_focus(page, className="skip-link")
    expect(page.locator(".skip-link")).to_be_in_viewport()  # shown when it has focus
    page.keyboard.press("Enter")
    expect_focus(page, id="main")
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")

    # --- edit a box: the form opens on its first field
    edit = press_until(page, "Tab", lambda f: f["label"] == "Edit general")
    page.keyboard.press("Enter")
    expect_focus(page, id="gen-name")
    # an error: focus on the first invalid field (not the first field)
    press_until(page, "Tab", lambda f: f["id"] == "gen-email")
    page.keyboard.press("Control+A")
    page.keyboard.type("not-an-email")
    page.keyboard.press("Enter")
    expect(page.locator("#gen-email-err")).to_be_visible()
    expect_focus(page, id="gen-email")
    expect(page.locator("#gen-email")).to_have_attribute("aria-invalid", "true")
    # fixed and saved: focus back on the Edit button, the live region says so
    page.keyboard.press("Control+A")
    page.keyboard.type("post@keyboard-only.no")
    page.keyboard.press("Enter")
    expect(page.locator("#box-general")).to_contain_text("post@keyboard-only.no")
    expect_focus(page, label=edit["label"])
    expect(announcer).to_have_text("Saved")
    # Escape cancels an edit and returns to the Edit button
    page.keyboard.press("Enter")
    expect_focus(page, id="gen-name")
    page.keyboard.press("Escape")
    expect(page.locator("#gen-name")).to_have_count(0)
    expect_focus(page, label="Edit general")
    # the box is labelled by its heading
    expect(page.locator("#box-general")).to_have_attribute("aria-labelledby", "box-general-title")
    expect(page.locator("#box-general-title")).to_have_text("General")

    # --- the record tabs: one Tab stop, arrow keys move, Enter opens
    tab = press_until(page, "Tab", lambda f: f["role"] == "tab")
    tabs = page.locator("#records [role=tab]")
    ids = [tabs.nth(i).get_attribute("id") for i in range(tabs.count())]
    assert len(ids) > 2
    assert page.locator("#records [role=tab][tabindex='0']").count() == 1
    expect(page.locator(f"#{tab['id']}")).to_have_attribute("aria-selected", "true")
    start = ids.index(tab["id"])
    page.keyboard.press("ArrowRight")
    expect_focus(page, id=ids[(start + 1) % len(ids)])
    page.keyboard.press("End")
    expect_focus(page, id=ids[-1])
    page.keyboard.press("Home")
    expect_focus(page, id=ids[0])
    page.keyboard.press("ArrowLeft")  # wraps around
    expect_focus(page, id=ids[-1])
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    target = ids[1]
    page.keyboard.press("Enter")  # manual activation: Enter (or Space) opens the focused tab
    expect(page).to_have_url(re.compile(r"tab=" + target.removeprefix("tab-")))
    expect(page.locator(f"#{target}")).to_have_attribute("aria-selected", "true")
    expect(page.locator(f"#{target}")).to_have_attribute("tabindex", "0")
    expect_focus(page, id=target)
    page.keyboard.press("Tab")  # out of the tab list in one step: into the panel
    assert page.evaluate("document.activeElement.getAttribute('role')") != "tab"

    # --- add a company from the registry dialog with arrow keys and Enter
    c = dev_company(6)
    page.goto("/companies")
    expect_focus(page, id="search-q")
    page.keyboard.press("Shift+Tab")
    expect_focus(page, className="button primary")  # "+ New company"
    page.keyboard.press("Enter")
    expect(page.locator("#new-company-dialog")).to_be_visible()
    expect_focus(page, id="registry-q")
    page.keyboard.type(c["name"], delay=25)
    option = page.locator("#registry-listbox [role=option]", has_text=c["org_number"])
    expect(option).to_have_count(1)
    expect(announcer).to_have_text(re.compile(r"^\d+ suggestions? found\.$"))
    assert page.locator("#registry-listbox [role=option] a, #registry-listbox [role=option] button").count() == 0
    expect(page.locator("#registry-listbox")).to_have_attribute("tabindex", "-1")  # not a Tab stop
    combobox = page.locator("#registry-q")
    press_until(page, "ArrowDown", lambda f: combobox.get_attribute("aria-activedescendant") == option.get_attribute("id"), 12)
    expect_focus(page, id="registry-q")  # the input keeps focus; the highlight moves
    expect(option).to_have_attribute("aria-selected", "true")
    # Escape closes one level: first the list, then the dialog (focus back on "+ New company")
    page.keyboard.press("Escape")
    expect(page.locator("#registry-listbox")).to_be_hidden()
    expect(page.locator("#new-company-dialog")).to_be_visible()
    expect(combobox).to_have_value(c["name"])
    page.keyboard.press("Escape")
    expect(page.locator("#new-company-dialog")).to_be_hidden()
    expect_focus(page, className="button primary")
    page.keyboard.press("Enter")
    expect_focus(page, id="registry-q")
    page.keyboard.type(" ")  # typing again brings the list back
    expect(option).to_have_count(1)
    press_until(page, "ArrowDown", lambda f: combobox.get_attribute("aria-activedescendant") == option.get_attribute("id"), 12)
    page.keyboard.press("Enter")  # picks: the new-company page, filled in, focus on its first field
    expect(page).to_have_url(re.compile(r"/registry/pick\?country=NO&org_number=" + c["org_number"]))
    expect_focus(page, id="new-name")
    expect(page.locator("#new-org_number")).to_have_value(c["org_number"])
    page.keyboard.press("Enter")  # Enter in a field submits the form
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))
    expect(page.locator("main")).to_contain_text(c["org_number"])
