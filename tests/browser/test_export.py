"""Excel/CSV reports (issue 8) in a real browser against the running suite: select every company
matching a filter, "Excel report", watch the progress bar, download, open the file; the same as
CSV; Cancel stops a running export; My exports lists them."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.browser.ui import login


EMAIL, PASSWORD = "browser-export@example.com", "browser-export-password-1"


@pytest.fixture(scope="module")
def big_book(suite):
    """A tenant of its own with 5,000 companies (so an export takes a moment), written straight into the
    suite's crm database; its admin logs in. Other tests' data is not touched."""
    from crm import demo
    from crm.auth import hasher
    from crm.models import Tenant, User

    engine = create_engine(f"sqlite:///{Path(suite.env['CRM_DATA_DIR']) / 'crm.sqlite3'}", connect_args={"timeout": 30})
    with Session(engine) as s:
        tenant = Tenant(name="Browser Export Agency", currency="NOK")
        s.add(tenant)
        s.flush()
        user = User(tenant_id=tenant.id, email=EMAIL, name="Bea Browser", password_hash=hasher.hash(PASSWORD),
                    role="admin", active=True)
        if hasattr(User, "must_change_password"):
            user.must_change_password = False
        s.add(user)
        s.commit()
        demo.load(s, tenant.id, 5000, seed=29)
        tenant_id = tenant.id
    yield engine, tenant_id
    engine.dispose()


def count_of(book, where: str = "") -> int:
    engine, tenant_id = book
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM companies WHERE tenant_id = {tenant_id} {where}")).scalar()


def select_all_matching(page, url: str, expected: int):
    page.goto(url)
    expect(page.locator("#results .count")).to_contain_text(f"{expected:,} compan")
    page.locator("#select-page").check()
    bar = page.locator("#bulk-bar")
    bar.get_by_role("button", name=re.compile(r"Select all .* matching")).click()
    expect(bar.locator("[data-bulk-count]")).to_have_text(f"{expected:,}")
    return bar


def open_dialog(page, bar, expected: int):
    bar.get_by_role("button", name="Excel report").click()
    dialog = page.locator("#bulk-modal")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"{expected:,} companies selected")
    return dialog


def test_excel_report_of_all_matching_with_progress_download_and_the_file_opens(page, big_book):
    matching = count_of(big_book, "AND country = 'NO'")
    login(page, EMAIL, PASSWORD)
    bar = select_all_matching(page, "/companies?country=NO", matching)
    dialog = open_dialog(page, bar, matching)
    # the overview's columns are ticked by default, in its order
    ticked = dialog.locator("input[name=columns]:checked")
    expect(ticked).to_have_count(10)
    assert ticked.evaluate_all("els => els.map(e => e.value)")[:3] == ["name", "org_number", "city"]
    dialog.locator("input[name=columns][value=tags]").check()
    dialog.locator("#export-title").fill("Norway")
    dialog.get_by_role("button", name="Create report").click()
    job = dialog.locator(".export-job")
    expect(job).to_be_visible()
    seen = []
    download_link = dialog.get_by_role("link", name=re.compile(r"Download Norway-.*\.xlsx"))
    while not download_link.count():  # the bar moves: collect what it shows until the link appears
        bar_el = dialog.locator("progress")
        if bar_el.count():
            try:
                seen.append(int(bar_el.get_attribute("value", timeout=500)))
            except Exception:  # noqa: BLE001 - swapped away between count() and the read
                pass
        page.wait_for_timeout(100)
        assert len(seen) < 1200, "no download link after two minutes"
    assert seen and min(seen) < 100, seen
    assert seen == sorted(seen), seen  # it only moves forward
    expect(dialog).to_contain_text(f"Ready: {matching:,} rows")
    expect(page.locator("#toasts")).to_contain_text("Your export is ready")
    with page.expect_download() as info:
        download_link.click()
    assert re.fullmatch(r"Norway-[\d-]+\.xlsx", info.value.suggested_filename)
    data = Path(info.value.path()).read_bytes()
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert wb.sheetnames == ["Norway"]
    rows = list(wb["Norway"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Name", "Org. number", "City") and rows[0][-1] == "Tags"
    assert len(rows) == matching + 1 and {r[3] for r in rows[1:]} == {"NO"}
    assert len(CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Norway").to_python()) == matching + 1
    dialog.get_by_role("button", name="Close").last.click()
    expect(dialog).to_be_hidden()

    page.get_by_role("link", name="My exports").click()
    expect(page).to_have_url(re.compile(r"/exports$"))
    expect(page.locator("table.exports")).to_contain_text("Norway")
    expect(page.locator("table.exports")).to_contain_text(f"{matching:,}")


def test_csv_report_downloads_and_cancel_stops_a_running_one(page, big_book):
    matching = count_of(big_book, "AND relationship = 'customer'")
    login(page, EMAIL, PASSWORD)
    bar = select_all_matching(page, "/companies?relationship=customer", matching)
    dialog = open_dialog(page, bar, matching)
    dialog.get_by_label("CSV (UTF-8, semicolons)").check()
    dialog.get_by_role("button", name="Create report").click()
    link = dialog.get_by_role("link", name=re.compile(r"Download .*\.csv"))
    expect(link).to_be_visible(timeout=120_000)
    with page.expect_download() as info:
        link.click()
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Name" and len(rows) == matching + 1
    dialog.get_by_role("button", name="Close").last.click()
    bar.locator("[data-bulk-clear]").first.click()

    everything = count_of(big_book)
    bar = select_all_matching(page, "/companies", everything)
    dialog = open_dialog(page, bar, everything)
    dialog.get_by_role("button", name="Create report").click()
    dialog.locator(".export-job").get_by_role("button", name="Cancel").click()
    expect(dialog).to_contain_text("Cancelled. No file was kept.")
    page.wait_for_timeout(2000)  # the component stopped polling; it stays cancelled
    expect(dialog).to_contain_text("Cancelled. No file was kept.")
    expect(dialog.get_by_role("link", name=re.compile("Download"))).to_have_count(0)
