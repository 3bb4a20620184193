"""Excel/CSV reports (issue 8): the dialog from the bulk bar, starting a job, the progress
component (polls while running, stops when done), cancel, My exports, the streamed download."""
from __future__ import annotations

import base64
import json
import re

import pytest

from gateway_fakes import HX, RemoteFailure, validation_error

SEL = json.dumps({"filter": {"relationship": ["customer"]}})
CATALOGUE = {"columns": [
    {"key": "name", "title": "Name", "type": "text", "default": True},
    {"key": "org_number", "title": "Org. number", "type": "text", "default": True},
    {"key": "invoiced_this_year", "title": "Invoiced this year", "type": "money", "default": True},
    {"key": "tags", "title": "Tags", "type": "text", "default": False},
    {"key": "attr.3", "title": "<b>Rating</b>", "type": "int", "default": False},
], "default": ["name", "org_number", "invoiced_this_year"]}


def job(**over) -> dict:
    data = {"id": 5, "status": "running", "format": "xlsx", "title": "Customers", "user_id": 1, "columns": ["name"],
            "contacts": False, "rows_done": 2000, "rows_total": 10000, "percent": 20, "eta_seconds": 8, "error": None,
            "file_name": "Customers-2026-12-02-1010.xlsx", "file_size": None, "chunk_count": None,
            "created_at": "2026-12-02T10:10:00+00:00", "started_at": "2026-12-02T10:10:00+00:00", "finished_at": None,
            "expires_at": "2026-12-09T10:10:00+00:00", "downloadable": False}
    data.update(over)
    return data


DONE = job(status="done", rows_done=10000, percent=100, eta_seconds=None, file_size=3, chunk_count=3, downloadable=True)


@pytest.fixture
def ex_rpc(rpc):
    rpc.on("export_columns", CATALOGUE)
    rpc.on("start_export", lambda req: job(status="queued", rows_done=0, percent=0, eta_seconds=None))
    rpc.on("get_export", lambda export_id: job(id=export_id))
    rpc.on("cancel_export", lambda export_id: job(id=export_id, status="cancelled"))
    rpc.on("list_exports", lambda q: [job(), DONE | {"id": 4}, job(id=3, status="failed", error="The crm did not answer")])
    return rpc


def test_the_bulk_bar_finds_the_dialog_endpoint(app):
    assert "exports.dialog" in app.view_functions


def test_dialog_offers_the_overview_columns_checked_in_order_and_the_rest(client, ex_rpc):
    r = client.post("/exports/dialog", data={"selection": SEL, "selection_count": "1,234"}, headers=HX)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<strong>1,234</strong> companies selected" in html
    boxes = re.findall(r'name="columns" value="([^"]+)" (checked)?', html)
    assert boxes == [("name", "checked"), ("org_number", "checked"), ("invoiced_this_year", "checked"), ("tags", ""),
                     ("attr.3", "")]
    assert "&lt;b&gt;Rating&lt;/b&gt;" in html  # escaped
    assert 'name="selection" value="{&#34;filter&#34;' in html or "&quot;filter&quot;" in html
    assert 'value="xlsx" checked' in html and 'name="idempotency_key"' in html
    assert "<html" not in html  # a fragment for #bulk-dialog


def test_dialog_without_htmx_is_a_full_page(client, ex_rpc):
    r = client.post("/exports/dialog", data={"selection": SEL})
    assert r.status_code == 200 and "<html" in r.get_data(as_text=True)


def test_dialog_refuses_a_bad_selection_clearly(client, ex_rpc):
    r = client.post("/exports/dialog", data={"selection": "{not json"}, headers=HX)
    assert r.status_code == 422
    assert "not a valid selection" in r.get_data(as_text=True)


def test_start_sends_the_request_and_answers_with_the_polling_component(client, ex_rpc):
    r = client.post("/exports", data={"selection": SEL, "columns": ["name", "tags"], "format": "csv", "contacts": "1",
                                      "title": "Customers", "idempotency_key": "k" * 32}, headers=HX)
    assert r.status_code == 200
    sent = ex_rpc.last("start_export")
    assert sent.service == "export" and sent.timeout >= 8
    assert sent.args[0] == {"selection": {"filter": {"relationship": ["customer"]}}, "columns": ["name", "tags"],
                            "format": "csv", "contacts": True, "title": "Customers", "idempotency_key": "k" * 32}
    html = r.get_data(as_text=True)
    assert 'id="export-5"' in html and 'hx-trigger="every 1s"' in html
    assert "/exports/5?poll=1" in html and "Cancel" in html


