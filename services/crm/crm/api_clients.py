"""API clients: a tenant admin lets another team's program call the RPC API.

The admin names the client and picks its scopes; the secret is returned once
and stored as an argon2 hash. The program exchanges ``client_id`` +
``client_secret`` for a short-lived token at the gateway (``POST /api/token``),
which asks :func:`verify` here and mints the token; the crm never signs.
Plain logic.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .exceptions import NotFound, Unauthenticated
from .models import ApiClient
from .schemas import ApiClientCredentials, ApiClientIn

hasher = PasswordHasher()
_DUMMY = hasher.hash("not-a-client-secret")


def _dump(client: ApiClient) -> dict:
    return {
        "id": client.id,
        "name": client.name,
        "scopes": client.scopes.split(),
        "created_at": client.created_at.isoformat() if client.created_at else None,
        "last_used_at": client.last_used_at.isoformat() if client.last_used_at else None,
        "revoked": client.revoked_at is not None,
    }


def create(session: Session, tenant_id: int, user_id: int, data: ApiClientIn) -> dict:
    secret = secrets.token_urlsafe(32)
    client = ApiClient(tenant_id=tenant_id, name=data.name.strip(), scopes=" ".join(sorted(set(data.scopes))),
                       secret_hash=hasher.hash(secret), created_by=user_id)
    session.add(client)
    session.commit()
    return {**_dump(client), "client_secret": secret}


def list_clients(session: Session, tenant_id: int) -> list[dict]:
    rows = session.scalars(select(ApiClient).where(ApiClient.tenant_id == tenant_id).order_by(ApiClient.id))
    return [_dump(c) for c in rows]


def revoke(session: Session, tenant_id: int, client_id: int) -> dict:
    client = session.scalar(select(ApiClient).where(ApiClient.id == client_id, ApiClient.tenant_id == tenant_id))
    if client is None:
        raise NotFound("No such API client")
    if client.revoked_at is None:
        client.revoked_at = datetime.now(timezone.utc)
        session.commit()
    return _dump(client)


def verify(session: Session, data: ApiClientCredentials) -> dict:
    """-> {"id", "tenant_id", "scopes"} when the secret is right and the client not revoked."""
    client = session.get(ApiClient, data.client_id)
    try:
        ok = hasher.verify(client.secret_hash if client else _DUMMY, data.client_secret) and client is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or client.revoked_at is not None:
        raise Unauthenticated("Unknown API client or wrong secret")
    client.last_used_at = datetime.now(timezone.utc)
    session.commit()
    return {"id": client.id, "tenant_id": client.tenant_id, "name": client.name, "scopes": client.scopes.split()}
