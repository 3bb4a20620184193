"""Selection in the overview and bulk edits (issue 7) in a real browser, against the
running suite: rows picked on two pages, a tag added to them, the facet count; all
companies matching a filter of a few thousand, their relationship changed, then undone."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from tests.browser.ui import login

TAG = "bulk-e2e"
SLOW = 20_000  # ms: the counts, the job, a busy shared machine


def _crm_engine(suite):
    return create_engine(f"sqlite:///{Path(suite.env['CRM_DATA_DIR']) / 'crm.sqlite3'}",
                         connect_args={"timeout": 30})


@pytest.fixture(scope="module")
def big_book(suite):
    """A few thousand more companies in the suite's book (tenant 1), written straight into its database."""
    from sqlalchemy import insert

    from crm import collation, demo
    from crm.models import Company, CompanyWord
    from service_common import text as folding

    engine = _crm_engine(suite)
    with Session(engine) as s:
        if s.scalar(text("SELECT count(*) FROM companies")) < 5000:
            lang = collation.tenant_language(s, 1)  # issue 13: the name's collation key, as the crm writes it
            rows = [{**r, "org_number": None, "tenant_id": 1, "sort_name": collation.key(r["name"], lang)}
                    for r in demo.generate(6000, 71)]  # no org numbers: never clash with the demo's
            first = s.scalar(text("SELECT coalesce(max(id), 0) FROM companies")) + 1
            s.execute(insert(Company), [{**r, "id": first + i} for i, r in enumerate(rows)])
            s.execute(insert(CompanyWord), [{"tenant_id": 1, "word": w, "company_id": first + i}
                                            for i, r in enumerate(rows) for w in folding.company_words(r["name"], None)])
            s.commit()
    yield engine
    engine.dispose()


