"""The overview's filter panel, sorting and saved views in a real browser."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.ui import login


def test_filter_sort_and_save_a_view(page):
    login(page)
    customer = page.get_by_role("checkbox", name=re.compile(r"^Customer"))
    expect(page.locator("#filter-panel .facet-count").first).to_be_visible()  # counts arrive after the list
    customer.check()
    expect(page).to_have_url(re.compile(r"relationship=customer"))
    expect(page.locator("#results tbody .badge.rel-customer").first).to_be_visible()
    expect(page.locator("#results tbody .badge:not(.rel-customer)")).to_have_count(0)
    page.get_by_role("link", name=re.compile(r"Unresolved\s+tasks", re.I)).click()
    expect(page).to_have_url(re.compile(r"sort=-unresolved_tasks"))
    header = page.locator("#results thead th", has_text=re.compile(r"Unresolved\s+tasks", re.I))
    expect(header).to_have_attribute("aria-sort", "descending")  # the sorted table has arrived
    column = page.locator("#results thead th").all_inner_texts().index(header.inner_text()) + 1
    counts = [int(t) for t in page.locator(f"#results tbody tr td:nth-child({column})").all_inner_texts()]
    assert len(counts) > 1, "no rows"
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1], counts  # really sorted, by this column
    page.get_by_text("Save this view…").click()
    page.locator("input[name=name]").last.fill("Kunder med oppgaver")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("link", name="Kunder med oppgaver")).to_be_visible()
    page.goto("/companies")
    page.get_by_role("link", name="Kunder med oppgaver").click()
    expect(page).to_have_url(re.compile(r"relationship=customer"))
    expect(page.get_by_role("checkbox", name=re.compile(r"^Customer"))).to_be_checked()
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"relationship="))
