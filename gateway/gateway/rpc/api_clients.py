"""RPC functions for API clients (crm)."""
from __future__ import annotations

from .. import tokens
from . import call


def list_api_clients():
    return call("crm", "list_api_clients")


def create_api_client(name: str, scopes: list[str]):
    return call("crm", "create_api_client", {"name": name, "scopes": scopes})


def revoke_api_client(client_id: int):
    return call("crm", "revoke_api_client", client_id)


def verify_api_client(client_id: int, client_secret: str):
    return call("crm", "verify_api_client", {"client_id": client_id, "client_secret": client_secret},
                context={"auth": tokens.for_call("crm", as_gateway=True)})