def relationships(engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT id, relationship FROM companies WHERE tenant_id = 1")).all())


def tag_count(page) -> str:
    label = page.locator("#filter-panel label").filter(has=page.locator(".facet-label", has_text=re.compile(f"^{TAG}$")))
    return label.locator(".facet-count").text_content().strip().replace(",", "") if label.count() else "0"


def wait_page(page, n: int) -> None:
    expect(page.locator(".pager .current")).to_have_text(str(n))


def test_pick_rows_on_two_pages_and_add_a_tag(page):
    login(page)
    expect(page.locator("#filter-panel .facet-count").first).to_be_visible(timeout=SLOW)
    before = int(tag_count(page))
    rows = page.locator("#results tbody tr")
    picked = []
    for i in range(3):
        rows.nth(i).locator("input.row-select").check()
        picked.append(rows.nth(i).locator(".name-cell a").inner_text())
    bar = page.locator("#bulk-bar")
    expect(bar).to_be_visible()
    expect(bar.locator("[data-bulk-count]")).to_have_text("3")
    page.locator(".pager").get_by_role("link", name="3", exact=True).click()
    wait_page(page, 3)
    expect(bar.locator("[data-bulk-count]")).to_have_text("3")  # the selection survives paging
    rows.nth(0).locator("input.row-select").check()
    picked.append(rows.nth(0).locator(".name-cell a").inner_text())
    rows.nth(4).locator(".name-cell a").focus()  # keyboard: space toggles the focused row
    page.keyboard.press(" ")
    expect(rows.nth(4).locator("input.row-select")).to_be_checked()
    picked.append(rows.nth(4).locator(".name-cell a").inner_text())
    expect(bar.locator("[data-bulk-count]")).to_have_text("5")
    page.go_back()
    wait_page(page, 1)
    expect(page.locator("#results tbody input.row-select:checked")).to_have_count(3)  # and the back button

    bar.get_by_role("button", name="Add tags").click()
    dialog = page.locator("#bulk-modal")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("5 companies selected")
    dialog.locator("#bulk-tags").fill(TAG)
    dialog.get_by_role("button", name="Add tags").click()
    expect(dialog.locator(".bulk-result")).to_contain_text("Changed 5 companies", timeout=SLOW)
    dialog.get_by_role("button", name="Close").last.click()
    expect(dialog).to_be_hidden()
    page.wait_for_function(f"() => document.querySelector('#filter-panel') && "
                           f"Array.from(document.querySelectorAll('#filter-panel label')).some("
                           f"l => l.textContent.includes('{TAG}') && l.textContent.includes('{before + 5}'))", timeout=SLOW)
    assert int(tag_count(page)) == before + 5
    page.locator("#filter-panel summary", has_text=re.compile(r"^Tags")).click()
    page.locator("#filter-panel label").filter(has_text=TAG).locator("input").check()
    expect(page).to_have_url(re.compile(f"tag={TAG}"))
    expect(page.locator("#results tbody tr")).to_have_count(before + 5, timeout=SLOW)
    shown = page.locator("#results tbody .name-cell a").all_inner_texts()
    assert set(picked) <= set(shown)
    expect(page.locator("#bulk-bar [data-bulk-prompt]")).to_be_visible()  # the filters changed: keep or clear?
    page.locator("#bulk-bar [data-bulk-prompt]").get_by_role("button", name="Keep the selection").click()
    expect(page.locator("#bulk-bar [data-bulk-prompt]")).to_be_hidden()
    expect(page.locator("#results tbody input.row-select:checked")).to_have_count(5)
    page.locator("body").press("Escape")  # Escape clears
    expect(bar).to_be_hidden()
    expect(page.locator("#results tbody input.row-select:checked")).to_have_count(0)


def test_all_matching_a_filter_change_relationship_then_undo(page, big_book):
    before = relationships(big_book)
    matching = sum(1 for r in before.values() if r in ("prospect", "suspect"))
    assert matching > 1000, matching  # a few thousand: applied as a job the page follows
    login(page)
    page.goto("/companies?relationship=prospect&relationship=suspect")
    expect(page.locator("#results .count")).to_contain_text(f"{matching:,} companies", timeout=SLOW)
    page.locator("#select-page").check()
    bar = page.locator("#bulk-bar")
    bar.get_by_role("button", name=re.compile(r"Select all .* matching")).click()
    expect(bar.locator("[data-bulk-count]")).to_have_text(f"{matching:,}")
    page.locator(".pager").get_by_role("link", name="2", exact=True).click()
    wait_page(page, 2)
    expect(page.locator("#results tbody input.row-select:checked")).to_have_count(50)  # every row of the filter
    bar.get_by_role("button", name="Change relationship").click()
    dialog = page.locator("#bulk-modal")
    expect(dialog).to_contain_text(f"{matching:,} companies selected")
    dialog.locator("#bulk-relationship").select_option("partner")
    dialog.get_by_role("button", name="Change relationship").click()
    expect(dialog).to_contain_text(f"This changes {matching:,} companies")  # confirmation above 50, with names
    expect(dialog.locator(".bulk-sample li")).to_have_count(6)
    dialog.get_by_role("button", name=f"Yes, change {matching:,} companies").click()
    expect(dialog.locator(".bulk-result")).to_contain_text(f"Changed {matching:,} companies", timeout=60_000)
    after = relationships(big_book)
    assert sum(1 for r in after.values() if r in ("prospect", "suspect")) == 0
    expect(page.locator("#results .count")).to_contain_text("No companies", timeout=SLOW)  # the list followed
    dialog.get_by_role("button", name="Undo").click()
    expect(dialog.locator(".bulk-result")).to_contain_text(f"Restored {matching:,} companies", timeout=60_000)
    assert relationships(big_book) == before  # every company back as it was
    dialog.get_by_role("button", name="Close").last.click()
    expect(page.locator("#results .count")).to_contain_text(f"{matching:,} companies")
    bar.locator("[data-bulk-clear]").first.click()
    expect(bar).to_be_hidden()
