"""Tests of the export service.

Real: RabbitMQ (AMQP_URI), the export service container and, for the
interface tests, a real crm service container on the same broker (its own
SQLite database with demo companies), the export database on SQLite and on
PostgreSQL, caller tokens signed with the test keys, openpyxl and
python-calamine reading the files back. Faked: nothing.
"""
import os

os.environ.setdefault("EXPORT_SWEEP_SECONDS", "0.5")  # the sweeper's timer (read at import)

import eventlet

eventlet.monkey_patch()  # noqa: E402 - services run eventlet-patched

import time

import pytest

from export.service import DATABASE, MIGRATIONS, ExportService

pytest_plugins = ["service_common.testing"]


@pytest.fixture
def service_spec():
    return (ExportService, MIGRATIONS, *DATABASE)


@pytest.fixture(scope="session")
def crm_db(tmp_path_factory):
    """A crm database: tenant A (NOK) with an admin, a coworker and 60 demo companies; tenant B with 3."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from crm import auth, demo
    from crm.models import Tenant, User
    from service_common.db import make_engine
    from service_common.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('crm') / 'crm.sqlite3'}"
    upgrade("crm", url)
    engine = make_engine(url, pool_size=1)
    with Session(engine) as s:
        a = auth.ensure_tenant(s, "Agency A", "a@example.com", "password-a-123", admin_name="Anne Admin")
        b = Tenant(name="Agency B", currency="SEK")
        s.add(b)
        s.flush()
        s.add(User(tenant_id=b.id, email="b@example.com", name="Bo Admin", password_hash="x", role="admin", active=True))
        s.add(User(tenant_id=a.id, email="kari@example.com", name="Kari User", password_hash="x", role="user", active=True))
        s.add(User(tenant_id=a.id, email="ola@example.com", name="Ola User", password_hash="x", role="user", active=True))
        s.commit()
        demo.load_full(s, a.id, 60, seed=3)
        demo.load_full(s, b.id, 3, seed=4)
        users = {u.email: u.id for u in s.scalars(select(User))}
        world = {"url": url, "a": a.id, "b": b.id, "admin": users["a@example.com"], "kari": users["kari@example.com"],
                 "ola": users["ola@example.com"], "b_admin": users["b@example.com"]}
    engine.dispose()
    return world


@pytest.fixture
def crm_service(container_factory_real, crm_db):
    from crm.service import CrmService

    container = container_factory_real(CrmService, {"CRM_DATABASE_URL": crm_db["url"]})
    container.start()
    return container


@pytest.fixture
def export_config(database_url):
    return {"EXPORT_DATABASE_URL": database_url, "EXPORT_LEASE_SECONDS": 2, "EXPORT_REQUEUE_SECONDS": 1,
            "EXPORT_PAGE_SIZE": 7}


@pytest.fixture
def export_service(container_factory_real, export_config, crm_service):
    container = container_factory_real(ExportService, export_config)
    container.start()
    return container


@pytest.fixture
def as_user(rpc_factory, crm_db):
    """``as_user("kari")`` -> the export proxy as that user of tenant A (``"b_admin"``: tenant B)."""

    def make(who="kari", **claims):
        tenant = crm_db["b"] if who == "b_admin" else crm_db["a"]
        role = "admin" if who in ("admin", "b_admin") else "user"
        return rpc_factory(tenant_id=tenant, user_id=crm_db[who], role=role, **claims).export

    return make


def wait_for(fn, timeout=30.0, every=0.05):
    """Poll ``fn`` until it returns something truthy (or fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")
        time.sleep(every)


def wait_final(export, job_id, timeout=60.0):
    return wait_for(lambda: (lambda j: j if j["status"] not in ("queued", "running") else None)(export.get_export(job_id)),
                    timeout)


def download(export, job):
    import base64

    out = b""
    for n in range(job["chunk_count"]):
        chunk = export.download_chunk(job["id"], n)
        out += base64.b64decode(chunk["data"])
        assert chunk["last"] == (n == job["chunk_count"] - 1)
    return out
