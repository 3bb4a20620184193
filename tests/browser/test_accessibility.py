"""Accessibility (issue 15): axe-core audits every kind of page and state of the app in a real browser
(Debian's Chromium, Playwright) against the running suite, and each must have 0 WCAG 2.2 A/AA violations.

axe-core comes from the npm registry (gateway/package.json, a devDependency installed by `make install`);
the app never serves it. It is injected with ``page.add_init_script``: Chromium runs init scripts through
the DevTools protocol, outside the page's Content-Security-Policy, so the app keeps its strict CSP
(script-src 'self') during the audit and the ``page`` fixture still fails a test on any CSP violation.
(``add_script_tag`` would add an inline <script> the CSP refuses; ``bypass_csp=True`` would switch the
CSP off and hide the app's own violations.) An init script also survives full-page navigations.

Each test audits several pages and states, collects every violation and fails once at the end with all
of them (rule, what to do, the nodes), so one run lists everything that needs fixing."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.test_mail import _companies as mail_companies, _open_compose as open_compose
from tests.browser.ui import login
from tests.conftest import ROOT
from tests.registry_picks import dev_company

AXE = ROOT / "gateway" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN_AXE = """async tags => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                              summary: (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 240)}))}));
}"""


class Audit:
    """Runs axe on the page as it is now and keeps what it found, page by page."""

    def __init__(self, page):
        self.page = page
        self.found: list[tuple[str, dict]] = []

    def __call__(self, where: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        page.wait_for_function("() => window.axe && !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
        page.wait_for_timeout(250)  # CSS transitions (the indicators fade) end before colours are measured
        for violation in page.evaluate(RUN_AXE, TAGS):
            self.found.append((where, violation))

    def report(self) -> str:
        lines = []
        for where, v in self.found:
            lines.append(f"[{where}] {v['id']} ({v['impact']}): {v['help']}")
            for node in v["nodes"]:
                lines.append(f"    {node['target']}  {node['html']}")
                if node["summary"]:
                    lines.append(f"        {node['summary']}")
        return "\n".join(lines)

    def check(self) -> None:
        assert not self.found, f"{len(self.found)} axe violation(s) of WCAG 2.2 A/AA:\n{self.report()}"


@pytest.fixture
def audit(page):
    if not AXE.exists():  # a missing audit tool is a failure, never a skip
        pytest.fail(f"axe-core is not installed: {AXE} is missing. Run `make install` (npm install in gateway/ "
                    "installs gateway/package.json's devDependencies).")
    page.add_init_script(path=str(AXE))
    a = Audit(page)
    yield a
    a.check()


def _card(page) -> None:
    page.get_by_role("searchbox", name="Search companies").press_sequentially("berg", delay=30)
    expect(page).to_have_url(re.compile(r"q=berg"))
    page.locator("#results tbody tr").first.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))


def test_login_pages(page, audit):
    page.goto("/login")
    audit("login")
    page.fill("input[name=email]", "nobody@example.com")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_be_visible()
    audit("login, wrong password")


def test_overview_filters_live_search_saved_view_and_selection_bar(page, audit):
    login(page)
    expect(page.locator("#filter-panel .facet-count").first).to_be_visible()  # counts arrive after the list
    page.evaluate("() => document.querySelectorAll('#filter-panel details').forEach(d => d.open = true)")
    audit("overview, filter panel open")

    page.get_by_role("searchbox", name="Search companies").press_sequentially("berg", delay=30)
    expect(page).to_have_url(re.compile(r"q=berg"))
    expect(page.locator("#results tbody tr").first).to_be_visible()
    audit("overview, after a live search")

    page.get_by_text("Save this view…").click()
    page.locator("#saved-views input[name=name]").fill("Berg a11y")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("link", name="Berg a11y")).to_be_visible()
    audit("overview, a saved view with its Delete button")

    page.locator("#results tbody tr").first.locator("input.row-select").check()
    expect(page.locator("#bulk-bar")).to_be_visible()
    audit("overview, bulk selection bar")

    page.locator("#bulk-bar").get_by_role("button", name="Excel report").click()
    expect(page.locator("#bulk-modal")).to_be_visible()
    expect(page.locator("#bulk-modal input[name=columns]").first).to_be_visible()
    audit("export dialog")
    page.locator("#bulk-modal").get_by_role("button", name="Create report").click()
    expect(page.locator("#bulk-modal").get_by_role("link", name=re.compile(r"Download"))).to_be_visible(timeout=60_000)
    audit("export dialog, the file ready")
    page.keyboard.press("Escape")
    expect(page.locator("#bulk-modal")).to_be_hidden()

    page.locator("#bulk-bar").get_by_role("button", name="E-mail").click()
    expect(page.locator("#bulk-modal #mail-compose")).to_be_visible(timeout=30_000)
    audit("e-mail compose dialog")


def test_email_compose_with_recipients_preview_and_errors(page, audit, suite):
    tag = uuid.uuid4().hex[:8]
    mail_companies(suite, tag)  # two companies with contacts that have e-mail addresses (tests/browser/test_mail.py)
    login(page)
    dialog = open_compose(page, tag)
    audit("e-mail compose dialog with recipients")
    dialog.get_by_role("button", name=re.compile(r"^Send to")).click()  # no subject, no message
    expect(dialog.locator(".field-error").first).to_be_visible(timeout=30_000)
    audit("e-mail compose dialog with errors")
    dialog.locator("#mail-subject").fill("Hei {{ first_name }}")
    dialog.locator("#mail-body").fill("Hei {{ first_name }} i {{ company_name }}!")
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.locator("[data-preview-subject]")).to_have_text(re.compile(r"^Hei"), timeout=30_000)
    audit("e-mail compose dialog, preview")


def test_company_card_tabs_and_box_states(page, audit):
    login(page)
    _card(page)
    audit("company card")
    tabs = page.locator("#records [role=tab]")
    ids = [tabs.nth(i).get_attribute("id") for i in range(tabs.count())]
    assert ids, "no record tabs on the card"
    for tab_id in ids:
        page.locator(f"#{tab_id}").click()
        expect(page.locator(f"#{tab_id}")).to_have_attribute("aria-selected", "true")
        audit(f"company card, tab {tab_id}")

    box = page.locator("#box-general")
    box.get_by_role("button", name="Edit").click()
    expect(page.locator("#gen-name")).to_be_visible()
    audit("company card, General box editing")
    page.fill("#gen-name", "")
    box.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator("#gen-name-err")).to_be_visible()
    audit("company card, General box with an error")


def test_new_company_dialog_with_registry_suggestions(page, audit):
    c = dev_company(3)
    login(page)
    page.get_by_role("link", name="+ New company").click()
    dialog = page.locator("#new-company-dialog")
    expect(dialog).to_be_visible()
    audit("new-company dialog")
    box = dialog.get_by_role("combobox", name="Search the company registries")
    box.press_sequentially(c["name"], delay=25)
    expect(page.locator("#registry-listbox [role=option]", has_text=c["org_number"])).to_have_count(1)
    box.press("ArrowDown")
    audit("new-company dialog, registry suggestions")


def test_admin_pages_and_the_coworker_form_with_errors(page, audit):
    login(page)
    page.goto("/admin/users")
    audit("admin: coworkers")
    page.fill("#coworker-email", "not-an-address")
    page.fill("#coworker-password", "short")
    page.get_by_role("button", name="Add coworker").click()
    expect(page.locator("#coworker-name-err")).to_have_text("Name is required.")  # words, not the validator's
    expect(page.locator("#coworker-name")).to_be_focused()  # the first field in error, not the top of the page
    expect(page.locator("#coworker-name")).to_have_attribute("aria-describedby", "coworker-name-err")
    expect(page.locator("#coworker-email")).to_have_value("not-an-address")  # nothing typed is lost
    audit("admin: coworkers, Add coworker form with errors")
    page.locator("#coworkers a").first.click()
    expect(page.locator("#coworker-form")).to_be_visible()
    audit("admin: a coworker")
    for url, name in [("/admin/departments", "departments"), ("/admin/attributes", "attributes"),
                      ("/admin/api-clients", "API clients"), ("/admin/security", "security"),
                      ("/admin/credit", "credit monitoring settings")]:
        page.goto(url)
        audit(f"admin: {name}")


def test_account_pages(page, audit):
    login(page)
    for url, name in [("/account", "account"), ("/account/password", "change password")]:
        page.goto(url)
        audit(name)
    page.fill("input[name=current]", "wrong-current-password")
    page.fill("input[name=new]", "short")
    page.fill("input[name=confirm]", "other")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".field-error").first).to_be_visible()
    audit("change password with errors")
    page.goto("/account/2fa")
    expect(page.locator("#totp-qr svg")).to_be_visible()
    audit("two-factor set-up")


def test_exports_mail_and_notifications_pages(page, audit):
    login(page)
    for url, name in [("/exports", "exports list"), ("/mail/campaigns", "e-mail campaigns"),
                      ("/mail/templates", "e-mail templates"), ("/notifications", "notifications")]:
        page.goto(url)
        audit(name)
