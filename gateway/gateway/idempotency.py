"""Idempotency keys for the writes the gateway sends (issue 12).

Every form rendered with ``m.csrf()`` carries a fresh key (hidden field
``idempotency_key``, one per form render); the view passes it with its create
call, and the service keeps the first result under it for a day. So a submit
that timed out ("it may have been saved; retrying is safe") can be sent again
as it is: the service answers with what it saved the first time. A form
re-rendered after a validation error gets a new key (nothing was saved).
Sub-units created after their parent get keys derived from the form's key
(``child_key``), so retrying the same form never creates a child twice.
"""
from __future__ import annotations

import re
import uuid

from flask import Flask, request

_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


def new_key() -> str:
    return uuid.uuid4().hex


def form_key() -> str | None:
    """The submitted form's key, if it is well-formed (else None: the write runs without one)."""
    value = (request.form.get("idempotency_key") or "").strip()
    return value if _KEY.match(value) else None


def child_key(base: str | None, *parts) -> str | None:
    """A key for one of several writes made for one form (e.g. each sub-unit): base + its identity."""
    if not base:
        return None
    tail = ":".join(re.sub(r"[^A-Za-z0-9_.-]", "", str(p))[:20] for p in parts)
    return f"{base}:{tail}"[:100]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["idempotency_key"] = new_key
