"""Interface tests of the crm service.

Real: RabbitMQ (AMQP_URI), the service container, SQLite and PostgreSQL.
Faked: nothing.
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - services run eventlet-patched

import pytest

from crm.service import DATABASE, MIGRATIONS, CrmService

pytest_plugins = ["service_common.testing"]


@pytest.fixture
def service_spec():
    return (CrmService, MIGRATIONS, *DATABASE)


@pytest.fixture
def world(engine):
    """Tenant A (NOK): an admin, a plain coworker and 12 full demo companies;
    tenant B (SEK): an admin and 4 companies. Returns ids and caller contexts."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from crm import auth, demo
    from crm.models import Tenant, User

    with Session(engine) as s:
        a = auth.ensure_tenant(s, "Agency A", "a@example.com", "password-a-123", admin_name="Anne Admin")
        b = Tenant(name="Agency B", currency="SEK")
        s.add(b)
        s.flush()
        s.add(User(tenant_id=b.id, email="b@example.com", name="Bo Admin", password_hash="x", role="admin", active=True))
        s.add(User(tenant_id=a.id, email="kari@example.com", name="Kari User", password_hash="x", role="user", active=True))
        s.commit()
        demo.load_full(s, a.id, 12, seed=3)
        demo.load_full(s, b.id, 4, seed=4)
        users = {u.email: u.id for u in s.scalars(select(User))}
        return {
            "a": a.id, "b": b.id, "admin": users["a@example.com"], "kari": users["kari@example.com"],
            "b_admin": users["b@example.com"],
        }


@pytest.fixture
def clients(running_service, rpc_factory, world):
    """RPC proxies as A's admin, A's coworker Kari and B's admin."""
    return {
        "admin": rpc_factory(tenant_id=world["a"], user_id=world["admin"]).crm,
        "kari": rpc_factory(tenant_id=world["a"], user_id=world["kari"]).crm,
        "b": rpc_factory(tenant_id=world["b"], user_id=world["b_admin"]).crm,
    }


def remote_error(call, *args):
    """Run an RPC call that must fail; return the RemoteError."""
    from nameko.exceptions import RemoteError

    with pytest.raises(RemoteError) as info:
        call(*args)
    return info.value
