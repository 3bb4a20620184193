"""Request schemas of the registry_lookup RPC API (validated on entry).
Replies are plain dicts built in ``records`` and ``lookup``."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from service_common.validation import Schema

from . import orgnr

Country = Literal["NO", "SE", "DK", "GB"]
ALL_COUNTRIES = ["NO", "SE", "DK", "GB"]


class SearchIn(Schema):
    q: str = Field(max_length=100)
    countries: list[Country] = Field(default_factory=lambda: list(ALL_COUNTRIES), min_length=1, max_length=4)
    limit: int = Field(default=10, ge=1, le=50)

    @field_validator("q")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if len(value) < 2:
            raise ValueError("Type at least 2 characters")
        return value

    @field_validator("countries")
    @classmethod
    def _unique(cls, value: list) -> list:
        return list(dict.fromkeys(value))


class _Ref(Schema):
    country: Country
    org_number: str = Field(min_length=1, max_length=32)


class CompanyRef(_Ref):
    """A company or sub-unit: a company number, or (Denmark) a P-number."""

    @field_validator("org_number")
    @classmethod
    def _valid(cls, value: str, info: ValidationInfo) -> str:
        country = info.data.get("country")
        return orgnr.normalise_unit(country, value) if country else value


class ParentRef(_Ref):
    """A company whose sub-units are asked for."""

    @field_validator("org_number")
    @classmethod
    def _valid(cls, value: str, info: ValidationInfo) -> str:
        country = info.data.get("country")
        return orgnr.normalise(country, value) if country else value
