"""Request schemas of the mailer RPC API (validated on entry)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from service_common.validation import Schema

from . import render

Kind = Literal["company", "contacts"]


def _single_line(value, field):
    render.check_header(value, field)
    return value


class SelectionRef(Schema):
    """The selection contract of the crm (``ids`` or ``filter``, ``exclude_ids``);
    checked in full by the crm's ``list_recipients``."""

    ids: list[int] | None = Field(default=None, max_length=10_000)
    filter: dict[str, Any] | None = None
    exclude_ids: list[int] = Field(default=[], max_length=10_000)

    @model_validator(mode="after")
    def _one_of(self):
        if (self.ids is None) == (self.filter is None):
            raise ValueError("selection: give either ids or filter")
        return self

    def dump(self) -> dict:
        return self.model_dump(exclude_none=True)


class AudienceIn(Schema):
    selection: SelectionRef
    kinds: list[Kind] = Field(min_length=1, max_length=2)


class MessageIn(Schema):
    """What the user wrote. Merge fields: see ``render.FIELDS``."""

    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=50_000)
    sender_title: str | None = Field(default=None, max_length=200)
    # the words of the unsubscribe link in the sender's language (the gateway translates them); default English
    unsubscribe_text: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("unsubscribe_text")
    @classmethod
    def _unsubscribe_text(cls, v):
        return _single_line(v, "unsubscribe_text") if v is not None else None

    @field_validator("subject")
    @classmethod
    def _subject(cls, v):
        _single_line(v, "subject")
        render.check_template(v, "subject")
        return v

    @field_validator("sender_title")
    @classmethod
    def _title(cls, v):
        return _single_line(v, "sender_title") or None

    @field_validator("body")
    @classmethod
    def _body(cls, v):
        render.check_template(v, "body")
        return v


class RecipientIn(Schema):
    """Merge values of one recipient (a sample row of ``audience``)."""

    email: str | None = Field(default=None, max_length=320)
    kind: Literal["company", "contact"] = "company"
    company_id: int | None = None
    contact_id: int | None = None
    company_name: str | None = Field(default=None, max_length=200)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)


class PreviewIn(MessageIn):
    recipient: RecipientIn = RecipientIn()


class CampaignIn(MessageIn):
    selection: SelectionRef
    kinds: list[Kind] = Field(min_length=1, max_length=2)
    idempotency_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class TemplateIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=50_000)

    @field_validator("name", "subject")
    @classmethod
    def _line(cls, v, info):
        _single_line(v, info.field_name)
        return v

    @field_validator("subject", "body")
    @classmethod
    def _fields(cls, v, info):
        render.check_template(v, info.field_name)
        return v


class MessagesQuery(Schema):
    status: Literal["pending", "sending", "sent", "failed", "skipped"] | None = None
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=100, ge=1, le=500)


class OutboxQuery(Schema):
    limit: int = Field(default=50, ge=1, le=500)
    to: str | None = Field(default=None, max_length=320)


class UnsubscribeIn(Schema):
    token: str = Field(min_length=10, max_length=1000)


class EmailIn(Schema):
    email: EmailStr
