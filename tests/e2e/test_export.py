"""End to end, Excel/CSV reports (issue 8): HTTP -> gateway -> RabbitMQ -> export -> crm (on the
user's behalf) -> file in the export database -> streamed download. And the export service killed
with SIGKILL in the middle of a job: the job ends done (resumed) or failed with a message, never
stuck running, never a truncated file served.

Data: a tenant of its own (``Export Agency``, 12,000 companies loaded into the suite's crm
database), so the other end-to-end tests' data is not touched.
"""
from __future__ import annotations

import io
import json
import re
import signal
import time
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

HX = {"HX-Request": "true"}
COMPANIES = 12_000
EMAIL, PASSWORD = "export-admin@example.com", "export-admin-password-1"
USER_EMAIL = "export-user@example.com"


@pytest.fixture(scope="module")
def agency(suite):
    """A second tenant with an admin, a coworker and COMPANIES companies, written into the suite's crm DB."""
    from sqlalchemy.orm import Session

    from crm import demo
    from crm.auth import hasher
    from crm.models import Tenant, User
    from service_common.db import make_engine

    engine = make_engine(f"sqlite:///{Path(suite.env['CRM_DATA_DIR']) / 'crm.sqlite3'}", pool_size=1)
    with Session(engine) as s:
        tenant = Tenant(name="Export Agency", currency="NOK")
        s.add(tenant)
        s.flush()
        for email, role, name in ((EMAIL, "admin", "Eva Export"), (USER_EMAIL, "user", "Ulf User")):
            user = User(tenant_id=tenant.id, email=email, name=name, password_hash=hasher.hash(PASSWORD), role=role,
                        active=True)
            if hasattr(User, "must_change_password"):
                user.must_change_password = False
            s.add(user)
        s.commit()
        demo.load_full(s, tenant.id, COMPANIES, seed=11)
        tenant_id = tenant.id
    engine.dispose()
    return {"tenant_id": tenant_id}


def start(session, suite, selection, columns=None, fmt="xlsx", contacts=False, title="All companies"):
    r = session.post(f"{suite.url}/exports/dialog", data={"selection": json.dumps(selection),
                                                          "selection_count": "?"}, headers=HX)
    assert r.status_code == 200, r.text[:500]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', r.text).group(1)
    if columns is None:
        columns = re.findall(r'name="columns" value="([^"]+)" checked', r.text)
    data = {"selection": json.dumps(selection), "columns": columns, "format": fmt, "title": title,
            "idempotency_key": key}
    if contacts:
        data["contacts"] = "1"
    r = session.post(f"{suite.url}/exports", data=data, headers=HX)
    assert r.status_code == 200, r.text[:500]
    return int(re.search(r'id="export-(\d+)"', r.text).group(1))


def state(session, suite, export_id) -> dict:
    r = session.get(f"{suite.url}/exports/{export_id}", headers=HX, timeout=10)
    html = r.text
    found = re.search(r'data-status="(\w+)"', html)
    if found is None:  # the export service is not answering (restarting): the page says so in a toast
        assert r.status_code in (502, 503, 504), (r.status_code, html[:300])
        return {"status": "unavailable", "rows_done": None, "html": html}
    status = found.group(1)
    done = re.search(r"<strong>([\d,]+)</strong> of", html)
    return {"status": status, "rows_done": int(done.group(1).replace(",", "")) if done else None, "html": html}


def wait(session, suite, export_id, until, timeout=120.0, every=0.1) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        s = state(session, suite, export_id)
        if until(s):
            return s
        assert time.monotonic() < deadline, f"export {export_id} still {s['status']} after {timeout}s"
        time.sleep(every)


def final(s):
    return s["status"] not in ("queued", "running", "unavailable")


def download(session, suite, export_id) -> bytes:
    r = session.get(f"{suite.url}/exports/{export_id}/download", stream=True, timeout=60)
    assert r.status_code == 200
    body = b"".join(r.iter_content(65536))
    assert len(body) == int(r.headers["Content-Length"])
    return body


