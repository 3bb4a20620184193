"""The only module that talks to services: one function per remote operation.

Each call carries a signed token naming the logged-in caller's tenant and
user (gateway/tokens.py; the gateway's own identity when nobody is logged in)
and has a timeout. Views import these functions, never a proxy.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app, g

from .. import errors, tokens
from .transport import CallTimeout, NoSuchService, RemoteFailure, RpcTransport, TransportError

SERVICES = ("crm", "registry_lookup", "credit_monitor", "mailer", "export")


def transport() -> RpcTransport:
    return current_app.extensions["rpc"]


def _context(service: str) -> dict:
    """The caller's signed token for ``service`` (see gateway/tokens.py)."""
    return {"auth": tokens.for_call(service)}


def call(service: str, method: str, *args, timeout: float | None = None, context: dict | None = None, **kwargs):
    timeout = timeout or current_app.config["RPC_TIMEOUT"]
    try:
        return transport().call(
            service, method, args, kwargs, context=_context(service) if context is None else context, timeout=timeout
        )
    except RemoteFailure as exc:
        raise errors.from_remote(exc.error) from None
    except CallTimeout:
        # "too slow" only if some instance consumes the queue; none (it died) is "not answering"
        down = getattr(transport(), "consumer_count", lambda _s: None)(service) == 0
        write = bool(kwargs.get("idempotency_key"))
        raise (errors.not_answering(service, write) if down else errors.too_slow(service, timeout, write)) from None
    except NoSuchService:
        raise errors.not_answering(service, write=bool(kwargs.get("idempotency_key"))) from None
    except TransportError:
        raise errors.broker_unreachable(write=bool(kwargs.get("idempotency_key"))) from None


def parallel(*thunks: Callable[[], object], return_exceptions: bool = False) -> list:
    """Run independent calls at once on the transport's long-lived pool, results in order.

    Each thunk is a zero-argument callable that makes one or more calls of this
    module (``lambda: get_company(7)``). The caller's identity travels with it.
    The first error is raised once every call has finished, unless
    ``return_exceptions``: then errors come back in place of results.
    """
    if not thunks:
        return []
    if len(thunks) == 1 and not return_exceptions:
        return [thunks[0]()]
    if g.get("in_fanout"):
        # Already on a pool thread: waiting there for more pool work could starve the pool. Run inline.
        outcomes = []
        for thunk in thunks:
            try:
                outcomes.append((True, thunk()))
            except errors.GatewayError as exc:
                outcomes.append((False, exc))
        return _results(outcomes, return_exceptions)
    app = current_app._get_current_object()
    user = getattr(g, "user", None)
    tenant = getattr(g, "tenant", None)

    def run(thunk):
        with app.app_context():
            g.user, g.tenant, g.in_fanout = user, tenant, True
            try:
                return True, thunk()
            except errors.GatewayError as exc:
                return False, exc

    return _results(transport().fanout(run, thunks, workers=8), return_exceptions)


def _results(outcomes: list, return_exceptions: bool) -> list:
    if not return_exceptions:
        for ok, value in outcomes:
            if not ok:
                raise value
    return [value for _, value in outcomes]


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
    # the crm takes the client address from the signed token; ``ip`` is kept for the record
    return call("crm", "login", {"email": email, "password": password, "ip": ip},
                context={"auth": tokens.for_call("crm", as_gateway=True)})


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


def create_company(data: dict, idempotency_key: str | None = None):
    return call("crm", "create_company", data, idempotency_key=idempotency_key)


def get_company(company_id: int):
    return call("crm", "get_company", company_id)


def find_companies_by_org_numbers(refs: list[dict]):
    """refs: [{"country", "org_number"}] -> [{"country", "org_number", "id", "name"}], only those the tenant has."""
    return call("crm", "find_companies_by_org_numbers", refs)


# -- the national registries (registry_lookup) --------------------------------
# The registries' live APIs can be slow: these calls get a longer timeout than the crm's.
def _registry_timeout() -> float:
    return current_app.config.get("REGISTRY_RPC_TIMEOUT") or max(current_app.config["RPC_TIMEOUT"], 4.0)


def registry_search(q: str, countries: list[str], limit: int = 10):
    """-> {"items": [{"country","org_number","name","city","status","legal_form"}], "failed_countries", "errors"}"""
    return call("registry_lookup", "search", {"q": q, "countries": countries, "limit": limit},
                timeout=_registry_timeout())


def registry_get(country: str, org_number: str):
    """-> one company's details (records.detail + kind, parent, source, refreshed_at, stale)."""
    return call("registry_lookup", "get", {"country": country, "org_number": org_number}, timeout=_registry_timeout())