def test_start_without_columns_re_renders_the_dialog_with_the_message(client, ex_rpc):
    r = client.post("/exports", data={"selection": SEL, "format": "xlsx"}, headers=HX)
    assert r.status_code == 422
    assert "Pick at least one column." in r.get_data(as_text=True)
    assert "start_export" not in ex_rpc.methods()


def test_a_column_the_crm_refuses_is_shown_at_the_columns(client, ex_rpc):
    ex_rpc.on("start_export", RemoteFailure(validation_error("columns.1", "Unknown column").error))
    r = client.post("/exports", data={"selection": SEL, "columns": ["name", "attr.99"]}, headers=HX)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="export-columns-err">Unknown column' in html
    assert re.search(r'value="attr.99"', html) is None  # gone from the catalogue: not offered again


def test_progress_polls_while_running_and_stops_with_a_link_and_a_toast_when_done(client, ex_rpc):
    r = client.get("/exports/5?poll=1&at=dialog", headers=HX)
    html = r.get_data(as_text=True)
    assert "2,000</strong> of 10,000 rows" in html and "about 8 s left" in html and 'value="20"' in html
    assert 'hx-trigger="every 1s"' in html
    ex_rpc.on("get_export", lambda export_id: DONE)
    html = client.get("/exports/5?poll=1&at=dialog", headers=HX).get_data(as_text=True)
    assert "every 1s" not in html
    assert 'href="/exports/5/download"' in html
    assert 'hx-swap-oob="beforeend"' in html and "Your export is ready" in html
    # a plain (non-polling) look at a finished export: no toast
    assert "Your export is ready" not in client.get("/exports/5", headers=HX).get_data(as_text=True)


def test_progress_page_without_htmx_is_a_full_page(client, ex_rpc):
    html = client.get("/exports/5").get_data(as_text=True)
    assert "<html" in html and 'id="export-5"' in html


def test_failed_export_shows_its_message(client, ex_rpc):
    ex_rpc.on("get_export", lambda export_id: job(status="failed", error="The crm service did not answer"))
    html = client.get("/exports/5", headers=HX).get_data(as_text=True)
    assert "The export failed: The crm service did not answer" in html and "every 1s" not in html


def test_cancel(client, ex_rpc):
    r = client.post("/exports/5/cancel?at=dialog", headers=HX)
    assert r.status_code == 200 and "Cancelled" in r.get_data(as_text=True)
    assert ex_rpc.last("cancel_export").args == [5]


def test_my_exports_lists_status_size_rows_and_dates(client, ex_rpc):
    html = client.get("/exports").get_data(as_text=True)
    assert "My exports" in html and 'aria-current="page">My exports' in html
    assert 'data-export-id="5"' in html and 'data-export-id="4"' in html
    assert "The crm did not answer" in html and "Download Customers-2026-12-02-1010.xlsx" in html
    assert "3 bytes" in html


def test_nav_links_to_my_exports(client, ex_rpc):
    assert 'href="/exports"' in client.get("/exports").get_data(as_text=True)


def test_download_streams_chunk_by_chunk(client, ex_rpc):
    ex_rpc.on("get_export", lambda export_id: DONE)
    pieces = [b"P", b"K", b"!"]
    ex_rpc.on("download_chunk", lambda export_id, n: {"n": n, "last": n == 2,
                                                        "data": base64.b64encode(pieces[n]).decode()})
    r = client.get("/exports/5/download")
    assert r.status_code == 200
    assert r.is_streamed
    assert r.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert 'attachment; filename="Customers-2026-12-02-1010.xlsx"' in r.headers["Content-Disposition"]
    assert r.headers["Content-Length"] == "3"
    assert r.get_data() == b"PK!"
    assert [c.args for c in ex_rpc.calls if c.method == "download_chunk"] == [[5, 0], [5, 1], [5, 2]]


def test_download_of_an_unfinished_or_expired_export_is_404(client, ex_rpc):
    assert client.get("/exports/5/download").status_code == 404
    ex_rpc.on("get_export", RemoteFailure({"exc_type": "NotFound", "exc_args": ["No such export", {}],
                                           "value": "No such export"}))
    assert client.get("/exports/5/download").status_code == 404


def test_pages_need_a_login(anonymous, ex_rpc):
    assert anonymous.get("/exports").status_code == 302
    assert anonymous.get("/exports/5/download").status_code == 302
