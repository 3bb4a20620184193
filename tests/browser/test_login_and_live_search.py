"""A real browser (Debian's Chromium, driven by Playwright) against the running suite."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.ui import login
from tests.conftest import ADMIN_EMAIL


def test_log_in_and_search_live_with_history(page):
    login(page)
    rows = page.locator("#results tbody tr")
    expect(rows.first).to_be_visible()
    box = page.get_by_role("searchbox", name="Search companies")
    box.press_sequentially("ostf", delay=40)
    expect(page).to_have_url(re.compile(r"q=ostf"))
    expect(rows.first).to_contain_text("Østfold")
    for i in range(rows.count()):
        expect(rows.nth(i)).to_contain_text("Østfold")
    box.fill("zzzzqqq")  # one input event: one history entry (typing would push one per pause, as a person's does)
    expect(page.locator("#results")).to_contain_text("No companies")
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=ostf$"))
    expect(rows.first).to_contain_text("Østfold")
    page.reload()
    expect(rows.first).to_contain_text("Østfold")


def test_wrong_password_shows_a_message_where_the_user_typed(page):
    page.goto("/login")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("Wrong e-mail or password")
    expect(page.locator("input[name=email]")).to_have_value(ADMIN_EMAIL)
