"""pytest plugin shared by the services' interface tests.

Real parts only: a real RabbitMQ (``AMQP_URI``; ``make test`` points it at a
vhost of its own so a running suite is not disturbed) and a real database,
each test run on SQLite and on PostgreSQL (``TEST_POSTGRES_URL``, default the
local server). Nothing is mocked here.

Caller tokens are real too: at start-up the plugin makes an Ed25519 key pair
for the ``gateway`` issuer (and one per service identity) in a temporary
``AUTH_KEYS_DIR``, which the service containers verify against, and
``rpc_factory(tenant_id=..., user_id=...)`` sends a token minted with it, as
the gateway does. ``mint_token(...)`` makes others (expired, other tenant...).

Use from a service's conftest::

    pytest_plugins = ["service_common.testing"]

and define a ``service_spec`` fixture returning (service_class, package, db_name, env_prefix).
"""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from . import auth
from .db import make_engine, normalise_url
from .migrate import upgrade

DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


SERVICE_IDENTITIES = ("credit_monitor", "export", "mailer", "crm", "registry_lookup")
ALL_SERVICES = ("crm", "registry_lookup", "credit_monitor", "mailer", "export")


def pytest_configure(config):
    """One key directory for the whole run, unless the environment gives one."""
    if not os.environ.get("AUTH_KEYS_DIR"):
        directory = Path(tempfile.mkdtemp(prefix="crm-test-keys-"))
        for issuer in ("gateway", *SERVICE_IDENTITIES):
            auth.generate(directory, issuer)
        os.environ["AUTH_KEYS_DIR"] = str(directory)


def keys_dir() -> Path:
    return Path(os.environ["AUTH_KEYS_DIR"])


def mint_token(tenant_id=None, user_id=None, *, typ=None, role="admin", scopes=("*",), audience=ALL_SERVICES,
               ttl=3600, issuer="gateway", client_ip="127.0.0.1", **claims) -> str:
    """A token as the gateway (or ``issuer``) would mint it."""
    if typ is None:
        typ = "user" if user_id is not None else ("api" if tenant_id is not None else "gateway")
    signer = auth.Signer.from_dir(keys_dir(), issuer)
    return signer.mint(audience=audience, typ=typ, ttl=ttl, tenant_id=tenant_id, user_id=user_id,
                       role=role if typ == "user" else None, scopes=scopes, client_ip=client_ip, **claims)


@pytest.fixture
def token_factory():
    return mint_token


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP)


@pytest.fixture(scope="session")
def rabbit_uri():
    return amqp_uri()


@pytest.fixture(scope="session")
def postgres_admin_url():
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG)


def _create_pg_database(admin_url: str, name: str) -> str:
    engine = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(admin_url: str, name: str) -> None:
    engine = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, postgres_admin_url, service_spec):
    """A fresh, migrated database for one test: SQLite file or PostgreSQL database."""
    _cls, package, _name, _prefix = service_spec
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'svc.sqlite3'}"
        upgrade(package, url)
        yield url
        return
    name = f"t_{package}_{uuid.uuid4().hex[:10]}"
    url = _create_pg_database(postgres_admin_url, name)
    try:
        upgrade(package, url)
        yield url
    finally:
        _drop_pg_database(postgres_admin_url, name)


@pytest.fixture
def engine(database_url):
    eng = make_engine(database_url, pool_size=2)
    yield eng
    eng.dispose()


@pytest.fixture
def container_factory_real(rabbit_uri):
    """Start real nameko containers on the real broker; stop them after the test."""
    from nameko.containers import ServiceContainer

    from .amqp import tune_rpc_replies

    tune_rpc_replies()  # as service_common.run does
    from .run import quiet_expected_errors

    quiet_expected_errors()  # expected errors on one line, as in production

    containers = []

    def make(service_cls, extra_config=None):
        config = {"AMQP_URI": rabbit_uri, "max_workers": 10, "HEARTBEAT": 30}
        config.update(extra_config or {})
        container = ServiceContainer(service_cls, config)
        containers.append(container)
        return container

    yield make
    for c in containers:
        try:
            c.stop()
        except Exception:  # pragma: no cover
            c.kill()


@pytest.fixture
def running_service(container_factory_real, database_url, service_spec, rabbit_uri):
    """The service under test, started on the real broker against ``database_url``."""
    cls, _package, _name, prefix = service_spec
    container = container_factory_real(cls, {f"{prefix}_DATABASE_URL": database_url})
    container.start()
    return container


@pytest.fixture
def rpc_factory(rabbit_uri):
    """``rpc_factory(tenant_id=1, user_id=1)`` -> a started ClusterRpcProxy whose
    calls carry a user token for that tenant and user (no ids: the gateway's own
    identity, as for login). ``token=`` sends that token instead, ``token=None``
    with ``anonymous=True`` sends none; ``context=`` adds raw context headers."""
    from nameko.standalone.rpc import ClusterRpcProxy

    proxies = []

    def make(tenant_id=None, user_id=None, timeout=10, token=None, anonymous=False, context=None, **claims):
        ctx = dict(context or {})
        if token is None and not anonymous:
            token = mint_token(tenant_id, user_id, typ="user" if user_id is not None else None, **claims)
        if token is not None:
            ctx["auth"] = token
        proxy = ClusterRpcProxy({"AMQP_URI": rabbit_uri}, context_data=ctx, timeout=timeout)
        proxies.append(proxy)
        return proxy.start()

    yield make
    for p in proxies:
        p.stop()
