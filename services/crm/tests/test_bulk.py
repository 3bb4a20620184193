"""Bulk edits (issue 7) over real RabbitMQ, on SQLite and PostgreSQL: tags,
attributes, relationship, idempotency, tenant isolation, chunked jobs that
resume after a kill, undo."""
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm import bulk, util
from crm.models import Company
from crm.schemas import BulkRelationshipIn, check

from conftest import remote_error


def key() -> str:
    return uuid.uuid4().hex


def company_ids(engine, tenant_id) -> list[int]:
    with Session(engine) as s:
        return list(s.scalars(select(Company.id).where(Company.tenant_id == tenant_id).order_by(Company.id)))


def tag_facet(rpc, tag: str) -> int:
    facets = rpc.list_companies({"facets": True, "per_page": 1})["facets"]
    return next((f["count"] for f in facets["tag"] if f["value"].casefold() == tag.casefold()), 0)


@pytest.fixture
def bulk_worker(container_factory_real, database_url):
    """The crm's bulk worker (crm/bulk_worker.py), started as its own container on the same
    database and broker, as the Procfile's crm_bulk line runs it beside the crm."""
    from crm.bulk_worker import CrmBulkWorker

    container = container_factory_real(CrmBulkWorker, {"CRM_DATABASE_URL": database_url})
    container.start()
    return container


