"""The trust boundary: the crm believes only signed caller tokens.

Every entrypoint of the service (found by introspection, so a new one is
covered the day it is added) is called over real RabbitMQ with forged context
headers, with no token, with an expired token, with a token signed by another
key, with a service identity claiming to be a user, and with a token for
another tenant: every one is refused, and tenant A's data stays A's.
"""
from __future__ import annotations

import inspect
import time

import pytest
from nameko.rpc import Rpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Company
from crm.service import CrmService
from service_common.auth import Signer
from service_common.testing import ALL_SERVICES, mint_token

from conftest import remote_error

PUBLIC = {"health"}  # probes call it without a token: it returns nothing but "ok" and a timing


def entrypoints() -> list[tuple[str, int]]:
    found = []
    for name, fn in inspect.getmembers(CrmService, inspect.isfunction):
        rpcs = [e for e in getattr(fn, "nameko_entrypoints", ()) if isinstance(e, Rpc)]
        if rpcs and name not in PUBLIC:
            params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
            found.append((name, len([p for p in params if p.default is inspect.Parameter.empty])))
    return sorted(found)


def _args(count: int) -> list:
    # plausible-looking arguments: the token is checked before anything else is looked at
    return [1] * count


def test_every_entrypoint_is_found():
    names = {n for n, _ in entrypoints()}
    assert {"get_company", "list_companies", "create_user", "login", "update_company"} <= names


@pytest.fixture
def forged(running_service, rpc_factory, world):
    other_key = Signer("gateway", Ed25519PrivateKey.generate())
    now = int(time.time())
    return {
        "bare headers": rpc_factory(anonymous=True, context={"tenant_id": world["a"], "user_id": world["admin"]}),
        "no token": rpc_factory(anonymous=True),
        "expired": rpc_factory(token=mint_token(world["a"], world["admin"], ttl=-60)),
        "other key": rpc_factory(token=other_key.mint(audience=ALL_SERVICES, typ="user", tenant_id=world["a"],
                                                      user_id=world["admin"], role="admin")),
        "other audience": rpc_factory(token=mint_token(world["a"], world["admin"], audience=("export",))),
        "service as user": rpc_factory(token=mint_token(world["a"], world["admin"], typ="user", issuer="export")),
        "garbage": rpc_factory(token="not.a.token"),
        "future": rpc_factory(token=_future(world, now)),
    }


def _future(world, now):
    import jwt

    from service_common.testing import keys_dir
    from service_common.auth import load_private_key

    key = load_private_key(keys_dir() / "gateway.key")
    return jwt.encode({"iss": "gateway", "aud": list(ALL_SERVICES), "iat": now, "exp": now + 7200 * 24, "typ": "user",
                       "tid": world["a"], "uid": world["admin"], "scp": ["*"]}, key, algorithm="EdDSA")


def test_every_entrypoint_refuses_a_caller_without_a_valid_token(forged):
    problems = []
    for how, proxy in forged.items():
        for name, count in entrypoints():
            err = remote_error(getattr(proxy.crm, name), *_args(count))
            if err.exc_type not in ("Unauthenticated", "Forbidden"):
                problems.append(f"{how}: {name} -> {err.exc_type}: {err.value}")
    assert not problems, "\n".join(problems)


def test_health_stays_public_and_says_nothing(running_service, rpc_factory):
    reply = rpc_factory(anonymous=True).crm.health()
    assert set(reply) == {"status", "service", "db_ms"}


def test_a_token_for_another_tenant_never_reaches_this_tenants_data(running_service, rpc_factory, world, engine):
    with Session(engine) as s:
        a_ids = list(s.scalars(select(Company.id).where(Company.tenant_id == world["a"])))
        a_names = {n for n in s.scalars(select(Company.name).where(Company.tenant_id == world["a"]))}
    b = rpc_factory(tenant_id=world["b"], user_id=world["b_admin"]).crm
    leaks = []
    for name, count in entrypoints():
        if name in ("login", "login_totp", "logout") or count == 0:
            continue
        try:
            result = getattr(b, name)(*([a_ids[0]] + [{}] * (count - 1)))
        except Exception:  # noqa: BLE001 - refused one way or another: what matters is what came back
            continue
        if any(n in repr(result) for n in a_names):
            leaks.append(name)
    assert not leaks, f"tenant B saw tenant A's companies through {leaks}"
    listed = b.list_companies({"per_page": 200})
    assert not {c["id"] for c in listed["items"]} & set(a_ids)
    err = remote_error(b.update_company, a_ids[0], {"name": "Taken over"})
    assert err.exc_type == "NotFound"
    with Session(engine) as s:
        assert "Taken over" not in set(s.scalars(select(Company.name)))


def test_login_takes_the_client_address_from_the_token_only(running_service, rpc_factory, world):
    # an API client or a user token cannot call login; the gateway's own identity can
    user = rpc_factory(tenant_id=world["a"], user_id=world["admin"]).crm
    assert remote_error(user.login, {"email": "a@example.com", "password": "x"}).exc_type == "Forbidden"
    gateway = rpc_factory(client_ip="203.0.113.9").crm
    err = remote_error(gateway.login, {"email": "a@example.com", "password": "wrong", "ip": "198.51.100.1"})
    assert err.exc_type == "Unauthenticated"


def test_api_client_scopes_are_enforced(running_service, rpc_factory, world):
    reader = rpc_factory(token=mint_token(world["a"], typ="api", scopes=("companies:read",))).crm
    page = reader.list_companies({"per_page": 5})
    assert page["items"]
    company_id = page["items"][0]["id"]
    assert remote_error(reader.update_company, company_id, {"name": "Nope"}).exc_type == "Forbidden"
    for name in ("list_users", "get_account", "get_tenant_settings"):
        assert remote_error(getattr(reader, name)).exc_type == "Forbidden", name
    wildcard = rpc_factory(token=mint_token(world["a"], typ="api", scopes=("*",))).crm
    assert remote_error(wildcard.list_companies, {}).exc_type == "Unauthenticated"
