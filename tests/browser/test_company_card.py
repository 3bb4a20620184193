"""The company card in a real browser: edit in place, records, counts, logo, .ics."""
from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import expect

from tests.browser.ui import login

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@pytest.fixture
def card(page, tmp_path):
    login(page)
    page.get_by_role("searchbox", name="Search companies").press_sequentially("berg", delay=30)
    expect(page).to_have_url(re.compile(r"q=berg"))
    page.locator("#results tbody tr").first.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))
    return page


def test_edit_general_in_place_with_inline_validation(card):
    box = card.locator("#box-general")
    box.get_by_role("button", name="Edit").click()
    card.fill("#gen-email", "not-an-email")
    box.get_by_role("button", name=re.compile("Save")).click()
    expect(card.locator("#gen-email-err")).to_be_visible()
    expect(card.locator("#gen-email")).to_have_value("not-an-email")  # nothing lost
    card.fill("#gen-email", "post@bergen-bemanning.no")
    card.fill("#gen-employees", "42")
    box.get_by_role("button", name=re.compile("Save")).click()
    expect(box).to_contain_text("post@bergen-bemanning.no")
    expect(box).to_contain_text("42")
    card.reload()
    expect(card.locator("#box-general")).to_contain_text("post@bergen-bemanning.no")
    card.locator("#tab-history").click()
    expect(card.locator("#records")).to_contain_text("post@bergen-bemanning.no")


def test_a_new_task_counts_as_unresolved_until_done(card):
    count = card.locator("#count-unresolved_tasks")
    before = int(count.inner_text())
    card.locator("#tab-tasks").click()
    card.get_by_role("button", name="+ Add task").click()
    card.fill("#task-new-title", "Ring tilbake om vårsesongen")
    card.get_by_role("button", name="Add task").click()
    expect(card.locator("#records")).to_contain_text("Ring tilbake om vårsesongen")
    expect(count).to_have_text(str(before + 1))
    card.get_by_label("Done: Ring tilbake om vårsesongen").check()
    expect(count).to_have_text(str(before))


def test_logo_upload_is_checked_by_content(card, tmp_path):
    fake = tmp_path / "logo.png"
    fake.write_text("<html><script>alert(1)</script></html>")
    card.set_input_files("#logo-file", str(fake))
    card.locator("#box-logo").get_by_role("button", name="Upload", exact=True).click()
    expect(card.locator("#logo-err")).to_contain_text("web page, not an image")
    real = tmp_path / "renamed.jpg"
    real.write_bytes(PNG_1PX)
    card.set_input_files("#logo-file", str(real))
    card.locator("#box-logo").get_by_role("button", name="Upload", exact=True).click()
    expect(card.locator("#card-head img.logo-lg")).to_be_visible()


def test_book_a_meeting_and_download_the_invite(card):
    card.locator("#tab-meetings").click()
    card.get_by_role("button", name="+ Book meeting").click()
    card.fill("#meeting-new-title", "Avtalemøte")
    card.fill("#meeting-new-starts_at", "2026-12-03T10:00")
    card.get_by_role("button", name="Book meeting", exact=True).click()
    expect(card.locator("#records")).to_contain_text("Avtalemøte")
    with card.expect_download() as info:
        card.get_by_role("link", name=re.compile(r"\.ics")).first.click()
    content = open(info.value.path(), encoding="utf-8").read()
    assert "BEGIN:VCALENDAR" in content and "Avtalem" in content
