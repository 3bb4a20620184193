"""Request schemas of the export RPC API (validated on entry) and the dump of
a job. Only JSON-safe dicts cross RPC."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from service_common.validation import Schema

Format = Literal["xlsx", "csv"]


class StartIn(Schema):
    """``start_export``: what to export. The selection and the column keys are
    the crm's contracts (``SelectionIn``, ``export_columns``); the crm checks them
    when the export starts, so a bad one is refused at once."""

    selection: dict[str, Any]
    columns: list[str] = Field(min_length=1, max_length=100)
    format: Format = "xlsx"
    contacts: bool = False
    title: str = Field(default="Companies", min_length=1, max_length=100)
    idempotency_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{8,64}$")

    @field_validator("columns")
    @classmethod
    def _distinct(cls, values):
        if len(set(values)) != len(values):
            raise ValueError("each column once")
        return values


class ListIn(Schema):
    """``list_exports``: the caller's exports, newest first; an admin may ask for the tenant's."""

    all: bool = False
    limit: int = Field(default=50, ge=1, le=200)
