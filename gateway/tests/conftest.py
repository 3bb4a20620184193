"""Gateway tests: the Flask app, its views, templates, forms, CSRF and headers are
real (Flask's test client, no server); the services are faked.

What is faked: the RPC transport. ``create_app`` takes ``RPC_TRANSPORT`` from the
config, so each test gets a ``FakeTransport`` that records every call
(service, method, args, caller context, timeout) and answers from canned data
or raises the same ``RemoteFailure`` the real transport raises for a service's
error reply. ``fanout`` runs on real threads, as the real one does, so the
caller's identity has to travel to worker threads for the tests to pass.

What is not tested here: RabbitMQ, the crm service, the browser (htmx itself).
End-to-end and Playwright tests against the running stack cover those.
Run unpatched (no eventlet), in its own pytest process.
"""
from __future__ import annotations

import pytest

from gateway_fakes import ATTRIBUTES, USERS, FakeTransport, company, list_result, log_in, make_app, session_state


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """The .mo files Flask-Babel reads, compiled from the .po files when missing or older (as `make install`
    does), so a test run right after editing a catalog sees it."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parents[1] / "gateway" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with open(po, "rb") as f:
                catalog = read_po(f, locale=po.parts[-3])
            with open(mo, "wb") as f:
                write_mo(f, catalog)


@pytest.fixture
def rpc() -> FakeTransport:
    fake = FakeTransport()
    fake.on("list_companies", lambda q: list_result(q))
    fake.on("list_attributes", ATTRIBUTES)
    fake.on("list_views", [{"id": 1, "name": "My customers", "query": "relationship=customer&owner=mine",
                            "shared": False, "owner": {"id": 1, "name": "Ada Admin"}, "mine": True}])
    fake.on("get_company", lambda cid: company(id=cid))
    fake.on("list_users", USERS)
    fake.on("list_departments", [{"id": 2, "name": "Oslo office"}])
    fake.on("list_opt_outs", lambda cid: {})  # issue 9: e-mail opt-outs of a company's contacts
    fake.on("check_company", lambda data, partial=False: {"ok": True})  # issue 13: the crm's dry run
    # Every logged-in request first checks its session version (gateway/web.py). Those checks are
    # answered "still valid" and kept apart in ``fake.session_checks``, so ``calls`` holds the views' calls.
    fake.session_checks = []
    view_call = fake.call

    def call(service, method, args=(), kwargs=None, context=None, timeout=2.0):
        if method == "session_state" and "session_state" not in fake.handlers:
            fake.session_checks.append(args)
            return session_state(*args)
        return view_call(service, method, args, kwargs, context, timeout)

    fake.call = call
    fake.on("company_timeline", lambda cid, opts: [
        {"at": "2026-03-01T10:00:00+00:00", "kind": "activity", "title": "Call with Kari", "detail": "Wants 3 welders",
         "user": {"id": 1, "name": "Ada Admin"}}])
    return fake


@pytest.fixture
def app(rpc):
    return make_app(rpc)


@pytest.fixture
def client(app):
    return log_in(app.test_client())


@pytest.fixture
def anonymous(app):
    return app.test_client()
