"""Tests of the credit_monitor service.

Real: RabbitMQ (AMQP_URI), the service container, SQLite and PostgreSQL, and
the Creditsafe stand-in (credit_monitor.standin, a real HTTP server speaking the
Connect API on a free port). Faked: nothing; Creditsafe outages are the
stand-in's fault modes.
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - services run eventlet-patched

import socket
import time
import uuid

import pytest
import requests
from nameko.standalone.events import event_dispatcher

from credit_monitor import standin
from credit_monitor.service import DATABASE, MIGRATIONS, CreditMonitorService

pytest_plugins = ["service_common.testing"]


@pytest.fixture
def service_spec():
    return (CreditMonitorService, MIGRATIONS, *DATABASE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Standin:
    def __init__(self, server, port):
        self.server, self.port = server, port
        self.root = f"http://127.0.0.1:{port}"
        self.url = f"{self.root}/v1"
        self.state = server.state

    def control(self, name, body=None):
        if body is None and name == "stats":
            return requests.get(f"{self.root}/_control/stats", timeout=5).json()
        response = requests.post(f"{self.root}/_control/{name}", json=body or {}, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    @property
    def auth_count(self):
        return self.control("stats")["authenticate"]

    def fault(self, mode, **kw):
        return self.control("fault", {"mode": mode, **kw})


@pytest.fixture
def creditsafe():
    port = free_port()
    server = standin.serve("127.0.0.1", port)
    yield Standin(server, port)
    server.shutdown()


@pytest.fixture
def secret_key():
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@pytest.fixture
def credit_service(container_factory_real, database_url, creditsafe, secret_key):
    """The service on the real broker, its DB, pointed at the stand-in."""
    def start(**extra):
        container = container_factory_real(CreditMonitorService, {
            "CREDIT_DATABASE_URL": database_url, "CREDITSAFE_URL": creditsafe.url,
            "CREDITSAFE_USERNAME": standin.DEV_USERNAME, "CREDITSAFE_PASSWORD": standin.DEV_PASSWORD,
            "CREDIT_SECRET_KEY": secret_key, "CREDITSAFE_RETRIES": 1, "CREDIT_EVENTS_PAGE_SIZE": 7, **extra})
        container.start()
        return container
    return start


@pytest.fixture
def identify(rabbit_uri):
    dispatch = event_dispatcher({"AMQP_URI": rabbit_uri})

    def send(tenant_id, company_id, country, org_number, event_id=None):
        payload = {"event_id": event_id or str(uuid.uuid4()), "tenant_id": tenant_id, "company_id": company_id,
                   "country": country, "org_number": org_number, "name": f"Company {company_id}"}
        dispatch("crm", "company_identified", payload)
        return payload
    return send


def wait_for(check, timeout=15.0, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last: {last!r})")
