"""Request schemas of the credit_monitor RPC API."""
from __future__ import annotations

from pydantic import Field

from service_common.validation import Schema


class SettingsIn(Schema):
    enabled: bool | None = None
    username: str | None = Field(default=None, max_length=30)
    password: str | None = Field(default=None, max_length=30)
