"""The error contract every service speaks over RPC.

A service raises one of these; nameko serialises it as
``{"exc_type": "ValidationError", "exc_args": [message, details], ...}``
and the gateway maps ``exc_type`` back to a local class. ``details`` is a
JSON-safe dict (for validation errors: ``field`` and ``errors``).
"""
from __future__ import annotations


class ServiceError(Exception):
    """Base of every expected error. ``args == (message, details)``."""

    code = "error"

    def __init__(self, message: str, **details):
        super().__init__(message, details)
        self.message = message
        self.details = details

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.message


class ValidationError(ServiceError):
    """Bad input. ``details`` has ``field`` (first bad field) and ``errors``
    (a list of ``{"field", "message"}``)."""

    code = "validation"

    def __init__(self, message: str, field: str | None = None, errors: list | None = None, **details):
        errors = errors if errors is not None else ([{"field": field, "message": message}] if field else [])
        super().__init__(message, field=field, errors=errors, **details)
        self.field = field
        self.errors = errors

    def __str__(self) -> str:
        # what nameko sends as ``value``: always names the field
        if self.field and not self.message.startswith(f"{self.field}:"):
            return f"{self.field}: {self.message}"
        return self.message


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class Unauthenticated(ServiceError):
    code = "unauthenticated"


class Forbidden(ServiceError):
    code = "forbidden"


class RateLimited(ServiceError):
    code = "rate_limited"


EXPECTED = (ServiceError,)
