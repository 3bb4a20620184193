"""The only module that talks to services: one function per remote operation.

Each call carries the logged-in caller's tenant and user (from the session)
and has a timeout. Views import these functions, never a proxy.
"""
from __future__ import annotations

import time
from flask import current_app, g

from .. import errors
from .transport import CallTimeout, NoSuchService, RemoteFailure, RpcTransport, TransportError

SERVICES = ("crm", "registry_lookup", "credit_monitor", "mailer", "export")


def transport() -> RpcTransport:
    return current_app.extensions["rpc"]


def _context() -> dict:
    user = getattr(g, "user", None)
    if not user:
        return {}
    return {"tenant_id": user["tenant_id"], "user_id": user["id"]}


def call(service: str, method: str, *args, timeout: float | None = None, context: dict | None = None, **kwargs):
    timeout = timeout or current_app.config["RPC_TIMEOUT"]
    try:
        return transport().call(
            service, method, args, kwargs, context=_context() if context is None else context, timeout=timeout
        )
    except RemoteFailure as exc:
        raise errors.from_remote(exc.error) from None
    except CallTimeout:
        raise errors.ServiceTimeout(f"The {service} service did not answer within {timeout:g} s. Try again in a moment.") from None
    except NoSuchService:
        raise errors.ServiceUnavailable(f"The {service} service is not running.") from None
    except TransportError:
        raise errors.ServiceUnavailable("The message broker cannot be reached. Try again in a moment.") from None


# -- health ---------------------------------------------------------------
def health_all(timeout: float = 1.0) -> dict:
    """Every service's health, in parallel: {name: {"status", "ms", ["error"]}}."""
    app = current_app._get_current_object()

    def one(name):
        with app.app_context():
            start = time.perf_counter()
            try:
                transport().call(name, "health", timeout=timeout)
                return name, {"status": "ok", "ms": round((time.perf_counter() - start) * 1000, 2)}
            except Exception as exc:  # noqa: BLE001 - any failure means down
                return name, {"status": "down", "ms": round((time.perf_counter() - start) * 1000, 2),
                              "error": type(exc).__name__}

    return dict(transport().fanout(one, SERVICES, workers=len(SERVICES)))


# -- auth, coworkers, departments -------------------------------------------
def login(email: str, password: str, ip: str | None):
    return call("crm", "login", {"email": email, "password": password, "ip": ip}, context={})


def list_users():
    return call("crm", "list_users")


def create_user(data: dict):
    return call("crm", "create_user", data)


def list_departments():
    return call("crm", "list_departments")


def create_department(data: dict):
    return call("crm", "create_department", data)


# -- companies ---------------------------------------------------------------
def search_companies(q: str = "", page: int = 1, per_page: int = 50):
    return call("crm", "search_companies", {"q": q, "page": page, "per_page": per_page})


def create_company(data: dict):
    return call("crm", "create_company", data)


def get_company(company_id: int):
    return call("crm", "get_company", company_id)
