"""Idempotency keys (issue 12): a create sent twice with one key is applied once and the
second call returns the first result; across tenants keys are separate; a key reused for
another operation is refused; a failed write stores nothing. Real RabbitMQ, SQLite and PostgreSQL."""
import uuid

import eventlet
from sqlalchemy import text

from conftest import remote_error


def key():
    return uuid.uuid4().hex


def company_count(engine, tenant, name):
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM companies WHERE tenant_id = :t AND name = :n"),
                            {"t": tenant, "n": name}).scalar()


def test_a_retried_create_returns_the_first_result(clients, world, engine):
    rpc = clients["admin"]
    k = key()
    first = rpc.create_company({"name": "Gjentatt AS", "country": "NO"}, idempotency_key=k)
    again = rpc.create_company({"name": "Gjentatt AS", "country": "NO"}, idempotency_key=k)
    assert again == first and company_count(engine, world["a"], "Gjentatt AS") == 1
    # without a key (or with another) it is a new write
    other = rpc.create_company({"name": "Gjentatt AS", "country": "NO"}, idempotency_key=key())
    assert other["id"] != first["id"] and company_count(engine, world["a"], "Gjentatt AS") == 2
    cid = first["id"]
    for method, payload in (
        ("create_contact", {"company_id": cid, "first_name": "Ola"}),
        ("create_project", {"company_id": cid, "name": "Lager", "type": "staffing"}),
        ("create_agreement", {"company_id": cid, "title": "Rammeavtale"}),
        ("create_task", {"company_id": cid, "title": "Ring"}),
        ("log_activity", {"company_id": cid, "kind": "call", "text": "Ringte"}),
    ):
        k = key()
        one = getattr(rpc, method)(payload, idempotency_key=k)
        two = getattr(rpc, method)(payload, idempotency_key=k)
        assert one == two and one["id"], method
    card = rpc.get_company(cid)["counts"]
    assert card["active_projects"] <= 1 and card["unresolved_tasks"] == 1
    assert len(rpc.list_contacts(cid)) == 1 and len(rpc.list_tasks(cid)) == 1 and len(rpc.list_projects(cid)) == 1
    assert len(rpc.list_agreements(cid)) == 1 and len(rpc.list_activities(cid)) == 1


def test_keys_are_per_tenant_and_per_operation(clients, world, engine):
    k = key()
    a = clients["admin"].create_company({"name": "Nøkkel AS", "country": "NO"}, idempotency_key=k)
    b = clients["b"].create_company({"name": "Nøkkel AS", "country": "SE"}, idempotency_key=k)
    assert a["id"] != b["id"] and b["country"] == "SE"
    err = remote_error(lambda: clients["admin"].create_contact({"company_id": a["id"], "first_name": "X"},
                                                               idempotency_key=k))
    assert err.exc_type == "Conflict" and "create_company" in str(err)
    err = remote_error(lambda: clients["admin"].create_company({"name": "Lang"}, idempotency_key="x" * 101))
    assert err.exc_type == "ValidationError" and "idempotency_key" in str(err)


def test_a_failed_write_stores_no_key(clients, world, engine):
    rpc = clients["admin"]
    k = key()
    existing = rpc.create_company({"name": "Orgnr AS", "country": "NO", "org_number": "923609016"})
    err = remote_error(lambda: rpc.create_company({"name": "Orgnr to AS", "country": "NO", "org_number": "923609016"},
                                                  idempotency_key=k))
    assert err.exc_type == "ValidationError" and "org_number" in str(err)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM idempotency_keys WHERE key = :k"), {"k": k}).scalar() == 0
    # the same key then works for a valid write
    ok = rpc.create_company({"name": "Orgnr to AS", "country": "NO"}, idempotency_key=k)
    assert ok["id"] != existing["id"]


def test_concurrent_calls_with_one_key_write_once(clients, world, engine, rpc_factory):
    k = key()
    proxies = [rpc_factory(tenant_id=world["a"], user_id=world["admin"]).crm for _ in range(4)]
    pool = eventlet.GreenPool()
    results = list(pool.imap(lambda p: p.create_company({"name": "Samtidig AS", "country": "NO"},
                                                        idempotency_key=k), proxies))
    assert len({r["id"] for r in results}) == 1
    assert company_count(engine, world["a"], "Samtidig AS") == 1
