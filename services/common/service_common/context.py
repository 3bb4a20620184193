"""Who is calling, proven: the signed caller token in nameko's context.

Callers send the AMQP header ``nameko.auth`` holding a token minted by the
gateway (users, API clients, the gateway itself) or by a service (its service
identity): see :mod:`service_common.auth`. nameko hands the header to the
worker as ``worker_ctx.data["auth"]``. Bare ``nameko.tenant_id`` /
``nameko.user_id`` headers mean nothing any more: a call without a valid
token is refused with ``Unauthenticated``.

An entrypoint asks for its caller in its first line::

    caller = self.caller.require()            # a tenant's user or API client
    caller = self.caller.require("credit:write")  # also accepts a service identity with that scope
    caller = self.caller.require_any()        # any valid token, tenant optional (login, unsubscribe)

Scopes: users carry ``*`` (what they may do is decided by their role, in the
service's database). API clients carry named scopes; the provider gives each
entrypoint a scope (``scopes={"method": "scope"}``, else ``<read>`` for methods
named get_/list_/search_/count_/export_ and ``<write>`` for the rest), and an
API client without it is refused with ``Forbidden``.
"""
from __future__ import annotations

import json
import os

from nameko.extensions import DependencyProvider

from . import auth
from .auth import Caller
from .errors import Forbidden, Unauthenticated

__all__ = ["Caller", "CallerAccessor", "CallerProvider"]
READ_PREFIXES = ("get_", "list_", "search_", "count_", "export_", "download_")


class CallerAccessor:
    def __init__(self, verifier: auth.Verifier | None, data: dict, entry_scope: str | None):
        self._verifier = verifier
        self._data = data
        self._scope = entry_scope
        self._caller: Caller | None = None

    @property
    def token(self) -> str | None:
        return self._data.get("auth")

    def _verified(self) -> Caller:
        if self._caller is None:
            if self._verifier is None:
                raise Unauthenticated("This service has no caller keys configured (AUTH_KEYS_DIR)")
            self._caller = self._verifier.verify(self._data.get("auth"))
        return self._caller

    def require_any(self) -> Caller:
        """Any valid token: the gateway's own identity (no tenant), a user, an API client."""
        caller = self._verified()
        if caller.kind == "service":
            raise Forbidden(f"{caller.issuer} may not call this")
        return caller

    def require(self, scope: str | None = None) -> Caller:
        """A caller acting for a tenant. ``scope`` names a right a service
        identity may hold for this entrypoint; users and API clients are also
        checked against the entrypoint's scope."""
        caller = self._verified()
        if caller.tenant_id is None:
            raise Unauthenticated("This call acts for a tenant: the caller token names none")
        if caller.kind == "service":
            if scope is None or not caller.has_scope(scope):
                raise Forbidden(f"{caller.issuer} may not call this")
            return caller
        if caller.kind == "gateway":
            raise Unauthenticated("This call needs a user's or an API client's token")
        needed = scope or self._scope
        if caller.kind == "api" and needed and not caller.has_scope(needed):
            raise Forbidden(f"This API client lacks the scope {needed}")
        return caller

    def optional(self) -> Caller | None:
        return None if not self._data.get("auth") else self.require()


class CallerProvider(DependencyProvider):
    def __init__(self, read_scope: str | None = None, write_scope: str | None = None, scopes: dict | None = None):
        self.read_scope = read_scope
        self.write_scope = write_scope
        self.scopes = scopes or {}
        self.verifier: auth.Verifier | None = None

    def setup(self):
        config = self.container.config
        directory = auth.keys_dir(config)
        service_scopes = config.get("AUTH_SERVICE_SCOPES")
        if service_scopes is None and os.environ.get("AUTH_SERVICE_SCOPES"):
            service_scopes = json.loads(os.environ["AUTH_SERVICE_SCOPES"])
        name = self.container.service_name
        self.read_scope = self.read_scope or f"{name}:read"
        self.write_scope = self.write_scope or f"{name}:write"
        if directory is None or not directory.is_dir():
            raise RuntimeError(f"{name}: set AUTH_KEYS_DIR to the directory of the caller-token public keys "
                               "(python -m service_common.auth keygen DIR gateway)")
        keys = auth.load_public_keys(directory)
        if auth.GATEWAY not in keys:
            raise RuntimeError(f"{name}: no {auth.GATEWAY}.pub in {directory}")
        self.verifier = auth.Verifier(name, keys, service_scopes or {})

    def _scope_of(self, method: str) -> str:
        if method in self.scopes:
            return self.scopes[method]
        return self.read_scope if method.startswith(READ_PREFIXES) else self.write_scope

    def get_dependency(self, worker_ctx):
        method = worker_ctx.entrypoint.method_name
        return CallerAccessor(self.verifier, worker_ctx.data or {}, self._scope_of(method))
