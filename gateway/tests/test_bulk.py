"""The bulk bar (issue 7): selection parsing, dialogs, confirmation above 50, the job's
progress component, undo, the contract for the E-mail / Excel buttons."""
from __future__ import annotations

import json
import re

import pytest
from flask import Blueprint

from gateway import errors
from gateway.selection import parse_selection
from gateway_fakes import ATTRIBUTES, HX, RemoteFailure, list_item, list_result, log_in, make_app, validation_error


def op(**over) -> dict:
    data = {"id": 12, "kind": "add_tags", "status": "done", "summary": "Add tags: vip", "user": {"id": 1, "name": "Ada"},
            "total": 5, "done": 5, "changed": 4, "unchanged": 1, "progress": 100, "created_at": "2026-12-02T10:00:00+00:00",
            "started_at": "2026-12-02T10:00:00+00:00", "finished_at": "2026-12-02T10:00:01+00:00",
            "undo_until": "2026-12-02T10:15:01+00:00", "undoable": True, "undoes_id": None, "undone_by_id": None,
            "error": None, "idempotency_key": "k" * 16}
    data.update(over)
    return data


@pytest.fixture
def bulk_rpc(rpc):
    rpc.on("bulk_preview", lambda req: {"count": len(req["selection"].get("ids") or []) or 2345,
                                        "sample": ["Aker Bygg AS", "Bergen Rør AS"]})
    for method in ("bulk_add_tags", "bulk_remove_tags", "bulk_set_attributes", "bulk_set_relationship"):
        rpc.on(method, lambda req: op())
    rpc.on("get_bulk_operation", lambda op_id: op(id=op_id))
    rpc.on("undo_bulk_operation", lambda req: op(id=13, kind="undo", summary="Undo of bulk edit #12", undoable=False))
    return rpc


IDS = json.dumps({"ids": [3, 9, 27]})


# -- parse_selection ------------------------------------------------------------------------
def test_parse_selection_accepts_ids_or_a_filter():
    assert parse_selection(IDS) == {"ids": [3, 9, 27]}
    assert parse_selection('{"ids": ["4", 4, 5]}') == {"ids": [4, 5]}
    assert parse_selection({"filter": {"q": " bygg ", "relationship": ["customer"], "sort": "-name", "page": 3,
                                       "attr": {"3": ["Gold"]}, "has_unresolved_tasks": True},
                            "exclude_ids": [7]}) == {
        "filter": {"q": "bygg", "relationship": ["customer"], "attr": {"3": ["Gold"]}, "has_unresolved_tasks": True},
        "exclude_ids": [7]}
    assert parse_selection('{"filter": {}}') == {"filter": {}}


@pytest.mark.parametrize("value, field", [
    ("", "selection"), ("not json", "selection"), ("[1, 2]", "selection"), ('{"ids": [1], "filter": {}}', "selection"),
    ("{}", "selection"), ('{"ids": []}', "selection.ids"), ('{"ids": [0]}', "selection.ids"),
    ('{"ids": [true]}', "selection.ids"), ('{"ids": "1,2"}', "selection.ids"),
    ('{"filter": {"colour": "red"}}', "selection.filter.colour"), ('{"filter": {"q": 5}}', "selection.filter.q"),
    ('{"filter": {"attr": {"x": 1}}}', "selection.filter.attr.x"), ('{"ids": [1], "extra": 1}', "selection.extra"),
    (json.dumps({"ids": list(range(1, 10_002))}), "selection.ids"),
])
def test_parse_selection_refuses_bad_shapes_naming_the_field(value, field):
    with pytest.raises(errors.ValidationFailed) as info:
        parse_selection(value)
    assert info.value.details["field"] == field
    assert field in info.value.field_errors


# -- the overview renders the selection's hooks ---------------------------------------------------
def test_overview_rows_have_checkboxes_and_the_bar_its_contract(client, rpc):
    rpc.on("list_companies", lambda q: list_result(q, items=[list_item(id=3), list_item(id=9, name="Bergen <Rør>")],
                                                   total=120))
    html = client.get("/companies?q=bygg&relationship=customer&page=2&sort=-name").get_data(as_text=True)
    assert 'class="row-select" value="3"' in html and 'id="select-page"' in html
    assert 'aria-label="Select Bergen &lt;Rør&gt;"' in html  # escaped
    assert '<form id="bulk-selection"' in html and 'name="selection"' in html and 'name="selection_count"' in html
    assert '<div id="bulk-dialog"></div>' in html
    assert 'data-total="120"' in html
    data_filter = re.search(r'data-filter="([^"]*)"', html).group(1).replace("&#34;", '"').replace("&quot;", '"')
    assert json.loads(data_filter) == {"q": "bygg", "relationship": ["customer"]}  # no page, no sort
    assert 'data-filter-key="q=bygg&amp;relationship=customer"' in html
    for kind in ("add_tags", "remove_tags", "set_attributes", "set_relationship"):
        assert f'hx-post="/bulk/dialog/{kind}" hx-include="#bulk-selection" hx-target="#bulk-dialog"' in html
    for endpoint, label in (("mail.compose", "E-mail"), ("exports.dialog", "Excel report")):  # only when installed
        assert (endpoint in client.application.view_functions) == (f'hx-target="#bulk-dialog">{label}<' in html)
    assert "selection.js" in html