def wait_done(rpc, op_id, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        op = rpc.get_bulk_operation(op_id)
        if op["status"] in ("done", "failed") or time.monotonic() > deadline:
            return op
        time.sleep(0.1)


def test_add_tags_reports_changed_and_unchanged_and_marks_history(engine, clients, world):
    admin = clients["admin"]
    ids = company_ids(engine, world["a"])[:3]
    admin.set_tags(ids[0], ["Bulk-VIP"])
    before = tag_facet(admin, "bulk-vip")
    op = admin.bulk_add_tags({"selection": {"ids": ids}, "tags": ["bulk-vip", "Nordic"], "idempotency_key": key()})
    assert op["status"] == "done" and op["kind"] == "add_tags"
    assert op["summary"] == "Add tags: bulk-vip, Nordic" or op["summary"].startswith("Add tags: ")
    assert len(op["summary_params"]["tags"]) == 2  # issue 14: the parts, for the gateway to word
    assert (op["total"], op["changed"], op["unchanged"]) == (3, 3, 0)  # the first lacked "Nordic"
    assert tag_facet(admin, "bulk-vip") == before + 2  # counters and facets see it at once
    for cid in ids:
        assert {"Bulk-VIP", "Nordic"} <= set(admin.get_company(cid)["tags"])
    history = admin.company_history(ids[1])
    mine = [h for h in history if h["entity"] == "bulk edit"]
    assert {(h["field"], h["new"]) for h in mine} == {("tags added", "Bulk-VIP"), ("tags added", "Nordic")}
    assert all(h["entity_id"] == op["id"] and h["user"]["id"] == world["admin"] for h in mine)
    timeline = admin.company_timeline(ids[1], {"limit": 10})
    assert any("bulk edit" in t["title"] for t in timeline)
    first = [h for h in admin.company_history(ids[0]) if h["entity"] == "bulk edit"]
    assert [h["new"] for h in first] == ["Nordic"]  # only what changed is logged

    removed = admin.bulk_remove_tags({"selection": {"ids": ids}, "tags": ["nordic"], "idempotency_key": key()})
    assert (removed["changed"], removed["unchanged"]) == (3, 0)
    assert all("Nordic" not in admin.get_company(cid)["tags"] for cid in ids)


def test_a_replayed_key_applies_once(engine, clients, world):
    admin = clients["admin"]
    ids = company_ids(engine, world["a"])[:4]
    k = key()
    request = {"selection": {"ids": ids}, "tags": ["once"], "idempotency_key": k}
    first = admin.bulk_add_tags(request)
    admin.set_tags(ids[0], [])  # someone removes it again meanwhile
    again = admin.bulk_add_tags(request)
    assert again["id"] == first["id"] and again["changed"] == 4
    assert "once" not in admin.get_company(ids[0])["tags"]  # not applied a second time
    err = remote_error(admin.bulk_add_tags, {**request, "tags": ["other"]})
    assert err.exc_type == "Conflict" and "idempotency key" in err.value


def test_another_tenants_ids_are_never_touched(engine, clients, world):
    admin, b = clients["admin"], clients["b"]
    a_ids, b_ids = company_ids(engine, world["a"]), company_ids(engine, world["b"])
    before = {cid: b.get_company(cid) for cid in b_ids}
    op = admin.bulk_set_relationship({"selection": {"ids": a_ids[:2] + b_ids}, "relationship": "partner",
                                      "idempotency_key": key()})
    assert op["total"] == 2 and op["done"] == 2
    op = admin.bulk_add_tags({"selection": {"filter": {}}, "tags": ["a-only"], "idempotency_key": key()})
    assert op["total"] == len(a_ids)
    for cid in b_ids:
        after = b.get_company(cid)
        assert (after["relationship"], after["tags"]) == (before[cid]["relationship"], before[cid]["tags"])
    assert remote_error(b.get_bulk_operation, op["id"]).exc_type == "NotFound"
    assert remote_error(b.undo_bulk_operation, {"operation_id": op["id"], "idempotency_key": key()}).exc_type == "NotFound"
    # the same idempotency key in another tenant is another operation
    k = key()
    mine = admin.bulk_add_tags({"selection": {"ids": a_ids[:1]}, "tags": ["k"], "idempotency_key": k})
    theirs = b.bulk_add_tags({"selection": {"ids": b_ids[:1]}, "tags": ["k"], "idempotency_key": k})
    assert mine["id"] != theirs["id"] and theirs["changed"] == 1


def test_bad_input_is_a_typed_error_naming_the_field(engine, clients, world):
    admin = clients["admin"]
    level = admin.create_attribute({"name": "Bulk level", "type": "dropdown", "options": ["Gold", "Silver"]})
    stars = admin.create_attribute({"name": "Bulk stars", "type": "stars"})
    multi = admin.create_attribute({"name": "Bulk areas", "type": "multi", "options": ["Oslo", "Bergen"]})
    ids = company_ids(engine, world["a"])[:2]
    sel = {"ids": ids}
    cases = [
        (admin.bulk_set_attributes, {"selection": sel, "values": {str(level["id"]): "Bronze"}}, f"values.{level['id']}"),
        (admin.bulk_set_attributes, {"selection": sel, "values": {str(stars["id"]): 6}}, f"values.{stars['id']}"),
        (admin.bulk_set_attributes, {"selection": sel, "values": {str(multi["id"]): ["Oslo", "Paris"]}},
         f"values.{multi['id']}"),
        (admin.bulk_set_attributes, {"selection": sel, "values": {"999999": True}}, "values.999999"),
        (admin.bulk_set_attributes, {"selection": sel, "values": {}}, "values"),
        (admin.bulk_set_relationship, {"selection": sel, "relationship": "friend"}, "relationship"),
        (admin.bulk_add_tags, {"selection": sel, "tags": []}, "tags"),
        (admin.bulk_add_tags, {"selection": sel, "tags": ["x" * 51]}, "tags"),
        (admin.bulk_remove_tags, {"selection": sel, "tags": ["never-seen-tag"]}, "tags.0"),
        (admin.bulk_add_tags, {"selection": {}, "tags": ["x"]}, "selection"),
        (admin.bulk_add_tags, {"selection": {"filter": {"relationship": ["nope"]}}, "tags": ["x"]}, "selection.filter"),
    ]
    for method, request, field in cases:
        err = remote_error(method, {**request, "idempotency_key": key()})
        assert err.exc_type == "ValidationError", (request, err)
        assert err.value.split(":")[0].startswith(field), (request, err.value)
    err = remote_error(admin.bulk_add_tags, {"selection": sel, "tags": ["x"], "idempotency_key": "short"})
    assert err.value.startswith("idempotency_key:")
    err = remote_error(admin.bulk_add_tags, {"selection": sel, "tags": ["x"]})
    assert err.value.startswith("idempotency_key:")
    # nothing was half-saved
    assert all(admin.get_company(cid)["relationship"] != "friend" for cid in ids)
    ok = admin.bulk_set_attributes({"selection": sel, "values": {str(level["id"]): "Gold", str(stars["id"]): 4,
                                                                 str(multi["id"]): ["Bergen", "Oslo"]},
                                    "idempotency_key": key()})
    assert ok["changed"] == 2
    values = {a["name"]: a["value"] for a in admin.get_company(ids[0])["attributes"]}
    assert values["Bulk level"] == "Gold" and values["Bulk stars"] == 4 and values["Bulk areas"] == ["Bergen", "Oslo"]


def test_undo_restores_only_what_nobody_changed_since(engine, clients, world):
    admin = clients["admin"]
    level = admin.create_attribute({"name": "Tier", "type": "dropdown", "options": ["A", "B", "C"]})
    ids = company_ids(engine, world["a"])[:5]
    admin.set_attribute_value(ids[0], level["id"], "C")
    before = {cid: admin.get_company(cid) for cid in ids}
    op = admin.bulk_set_attributes({"selection": {"ids": ids}, "values": {str(level["id"]): "A"},
                                    "idempotency_key": key()})
    assert op["changed"] == 5 and op["undoable"]
    admin.set_attribute_value(ids[1], level["id"], "B")  # a colleague edits one of them afterwards
    undo = admin.undo_bulk_operation({"operation_id": op["id"], "idempotency_key": key()})
    assert undo["status"] == "done" and undo["kind"] == "undo"
    assert (undo["changed"], undo["unchanged"]) == (4, 1)
    tier = {cid: next(a["value"] for a in admin.get_company(cid)["attributes"] if a["id"] == level["id"]) for cid in ids}
    assert tier[ids[0]] == "C" and tier[ids[1]] == "B"
    assert all(tier[cid] is None for cid in ids[2:])
    assert any(h["entity"] == "bulk undo" for h in admin.company_history(ids[2]))
    assert admin.get_bulk_operation(op["id"])["undone_by_id"] == undo["id"]
    assert before[ids[3]]["attributes"] == admin.get_company(ids[3])["attributes"]


def test_relationship_for_all_matching_a_filter_then_undo(engine, clients, world):
    admin = clients["admin"]
    rels = {c["id"]: c["relationship"] for c in admin.list_companies({"per_page": 200})["items"]}
    target = next(r for r in ("prospect", "customer", "suspect") if list(rels.values()).count(r) >= 1)
    matching = admin.list_companies({"relationship": [target], "per_page": 200})["total"]
    preview = admin.bulk_preview({"selection": {"filter": {"relationship": [target]}}, "sample": 3})
    assert preview["count"] == matching and 1 <= len(preview["sample"]) <= 3
    op = admin.bulk_set_relationship({"selection": {"filter": {"relationship": [target], "sort": "-created_at",
                                                               "page": 3}},
                                      "relationship": "former_customer", "idempotency_key": key()})
    assert op["total"] == matching and op["changed"] == matching
    assert op["summary_params"] == {"relationship": "former_customer"}
    assert admin.list_companies({"relationship": [target]})["total"] == 0
    undo = admin.undo_bulk_operation({"operation_id": op["id"], "idempotency_key": key()})
    assert undo["changed"] == matching
    assert undo["summary_params"] == {"operation_id": op["id"]}
    assert {c["id"]: c["relationship"] for c in admin.list_companies({"per_page": 200})["items"]} == rels


def test_undo_rules(engine, database_url, clients, world):
    admin, kari = clients["admin"], clients["kari"]
    ids = company_ids(engine, world["a"])[:3]
    first = admin.bulk_add_tags({"selection": {"ids": ids}, "tags": ["r1"], "idempotency_key": key()})
    second = admin.bulk_add_tags({"selection": {"ids": ids}, "tags": ["r2"], "idempotency_key": key()})
    assert admin.get_bulk_operation(first["id"])["undoable"] is False
    err = remote_error(admin.undo_bulk_operation, {"operation_id": first["id"], "idempotency_key": key()})
    assert err.exc_type == "Conflict" and "last bulk edit" in err.value
    assert remote_error(kari.undo_bulk_operation,
                        {"operation_id": second["id"], "idempotency_key": key()}).exc_type == "Forbidden"
    assert admin.last_bulk_operation()["id"] == second["id"]
    k = key()
    undo = admin.undo_bulk_operation({"operation_id": second["id"], "idempotency_key": k})
    assert admin.undo_bulk_operation({"operation_id": second["id"], "idempotency_key": k})["id"] == undo["id"]
    assert remote_error(admin.undo_bulk_operation,
                        {"operation_id": second["id"], "idempotency_key": key()}).exc_type == "Conflict"
    assert remote_error(admin.undo_bulk_operation,
                        {"operation_id": undo["id"], "idempotency_key": key()}).exc_type == "Conflict"
    third = admin.bulk_add_tags({"selection": {"ids": ids}, "tags": ["r3"], "idempotency_key": key()})
    with Session(engine) as s:  # 15 minutes pass
        s.execute(update(bulk.Op).where(bulk.Op.id == third["id"]).values(undo_until=util.now() - timedelta(seconds=1)))
        s.commit()
    assert admin.get_bulk_operation(third["id"])["undoable"] is False
    err = remote_error(admin.undo_bulk_operation, {"operation_id": third["id"], "idempotency_key": key()})
    assert err.exc_type == "Conflict" and "15 minutes" in err.value


def test_a_big_selection_is_a_job_the_caller_polls(engine, clients, world, monkeypatch, bulk_worker):
    monkeypatch.setattr(bulk, "INLINE_LIMIT", 3)  # the service runs in this process
    monkeypatch.setattr(bulk, "CHUNK", 4)
    admin = clients["admin"]
    n = len(company_ids(engine, world["a"]))
    op = admin.bulk_add_tags({"selection": {"filter": {}}, "tags": ["job"], "idempotency_key": key()})
    assert op["status"] in ("pending", "running", "done") and op["total"] == n
    done = wait_done(admin, op["id"])
    assert done["status"] == "done" and done["changed"] == n and done["progress"] == 100
    assert tag_facet(admin, "job") == n


def test_an_interrupted_job_is_resumed_by_the_timer_and_by_its_key(engine, running_service, rpc_factory, world,
                                                                   monkeypatch, bulk_worker):
    monkeypatch.setattr(bulk, "CHUNK", 5)
    monkeypatch.setattr(bulk, "INLINE_LIMIT", 3)  # 12 companies: a job, in chunks of 5
    admin = rpc_factory(tenant_id=world["a"], user_id=world["admin"]).crm
    ids = company_ids(engine, world["a"])
    ops = []
    with Session(engine) as s:
        for rel in ("partner", "supplier"):
            data = check(BulkRelationshipIn, {"selection": {"ids": ids}, "relationship": rel, "idempotency_key": key()})
            op = bulk.start_relationship(s, world["a"], world["admin"], data)
            assert bulk.run(s, op.id, max_chunks=1) is False  # the worker "dies" after one chunk
            s.refresh(op)
            assert (op.status, op.done, op.last_id) == ("running", 5, ids[4])
            assert bulk.run(s, op.id) is False  # its lease still holds: nobody else runs it
            ops.append((op.id, data))
        # the dead worker's lease runs out
        s.execute(update(bulk.Op).values(lease_until=util.now() - timedelta(seconds=1),
                                         created_at=util.now() - timedelta(minutes=1)))
        s.commit()
    # the same key again resumes (the bulk worker runs it)
    op_id, data = ops[1]
    again = admin.bulk_set_relationship({"selection": {"ids": ids}, "relationship": "supplier",
                                         "idempotency_key": data.idempotency_key})
    assert again["id"] == op_id
    again = wait_done(admin, op_id)
    assert (again["status"], again["done"], again["changed"] + again["unchanged"]) == ("done", len(ids), len(ids))
    # the other one: the bulk worker's timer finds it
    first = wait_done(admin, ops[0][0], timeout=bulk.STALE_AFTER.total_seconds() + 20)
    assert first["status"] == "done" and first["done"] == len(ids)
    with Session(engine) as s:  # each company changed exactly once per operation
        from crm.models import ChangeLog

        rows = s.execute(select(ChangeLog.entity_id, ChangeLog.company_id).where(ChangeLog.entity == "bulk edit")).all()
        assert len(rows) == len(set(rows))


def test_big_jobs_run_in_the_bulk_worker_not_in_the_crm(engine, clients, world, monkeypatch, container_factory_real,
                                                        database_url):
    """The crm only queues a big job; the crm's bulk worker (its own process in production) runs it."""
    from crm.bulk_worker import CrmBulkWorker

    monkeypatch.setattr(bulk, "INLINE_LIMIT", 3)
    monkeypatch.setattr(bulk, "CHUNK", 4)
    admin = clients["admin"]
    n = len(company_ids(engine, world["a"]))
    op = admin.bulk_set_relationship({"selection": {"filter": {}}, "relationship": "partner", "idempotency_key": key()})
    time.sleep(1.0)
    assert admin.get_bulk_operation(op["id"])["status"] == "pending"  # nobody in the crm runs it
    worker = container_factory_real(CrmBulkWorker, {"CRM_DATABASE_URL": database_url})
    worker.start()
    done = wait_done(admin, op["id"])
    assert (done["status"], done["done"]) == ("done", n)


def test_a_selection_applied_within_the_call_is_one_transaction(engine, clients, world):
    """Up to INLINE_LIMIT companies: one chunk (one commit of the changes), so the reply is quick."""
    admin = clients["admin"]
    ids = company_ids(engine, world["a"])
    assert len(ids) > 1
    op = admin.bulk_set_relationship({"selection": {"ids": ids}, "relationship": "supplier", "idempotency_key": key()})
    assert op["status"] == "done" and op["done"] == len(ids)
    with Session(engine) as s:  # one chunk: every company's history row carries the same time
        from crm.models import ChangeLog

        times = set(s.scalars(select(ChangeLog.at).where(ChangeLog.entity == "bulk edit",
                                                         ChangeLog.entity_id == op["id"])))
    assert len(times) == 1
