"""The caller tokens the gateway sends with every service call.

The gateway is the only holder of the ``gateway`` signing key (Ed25519;
``GATEWAY_SIGNING_KEY_FILE``, or ``gateway.key`` in ``AUTH_KEYS_DIR``). For each
call it sends a short-lived token naming the tenant, the user, the role, the
client address and the user's session version, for the target service (and,
for the export and the mailer, the crm they read from on the user's behalf).
Without a logged-in user (login, health, the unsubscribe page) it sends its
own identity (``typ=gateway``, no tenant). See service_common.auth.
"""
from __future__ import annotations

import threading
import time

from flask import current_app, g, has_request_context, request

from service_common.auth import Signer

# who may accept a token minted for a call to each service, and how long it lives:
# export and mailer jobs pass the caller's token on to the crm while they work.
AUDIENCE = {
    "crm": ("crm",),
    "registry_lookup": ("registry_lookup",),
    "credit_monitor": ("credit_monitor",),
    "mailer": ("mailer", "crm"),
    "export": ("export", "crm"),
}
TTL = {"mailer": 900, "export": 900}
DEFAULT_TTL = 120

_local = threading.local()


def signer() -> Signer:
    return current_app.extensions["token_signer"]


def _client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def for_call(service: str, as_gateway: bool = False) -> str:
    """A token for one call to ``service`` by the current user (or the gateway).

    Tokens are reused by the same thread for the same caller while more than
    half their life is left, so a page making many calls signs once."""
    user = None if as_gateway else getattr(g, "user", None)
    ip = _client_ip()
    ttl = TTL.get(service, DEFAULT_TTL)
    audience = AUDIENCE.get(service, (service,))
    if user:
        key = (service, user["tenant_id"], user["id"], user.get("role"), user.get("session_version"), ip)
    else:
        key = (service, None, None, None, None, ip)
    cache = getattr(_local, "cache", None)
    if cache is None or getattr(_local, "signer", None) is not signer():
        cache = _local.cache = {}
        _local.signer = signer()
    now = time.time()
    hit = cache.get(key)
    if hit is not None and hit[0] - now > ttl / 2:
        return hit[1]
    if user:
        token = signer().mint(audience=audience, typ="user", ttl=ttl, tenant_id=user["tenant_id"],
                              user_id=user["id"], role=user.get("role"), client_ip=ip,
                              session_version=user.get("session_version"))
    else:
        token = signer().mint(audience=audience, typ="gateway", ttl=ttl, client_ip=ip)
    if len(cache) > 256:
        cache.clear()
    cache[key] = (now + ttl, token)
    return token


def for_api_client(client: dict, ttl: int = 900) -> str:
    """An API client's token (after it proved its secret): its tenant and scopes, every service."""
    return signer().mint(audience=tuple(AUDIENCE), typ="api", ttl=ttl, tenant_id=client["tenant_id"],
                         scopes=client["scopes"], subject=f"api:{client['id']}", client_ip=_client_ip())
