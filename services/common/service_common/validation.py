"""Input validation with pydantic, turned into the typed ValidationError."""
from __future__ import annotations

from typing import TypeVar

import pydantic

from .errors import ValidationError

M = TypeVar("M", bound=pydantic.BaseModel)


def _field(loc) -> str:
    return ".".join(str(p) for p in loc) or "__root__"


def _message(err: dict) -> str:
    msg = err.get("msg", "is invalid")
    # pydantic prefixes custom errors with "Value error, "; users do not need it.
    return msg.removeprefix("Value error, ")


def validate(model: type[M], data) -> M:
    """Validate ``data`` (a dict from RPC) against ``model`` or raise
    ValidationError naming the first bad field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError("Expected an object", field="__root__")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = [{"field": _field(e["loc"]), "message": _message(e)} for e in exc.errors()]
        first = errors[0]
        raise ValidationError(f"{first['field']}: {first['message']}", field=first["field"], errors=errors) from None


class Schema(pydantic.BaseModel):
    """Base for request schemas: unknown fields are an error, strings are stripped."""

    model_config = pydantic.ConfigDict(extra="forbid", str_strip_whitespace=True)
