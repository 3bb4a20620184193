"""The fake RPC transport and canned crm answers for the gateway tests (see conftest.py)."""
from __future__ import annotations

import copy
import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

import jwt
from dataclasses import dataclass

from gateway import create_app
from gateway.rpc.transport import RemoteFailure

HX = {"HX-Request": "true"}

USER = {"id": 1, "tenant_id": 10, "email": "ada@example.com", "name": "Ada Admin", "role": "admin",
        "department_id": None, "active": True}
TENANT = {"id": 10, "name": "Demo Staffing AS", "currency": "NOK"}


@dataclass
class Call:
    service: str
    method: str
    args: list
    kwargs: dict
    context: dict
    timeout: float
    thread: str
    claims: dict = dataclasses.field(default_factory=dict)  # the caller token's claims (signature checked by the services)


def _claims(context) -> dict:
    """The claims of the signed caller token the gateway sent (its signature is the services' to check)."""
    token = (context or {}).get("auth")
    if not token:
        return {}
    return jwt.decode(token, options={"verify_signature": False})


class FakeTransport:
    """Answers RPCs from ``handlers``: method name -> value, exception, or callable(*args)."""

    def __init__(self):
        self.calls: list[Call] = []
        self.handlers: dict[str, object] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(8, thread_name_prefix="fake-fanout")

    def on(self, method: str, answer) -> FakeTransport:
        self.handlers[method] = answer
        return self

    def call(self, service, method, args=(), kwargs=None, context=None, timeout=2.0):
        claims = _claims(context)
        seen = {k: v for k, v in (("tenant_id", claims.get("tid")), ("user_id", claims.get("uid"))) if v is not None}
        with self._lock:
            self.calls.append(Call(service, method, list(args), kwargs or {}, seen, timeout,
                                   threading.current_thread().name, claims))
        if method not in self.handlers:
            raise AssertionError(f"unexpected RPC {service}.{method}{tuple(args)}")
        answer = self.handlers[method]
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(*args)
        return copy.deepcopy(answer)

    def fanout(self, fn, items, workers=5):
        return list(self._pool.map(fn, items))

    # -- looking at what happened ------------------------------------------------
    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def last(self, method: str) -> Call:
        for c in reversed(self.calls):
            if c.method == method:
                return c
        raise AssertionError(f"{method} was not called; calls: {self.methods()}")


def validation_error(field: str, message: str) -> RemoteFailure:
    """What the real transport raises when the service raises ValidationError(message, field=field)."""
    return RemoteFailure({"exc_type": "ValidationError", "exc_path": "service_common.errors.ValidationError",
                          "exc_args": [f"{field}: {message}", {"field": field, "errors": [{"field": field, "message": message}]}],
                          "value": f"{field}: {message}"})


def not_found() -> RemoteFailure:
    return RemoteFailure({"exc_type": "NotFound", "exc_args": ["No such company", {}], "value": "No such company"})


def company(**over) -> dict:
    data = {
        "id": 7, "name": "Fjord Bemanning AS", "org_number": "923609016", "country": "NO", "legal_form": "AS",
        "industry_code": "78.200", "industry_text": "Temporary employment agency activities", "employees": 42,
        "website": "https://fjord.example", "phone": "+4722334455", "email": "post@fjord.example",
        "relationship": "customer", "city": "Oslo", "region": "Oslo",
        "parent": None, "children": [{"id": 8, "name": "Fjord Bemanning Bergen", "city": "Bergen"}],
        "owners": [{"id": 1, "name": "Ada Admin"}], "department": {"id": 2, "name": "Oslo office"},
        "invoice": {"type": "email_link", "email": "invoice@fjord.example", "credit_days": 30},
        "addresses": {
            "visiting": {"street": "Karl Johans gate 1", "postcode": "0154", "city": "Oslo", "region": None, "country": "NO"},
            "postal": {"street": "Postboks 12", "postcode": "0101", "city": "Oslo", "region": None, "country": "NO"},
            "billing": {"street": None, "postcode": None, "city": None, "region": None, "country": None},
        },
        "logo_version": 3, "tags": ["vip", "framework"],
        "attributes": [
            {"id": 1, "name": "Key account", "type": "bool", "options": [], "value": True},
            {"id": 2, "name": "Potential", "type": "stars", "options": [], "value": 4},
            {"id": 3, "name": "Segment", "type": "dropdown", "options": ["Gold", "Silver"], "value": "Gold"},
            {"id": 4, "name": "Services", "type": "multi", "options": ["Staffing", "Recruitment"], "value": ["Staffing"]},
            {"id": 5, "name": "Note", "type": "text", "options": [], "value": None},
        ],
        "counts": {"active_projects": 2, "unresolved_tasks": 3, "unsigned_agreements": 1, "invoiced_this_year": "125000.00"},
        "currency": "NOK", "created_at": "2026-01-05T10:00:00+00:00", "updated_at": "2026-03-01T10:00:00+00:00",
    }
    data.update(over)
    return data


def list_item(**over) -> dict:
    data = {"id": 7, "name": "Fjord Bemanning AS", "org_number": "923609016", "country": "NO", "city": "Oslo",
            "region": "Oslo", "relationship": "customer", "owners": [{"id": 1, "name": "Ada Admin"}],
            "logo_version": None, "active_projects": 2, "unresolved_tasks": 3, "unsigned_agreements": 1,
            "invoiced_this_year": "125000.00", "currency": "NOK"}
    data.update(over)
    return data


def list_result(query: dict | None = None, items=None, total=None) -> dict:
    query = query or {}
    items = [list_item()] if items is None else items
    return {
        "items": items, "total": len(items) if total is None else total, "page": query.get("page", 1),
        "per_page": query.get("per_page", 50), "sort": query.get("sort", "name"),
        "facets": {
            "relationship": [{"value": "customer", "count": 1}, {"value": "prospect", "count": 4}],
            "country": [{"value": "NO", "count": 5}],
            "region": [{"value": "Oslo", "count": 5}],
            "city": [{"value": "Oslo", "count": 3}, {"value": "Bergen", "count": 2}],
            "owner": [{"value": 1, "label": "Ada Admin", "count": 2}],
            "department": [{"value": 2, "label": "Oslo office", "count": 5}],
            "tag": [{"value": "vip", "count": 1}],
            "industry": [{"value": "78.200", "label": "Temporary employment", "count": 5}],
        } if query.get("facets") else None,
    }


ATTRIBUTES = [{"id": a["id"], "name": a["name"], "type": a["type"], "options": a["options"]}
              for a in company()["attributes"]]
USERS = [USER, {**USER, "id": 2, "name": "Bo Berg", "email": "bo@example.com", "role": "user"}]


def make_app(rpc, **config):
    """The real app, with the fake transport and CSRF off unless a test turns it on."""
    return create_app({"RPC_TRANSPORT": rpc, "WTF_CSRF_ENABLED": False, "TESTING": True, **config})


def log_in(client, user: dict | None = None):
    with client.session_transaction() as session:
        session["user"] = {**(user or USER), "session_version": 1}
        session["tenant"] = TENANT
    return client


def session_state(version, user: dict | None = None, must=None) -> dict:
    """What crm.session_state answers for a session that is still valid."""
    return {"status": "ok", "user": {**(user or USER), "session_version": version}, "tenant": TENANT, "must": must}
