"""Request schemas of the crm RPC API (validated on entry) and the dumps of
what it returns. Only JSON-safe dicts cross RPC."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from service_common.validation import Schema

from . import orgnr

RELATIONSHIPS = ("prospect", "customer", "suspect", "supplier", "partner", "former_customer")
Relationship = Literal["prospect", "customer", "suspect", "supplier", "partner", "former_customer"]
Country = Literal["NO", "SE", "DK", "GB"]


class CompanyIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    country: Country = "NO"
    org_number: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=120)
    relationship: Relationship = "prospect"

    @field_validator("org_number")
    @classmethod
    def _orgnr(cls, value, info: ValidationInfo):
        if value in (None, ""):
            return None
        country = info.data.get("country")
        if country is None:
            return value
        return orgnr.normalise(country, value)

    @field_validator("city")
    @classmethod
    def _blank_none(cls, value):
        return value or None


class CompanySearch(Schema):
    q: str = Field(default="", max_length=100)
    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=50, ge=1, le=200)


class LoginIn(Schema):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    ip: str | None = Field(default=None, max_length=64)


class UserIn(Schema):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=1024)
    role: Literal["admin", "user"] = "user"
    department_id: int | None = None


class DepartmentIn(Schema):
    name: str = Field(min_length=1, max_length=120)


def dump_company(c) -> dict:
    return {
        "id": c.id,
        "name": c.name,
        "org_number": c.org_number,
        "country": c.country,
        "city": c.city,
        "relationship": c.relationship,
        "created_at": c.created_at.isoformat() if c.created_at else None,
    }


def dump_user(u) -> dict:
    return {
        "id": u.id,
        "tenant_id": u.tenant_id,
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "department_id": u.department_id,
        "active": u.active,
    }


def dump_department(d) -> dict:
    return {"id": d.id, "name": d.name}
