"""Other teams' programs: an admin creates an API client in the browser pages,
the program exchanges its secret for a token at the gateway and calls the crm's
RPC API over RabbitMQ with it; its scopes hold; a revoked client gets no token.
Real: the whole suite."""
from __future__ import annotations

import re

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from tests.conftest import csrf_token


def _create(suite, admin, name, scopes):
    page = admin.get(f"{suite.url}/admin/api-clients")
    assert page.status_code == 200
    r = admin.post(f"{suite.url}/admin/api-clients",
                   data={"csrf_token": csrf_token(page.text), "name": name, "scopes": scopes})
    assert r.status_code == 200, r.text[:300]
    match = re.search(r'data-testid="client-id">(\d+)<', r.text)
    assert match, " ".join(r.text[r.text.find("<main"):].split())[:1500]
    client_id = match.group(1)
    secret = re.search(r'data-testid="client-secret">([^<]+)<', r.text).group(1)
    return client_id, secret


def test_a_program_reads_companies_with_its_token_and_cannot_write(suite, admin):
    client_id, secret = _create(suite, admin, "Payroll sync", ["companies:read"])
    assert secret not in admin.get(f"{suite.url}/admin/api-clients").text  # shown once only

    bad = requests.post(f"{suite.url}/api/token", data={"client_id": client_id, "client_secret": secret + "x"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    r = requests.post(f"{suite.url}/api/token", json={"client_id": client_id, "client_secret": secret})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "companies:read" and body["expires_in"] > 0

    with ClusterRpcProxy({"AMQP_URI": suite.env["AMQP_URI"]}, context_data={"auth": body["access_token"]},
                         timeout=10) as rpc:
        page = rpc.crm.list_companies({"per_page": 5})
        assert page["total"] > 0 and len(page["items"]) == 5
        with pytest.raises(RemoteError) as info:
            rpc.crm.update_company(page["items"][0]["id"], {"name": "Renamed by a program"})
        assert info.value.exc_type == "Forbidden"
        with pytest.raises(RemoteError) as info:
            rpc.crm.list_users()
        assert info.value.exc_type in ("Forbidden",)
    with ClusterRpcProxy({"AMQP_URI": suite.env["AMQP_URI"]}, context_data={"tenant_id": 1, "user_id": 1},
                         timeout=10) as forged:
        with pytest.raises(RemoteError) as info:
            forged.crm.list_companies({"per_page": 5})
        assert info.value.exc_type == "Unauthenticated"


def test_a_revoked_client_gets_no_token(suite, admin):
    client_id, secret = _create(suite, admin, "Old integration", ["companies:read", "companies:write"])
    page = admin.get(f"{suite.url}/admin/api-clients")
    r = admin.post(f"{suite.url}/admin/api-clients/{client_id}/revoke", data={"csrf_token": csrf_token(page.text)})
    assert r.status_code == 200 and "Revoked" in r.text
    r = requests.post(f"{suite.url}/api/token", data={"client_id": client_id, "client_secret": secret})
    assert r.status_code == 401


def test_only_admins_manage_api_clients(suite):
    anonymous = requests.get(f"{suite.url}/admin/api-clients", allow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
