"""Who is calling: tenant and user, carried in nameko's context headers.

Callers send AMQP headers ``nameko.tenant_id`` and ``nameko.user_id`` (the
gateway does so on every call); nameko hands them to the worker as
``worker_ctx.data``. Services scope every query by ``tenant_id``.
"""
from __future__ import annotations

from dataclasses import dataclass

from nameko.extensions import DependencyProvider

from .errors import Unauthenticated


@dataclass(frozen=True)
class Caller:
    tenant_id: int
    user_id: int | None


class CallerAccessor:
    def __init__(self, data: dict):
        self._data = data

    def optional(self) -> Caller | None:
        tenant = self._data.get("tenant_id")
        if tenant in (None, ""):
            return None
        try:
            tenant_id = int(tenant)
            user = self._data.get("user_id")
            user_id = int(user) if user not in (None, "") else None
        except (TypeError, ValueError):
            raise Unauthenticated("Malformed caller context") from None
        return Caller(tenant_id=tenant_id, user_id=user_id)

    def require(self) -> Caller:
        caller = self.optional()
        if caller is None:
            raise Unauthenticated("This call needs a tenant: send the nameko.tenant_id header")
        return caller


class CallerProvider(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return CallerAccessor(worker_ctx.data or {})
