"""Interface tests of the mailer service.

Real: RabbitMQ (AMQP_URI), the mailer container, SQLite and PostgreSQL for the
mailer's database, the crm service (a real container on its own SQLite file)
that the mailer asks for recipients with the caller's signed token, and a real
SMTP server on loopback (``python -m mailer.devsmtp`` in a subprocess; some
tests make it refuse recipients with 5xx, drop the connection or answer slowly).
Faked: nothing. Messages are counted where they arrive: in the SMTP server's store.
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - services run eventlet-patched

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.service import DATABASE, MIGRATIONS, MailerSender, MailerService

pytest_plugins = ["service_common.testing"]


@pytest.fixture
def service_spec():
    return (MailerService, MIGRATIONS, *DATABASE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=20.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class SmtpServer:
    """A devsmtp subprocess; ``messages()`` reads what it received."""

    def __init__(self, tmp: Path, *args: str):
        self.port = free_port()
        self.store = str(tmp / f"smtp-{self.port}.sqlite3")
        self.args = args
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "mailer.devsmtp", "--port", str(self.port), "--store",
                                      self.store, *self.args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False

        wait_for(up, 15, what="smtp server")

    def messages(self) -> list[dict]:
        if not Path(self.store).exists():
            return []
        conn = sqlite3.connect(self.store, timeout=10)
        try:
            rows = conn.execute("SELECT rcpt_tos, message_id, subject, raw FROM received ORDER BY id").fetchall()
        finally:
            conn.close()
        import json
        from email import message_from_bytes, policy

        return [{"rcpt": json.loads(r[0]), "message_id": r[1], "subject": r[2],
                 "msg": message_from_bytes(r[3], policy=policy.default)} for r in rows]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def smtp_factory(tmp_path):
    servers = []

    def make(*args):
        server = SmtpServer(tmp_path, *args)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def crm_world(tmp_path, container_factory_real):
    """A real crm service on its own SQLite file: tenant A (admin Åse Øvre, a coworker)
    and tenant B; returns ids."""
    from crm import auth
    from crm.models import Tenant, User
    from crm.service import CrmService
    from service_common.db import make_engine
    from service_common.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    upgrade("crm", url)
    engine = make_engine(url, pool_size=1)
    with Session(engine) as s:
        a = auth.ensure_tenant(s, "Agency A", "ase@agency-a.no", "password-a-123", admin_name="Åse Øvre")
        b = Tenant(name="Agency B", currency="SEK")
        s.add(b)
        s.flush()
        s.add(User(tenant_id=b.id, email="bo@agency-b.se", name="Bo Admin", password_hash="x", role="admin", active=True))
        s.commit()
        users = {u.email: u.id for u in s.scalars(select(User))}
        world = {"a": a.id, "b": b.id, "admin": users["ase@agency-a.no"], "b_admin": users["bo@agency-b.se"]}
    engine.dispose()
    container = container_factory_real(CrmService, {"CRM_DATABASE_URL": url})
    container.start()
    return world


@pytest.fixture
def mailer_factory(container_factory_real, database_url):
    """Start a mailer (its API and its sender containers, as ``service_common.run`` does)
    against ``database_url`` and an SMTP server."""

    def make(smtp, **config):
        cfg = {"MAILER_DATABASE_URL": database_url, "MAILER_SMTP_HOST": "127.0.0.1", "MAILER_SMTP_PORT": smtp.port,
               "MAILER_RATE_PER_SECOND": 0, "MAILER_STALE_SECONDS": 2, "MAILER_RETRY_DELAY": 0.1,
               "MAILER_FROM_ADDRESS": "crm@agency-a.no", "MAILER_SECRET": "test-secret",
               "MAILER_PUBLIC_URL": "http://crm.test", "MAILER_DEV_OUTBOX": smtp.store}
        cfg.update(config)
        container = container_factory_real(MailerService, cfg)
        container.start()
        container_factory_real(MailerSender, cfg).start()
        return container

    return make


@pytest.fixture
def clients(crm_world, rpc_factory):
    return {"crm": rpc_factory(tenant_id=crm_world["a"], user_id=crm_world["admin"]).crm,
            "mailer": rpc_factory(tenant_id=crm_world["a"], user_id=crm_world["admin"], timeout=30).mailer,
            "b_mailer": rpc_factory(tenant_id=crm_world["b"], user_id=crm_world["b_admin"], timeout=30).mailer,
            "anonymous": rpc_factory(timeout=30).mailer}


def make_companies(crm, n_companies=3, contacts_each=2, prefix="Firma"):
    """Companies with their own address and contacts; returns company ids."""
    ids = []
    for i in range(n_companies):
        cid = crm.create_company({"name": f"{prefix} {i} AS", "country": "NO", "email": f"post{i}@{prefix.lower()}.no"})["id"]
        for j in range(contacts_each):
            crm.create_contact({"company_id": cid, "first_name": f"Kari{j}", "last_name": f"Nordmann{i}",
                                "email": f"kari{j}.{i}@{prefix.lower()}.no"})
        ids.append(cid)
    return ids


def wait_done(mailer, campaign_id, timeout=60.0):
    return wait_for(lambda: (c := mailer.get_campaign(campaign_id))["status"] == "done" and c, timeout,
                    interval=0.2, what=f"campaign {campaign_id} done")


MESSAGE = {"subject": "Hei {{ first_name }} – nytt fra oss", "sender_title": "Salgssjef",
           "body": "Hei {{ first_name }} {{ last_name }} i {{ company_name }},\n\nMvh\n{{ sender_name }}, {{ sender_title }}"}