def test_xlsx_of_a_filter_selection_end_to_end(suite, agency):
    http = suite.login(EMAIL, PASSWORD)
    overview = http.get(f"{suite.url}/companies", params={"relationship": "customer"}, headers=HX).text
    total = int(re.search(r"<strong>([\d,]+)</strong> compan", overview).group(1).replace(",", ""))
    export_id = start(http, suite, {"filter": {"relationship": ["customer"]}}, contacts=True, title="Customers")
    s = wait(http, suite, export_id, final)
    assert s["status"] == "done", s["html"]
    assert f"Ready: {total:,} rows" in s["html"]
    data = download(http, suite, export_id)
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert wb.sheetnames == ["Customers", "Contacts"]
    rows = list(wb["Customers"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Name", "Org. number", "City", "Country") and len(rows) == total + 1
    assert {r[4] for r in rows[1:]} == {"Customer"}
    assert all(isinstance(r[6], int) for r in rows[1:]) and all(isinstance(r[9], (int, float)) for r in rows[1:])
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Customers").to_python()
    assert len(sheet) == total + 1
    # My exports lists it; another user of the tenant cannot download it
    assert f'data-export-id="{export_id}"' in http.get(f"{suite.url}/exports").text
    other = suite.login(USER_EMAIL, PASSWORD)
    assert other.get(f"{suite.url}/exports/{export_id}/download").status_code == 404
    assert f'data-export-id="{export_id}"' not in other.get(f"{suite.url}/exports").text


def test_csv_and_cancel(suite, agency):
    http = suite.login(EMAIL, PASSWORD)
    export_id = start(http, suite, {"filter": {"country": ["SE"]}}, columns=["name", "invoiced_this_year"], fmt="csv",
                      title="Sweden")
    s = wait(http, suite, export_id, final)
    assert s["status"] == "done"
    text = download(http, suite, export_id)
    assert text.startswith(b"\xef\xbb\xbf")
    lines = text.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Name;Invoiced this year (NOK)"
    assert re.fullmatch(r"-?\d+\.\d\d", lines[1].rsplit(";", 1)[1])

    export_id = start(http, suite, {"filter": {}}, title="Everything")
    wait(http, suite, export_id, lambda s: s["status"] == "running")
    r = http.post(f"{suite.url}/exports/{export_id}/cancel", headers=HX)
    assert r.status_code == 200 and "Cancelled" in r.text
    time.sleep(1.5)
    assert state(http, suite, export_id)["status"] == "cancelled"
    assert http.get(f"{suite.url}/exports/{export_id}/download").status_code == 404


def test_kill_9_of_the_export_service_mid_job_ends_done_or_failed_never_stuck_or_truncated(suite, agency):
    http = suite.login(EMAIL, PASSWORD)
    export_id = start(http, suite, {"filter": {}}, title="Everything")
    s = wait(http, suite, export_id, lambda s: final(s) or (s["status"] == "running" and (s["rows_done"] or 0) > 0),
             every=0.05)
    assert s["status"] == "running", "the job finished before it could be killed: make it bigger"
    suite.stop("export", sig=signal.SIGKILL)
    # while it is down, the download is refused (never a partial file)
    assert http.get(f"{suite.url}/exports/{export_id}/download").status_code in (404, 503, 504)
    suite.start("export")
    s = wait(http, suite, export_id, final, timeout=180, every=0.5)
    print(f"export after kill -9: {s['status']}")
    if s["status"] == "failed":
        assert "The export failed:" in s["html"] and re.search(r"failed: \S", s["html"])
        assert http.get(f"{suite.url}/exports/{export_id}/download").status_code == 404
        return
    assert s["status"] == "done", s["html"]
    data = download(http, suite, export_id)
    rows = list(openpyxl.load_workbook(io.BytesIO(data), read_only=True)["Everything"].iter_rows(values_only=True))
    assert len(rows) == COMPANIES + 1  # the whole file
    assert len(CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Everything").to_python()) == COMPANIES + 1