def test_mail_and_export_buttons_appear_when_their_endpoints_exist(rpc):
    app = make_app(rpc)
    for name, endpoint, path in (("mail", "compose", "/mail/compose"), ("exports", "dialog", "/exports/dialog")):
        if f"{name}.{endpoint}" not in app.view_functions:  # a stand-in where the feature is not installed
            stand_in = Blueprint(name, __name__)
            stand_in.add_url_rule(path, endpoint, lambda: "", methods=["POST"])
            app.register_blueprint(stand_in)
    html = log_in(app.test_client()).get("/companies").get_data(as_text=True)
    with app.test_request_context():
        from flask import url_for

        mail, exports = url_for("mail.compose"), url_for("exports.dialog")
    assert f'hx-post="{mail}" hx-include="#bulk-selection" hx-target="#bulk-dialog">E-mail<' in html
    assert f'hx-post="{exports}" hx-include="#bulk-selection" hx-target="#bulk-dialog">Excel report<' in html


# -- dialogs ---------------------------------------------------------------------------------
def test_dialog_shows_the_count_and_a_key(client, bulk_rpc):
    r = client.post("/bulk/dialog/add_tags", data={"selection": IDS, "selection_count": "3"}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<strong>3</strong> companies selected" in html
    assert 'name="new_tags"' in html and re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', html)
    assert bulk_rpc.last("bulk_preview").args[0] == {"selection": {"ids": [3, 9, 27]}, "sample": 5}
    attrs = client.post("/bulk/dialog/set_attributes", data={"selection": IDS}, headers=HX).get_data(as_text=True)
    for a in ATTRIBUTES:
        assert a["name"] in attrs
    rel = client.post("/bulk/dialog/set_relationship", data={"selection": IDS}, headers=HX).get_data(as_text=True)
    assert 'value="former_customer"' in rel
    assert client.post("/bulk/dialog/delete_all", data={"selection": IDS}, headers=HX).status_code == 404


def test_a_bad_selection_is_a_clear_error(client, bulk_rpc):
    r = client.post("/bulk/dialog/add_tags", data={"selection": "{}"}, headers=HX)
    assert r.status_code == 422 and "give either ids or filter" in r.get_data(as_text=True)
    assert "bulk_preview" not in bulk_rpc.methods()


def test_small_selection_applies_at_once_and_refreshes_the_list(client, bulk_rpc):
    r = client.post("/bulk/apply/add_tags", data={"selection": IDS, "new_tags": "vip, Nordic ,", "idempotency_key": "a" * 32},
                    headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "bulk-applied"
    assert bulk_rpc.last("bulk_add_tags").args[0] == {"selection": {"ids": [3, 9, 27]}, "tags": ["vip", "Nordic"],
                                                      "idempotency_key": "a" * 32}
    assert "Changed <strong>4</strong> companies; 1 already had it." in html
    assert 'hx-post="/bulk/operations/12/undo"' in html and 'hx-trigger="every 1s"' not in html


def test_missing_change_is_shown_in_the_dialog(client, bulk_rpc):
    r = client.post("/bulk/apply/add_tags", data={"selection": IDS, "new_tags": " , "}, headers=HX)
    assert r.status_code == 422 and "Type one or more tags" in r.get_data(as_text=True)
    r = client.post("/bulk/apply/set_relationship", data={"selection": IDS, "relationship": "friend"}, headers=HX)
    assert r.status_code == 422 and "Choose a relationship" in r.get_data(as_text=True)
    r = client.post("/bulk/apply/set_attributes", data={"selection": IDS}, headers=HX)
    assert r.status_code == 422 and "Choose at least one attribute" in r.get_data(as_text=True)
    assert "bulk_add_tags" not in bulk_rpc.methods() and "bulk_set_relationship" not in bulk_rpc.methods()


def test_the_services_field_error_lands_on_the_field(client, bulk_rpc):
    bulk_rpc.on("bulk_set_attributes", validation_error("values.3", "Pick one of the options"))
    r = client.post("/bulk/apply/set_attributes", data={"selection": IDS, "attr.3": "Bronze"}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Pick one of the options" in html and 'aria-invalid="true"' in html


def test_attribute_form_values_become_the_rpc_change(client, bulk_rpc):
    client.post("/bulk/apply/set_attributes", headers=HX, data={
        "selection": IDS, "attr.1": "yes", "attr.2": "4", "attr.3": "__clear__", "attr.5": "",
        "set.4": "1", "attr.4": ["Staffing", "Recruitment"]})
    assert bulk_rpc.last("bulk_set_attributes").args[0]["values"] == {
        "1": True, "2": 4, "3": None, "4": ["Staffing", "Recruitment"]}


def test_more_than_50_asks_first_with_count_and_sample(client, bulk_rpc):
    sel = json.dumps({"filter": {"relationship": ["prospect"]}})
    r = client.post("/bulk/apply/set_relationship", headers=HX,
                    data={"selection": sel, "relationship": "customer", "idempotency_key": "b" * 32})
    html = r.get_data(as_text=True)
    assert "bulk_set_relationship" not in bulk_rpc.methods()
    assert "2,345 companies" in html and "Aker Bygg AS" in html and "Bergen Rør AS" in html
    assert 'name="confirmed" value="1"' in html and 'value="' + "b" * 32 + '"' in html
    r = client.post("/bulk/apply/set_relationship", headers=HX,
                    data={"selection": sel, "relationship": "customer", "idempotency_key": "b" * 32, "confirmed": "1"})
    assert r.status_code == 200
    assert bulk_rpc.last("bulk_set_relationship").args[0] == {
        "selection": {"filter": {"relationship": ["prospect"]}}, "relationship": "customer", "idempotency_key": "b" * 32}


def test_a_running_job_polls_itself_until_done(client, bulk_rpc):
    running = op(status="running", done=30_000, total=100_000, progress=30, undoable=False)
    bulk_rpc.on("bulk_add_tags", lambda req: running)
    sel = json.dumps({"filter": {}})
    r = client.post("/bulk/apply/add_tags", headers=HX, data={"selection": sel, "new_tags": "all", "confirmed": "1"})
    html = r.get_data(as_text=True)
    assert 'hx-get="/bulk/operations/12" hx-trigger="every 1s"' in html and "30,000 of 100,000" in html
    assert "HX-Trigger" not in r.headers
    bulk_rpc.on("get_bulk_operation", lambda op_id: running)
    assert 'hx-trigger="every 1s"' in client.get("/bulk/operations/12", headers=HX).get_data(as_text=True)
    bulk_rpc.on("get_bulk_operation", lambda op_id: op(id=op_id, changed=100_000, unchanged=0, total=100_000))
    r = client.get("/bulk/operations/12", headers=HX)
    assert 'hx-trigger="every 1s"' not in r.get_data(as_text=True) and r.headers["HX-Trigger"] == "bulk-applied"
    assert "Changed <strong>100,000</strong> companies." in r.get_data(as_text=True)


def test_undo(client, bulk_rpc):
    r = client.post("/bulk/operations/12/undo", headers=HX, data={"idempotency_key": "c" * 32})
    assert bulk_rpc.last("undo_bulk_operation").args[0] == {"operation_id": 12, "idempotency_key": "c" * 32}
    assert "Restored <strong>4</strong> companies; 1 kept their value" in r.get_data(as_text=True)
    assert r.headers["HX-Trigger"] == "bulk-applied"
    bulk_rpc.on("undo_bulk_operation", RemoteFailure({"exc_type": "Conflict", "exc_args": [
        "The 15 minutes to undo this operation have passed", {"field": "operation_id"}]}))
    bulk_rpc.on("get_bulk_operation", lambda op_id: op(id=op_id, undoable=False))
    r = client.post("/bulk/operations/12/undo", headers=HX, data={"idempotency_key": "d" * 32})
    assert r.status_code == 200 and "The 15 minutes to undo this operation have passed" in r.get_data(as_text=True)


def test_bulk_needs_a_login(anonymous, bulk_rpc):
    r = anonymous.post("/bulk/dialog/add_tags", data={"selection": IDS}, headers=HX)
    assert r.status_code == 401 and "bulk_preview" not in bulk_rpc.methods()


def test_the_last_operation_can_be_undone_from_the_overview(client, bulk_rpc):
    bulk_rpc.on("last_bulk_operation", op())
    html = client.get("/bulk/last", headers=HX).get_data(as_text=True)
    assert "Last bulk edit: Add tags: vip (4 companies changed)" in html
    assert 'hx-post="/bulk/operations/12/undo" hx-target="#bulk-dialog"' in html
    bulk_rpc.on("last_bulk_operation", op(undoable=False))
    assert "Undo" not in client.get("/bulk/last", headers=HX).get_data(as_text=True)
    bulk_rpc.on("last_bulk_operation", None)
    assert 'id="bulk-last"' in client.get("/bulk/last", headers=HX).get_data(as_text=True)