def registry_subunits(country: str, org_number: str):
    """-> {"items": [{"org_number","name","status","visiting_address","postal_address","industry","employees",...}]}"""
    return call("registry_lookup", "subunits", {"country": country, "org_number": org_number},
                timeout=_registry_timeout())


# -- the overview ------------------------------------------------------------
def list_companies(query: dict):
    """query: see the contract (q, relationship, country, ..., attr, sort, page, per_page, facets)."""
    return call("crm", "list_companies", query)


def list_views():
    return call("crm", "list_views")


def save_view(data: dict):
    return call("crm", "save_view", data)


def delete_view(view_id: int):
    return call("crm", "delete_view", view_id)


# -- the company card ----------------------------------------------------------
def update_company(company_id: int, changes: dict):
    return call("crm", "update_company", company_id, changes)


def update_invoice_settings(company_id: int, settings: dict):
    return call("crm", "update_invoice_settings", company_id, settings)


def update_addresses(company_id: int, addresses: dict):
    return call("crm", "update_addresses", company_id, addresses)


def copy_address(company_id: int, source: str, target: str):
    return call("crm", "copy_address", company_id, {"from": source, "to": target})


def set_logo(company_id: int, content_type: str, data_b64: str):
    return call("crm", "set_logo", company_id, {"content_type": content_type, "data": data_b64}, timeout=5.0)


def get_logo(company_id: int):
    return call("crm", "get_logo", company_id)


def delete_logo(company_id: int):
    return call("crm", "delete_logo", company_id)


def list_tags(prefix: str = "", limit: int = 10):
    return call("crm", "list_tags", {"prefix": prefix, "limit": limit})


def set_tags(company_id: int, tags: list[str]):
    return call("crm", "set_tags", company_id, tags)


def list_attributes():
    return call("crm", "list_attributes")


def create_attribute(data: dict):
    return call("crm", "create_attribute", data)


def set_attribute_value(company_id: int, attribute_id: int, value):
    return call("crm", "set_attribute_value", company_id, attribute_id, value)


def company_timeline(company_id: int, limit: int = 50, before: str | None = None):
    return call("crm", "company_timeline", company_id, {"limit": limit, "before": before})


def company_history(company_id: int):
    return call("crm", "company_history", company_id)


# -- records on the card -------------------------------------------------------
def list_contacts(company_id: int, include_inactive: bool = False):
    return call("crm", "list_contacts", company_id, {"include_inactive": include_inactive})


def create_contact(data: dict, idempotency_key: str | None = None):
    return call("crm", "create_contact", data, idempotency_key=idempotency_key)


def update_contact(contact_id: int, changes: dict):
    return call("crm", "update_contact", contact_id, changes)


def set_contact_active(contact_id: int, active: bool):
    return call("crm", "set_contact_active", contact_id, active)


def list_projects(company_id: int):
    return call("crm", "list_projects", company_id)


def create_project(data: dict, idempotency_key: str | None = None):
    return call("crm", "create_project", data, idempotency_key=idempotency_key)


def update_project(project_id: int, changes: dict):
    return call("crm", "update_project", project_id, changes)


def list_agreements(company_id: int):
    return call("crm", "list_agreements", company_id)


def create_agreement(data: dict, idempotency_key: str | None = None):
    return call("crm", "create_agreement", data, idempotency_key=idempotency_key)


def update_agreement(agreement_id: int, changes: dict):
    return call("crm", "update_agreement", agreement_id, changes)


def list_tasks(company_id: int, include_done: bool = True):
    return call("crm", "list_tasks", company_id, {"include_done": include_done})


def create_task(data: dict, idempotency_key: str | None = None):
    return call("crm", "create_task", data, idempotency_key=idempotency_key)


def update_task(task_id: int, changes: dict):
    return call("crm", "update_task", task_id, changes)


def set_task_done(task_id: int, done: bool):
    return call("crm", "set_task_done", task_id, done)


def list_meetings(company_id: int):
    return call("crm", "list_meetings", company_id)


def create_meeting(data: dict, idempotency_key: str | None = None):
    return call("crm", "create_meeting", data, idempotency_key=idempotency_key)


def check_company(company: dict, partial: bool = False):
    return call("crm", "check_company", company, partial)


def update_meeting(meeting_id: int, changes: dict):
    return call("crm", "update_meeting", meeting_id, changes)


def get_meeting_ics(meeting_id: int):
    return call("crm", "get_meeting_ics", meeting_id)


def list_activities(company_id: int, limit: int = 50):
    return call("crm", "list_activities", company_id, {"limit": limit})


def log_activity(data: dict, idempotency_key: str | None = None):
    return call("crm", "log_activity", data, idempotency_key=idempotency_key)


def update_activity(activity_id: int, changes: dict):
    return call("crm", "update_activity", activity_id, changes)


def list_invoices(company_id: int):
    return call("crm", "list_invoices", company_id)
