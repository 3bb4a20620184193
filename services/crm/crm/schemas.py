"""Request schemas of the crm RPC API (validated on entry) and the dumps of
what it returns. Only JSON-safe dicts cross RPC."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationInfo, field_validator, model_validator

from service_common.errors import ValidationError
from service_common.validation import Schema, validate

from service_common import orgnr

from . import checks

M = TypeVar("M")
RELATIONSHIPS = ("prospect", "customer", "suspect", "supplier", "partner", "former_customer")
Relationship = Literal["prospect", "customer", "suspect", "supplier", "partner", "former_customer"]
Country = Literal["NO", "SE", "DK", "GB"]
ProjectType = Literal["staffing", "recruitment", "recruitment_staffing", "consulting", "other"]
ProjectStatus = Literal["request", "not_started", "active", "active_urgent", "solved_ended", "solved_ongoing"]
ACTIVE_PROJECT = ("active", "active_urgent")
AgreementStatus = Literal["draft", "sent", "signed"]
UNSIGNED_AGREEMENT = ("draft", "sent")
AgreementKind = Literal["cooperation", "price", "framework", "other"]
InvoiceType = Literal["email_link", "email_pdf", "paper"]
ActivityKind = Literal["call", "visit", "sales_meeting", "follow_up", "email", "note"]
AttributeType = Literal["bool", "stars", "text", "dropdown", "multi"]
Priority = Literal["low", "normal", "high"]
AddressKind = Literal["visiting", "postal", "billing"]
SORTS = ("name", "org_number", "city", "relationship", "active_projects", "unresolved_tasks", "unsigned_agreements",
         "invoiced_this_year", "created_at", "credit_score")
Sort = Literal[tuple(SORTS) + tuple("-" + s for s in SORTS)]  # type: ignore[valid-type]
Text = str | None


def _blank(value):
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _email(value):
    if value in (None, ""):
        return None
    try:
        return checks.email(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


class AddressIn(Schema):
    street: Text = Field(default=None, max_length=200)
    postcode: Text = Field(default=None, max_length=20)
    city: Text = Field(default=None, max_length=120)
    region: Text = Field(default=None, max_length=120)
    country: Country | None = None

    _blanks = field_validator("*", mode="before")(classmethod(lambda cls, v: _blank(v)))


class AddressesIn(Schema):
    visiting: AddressIn | None = None
    postal: AddressIn | None = None
    billing: AddressIn | None = None


class StartProjectIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    type: ProjectType = "staffing"
    status: ProjectStatus = "request"  # issue 13: the new-company form shows and sends it


class _CompanyFields(Schema):
    """Fields shared by create and update; org number and phone are checked
    against the company's country in the logic (the country may not change)."""

    legal_form: Text = Field(default=None, max_length=40)
    industry_code: Text = Field(default=None, max_length=12, pattern=r"^[0-9][0-9.]*$")
    industry_text: Text = Field(default=None, max_length=200)
    employees: int | None = Field(default=None, ge=0, le=10_000_000)
    website: Text = Field(default=None, max_length=200)
    phone: Text = Field(default=None, max_length=40)
    email: Text = Field(default=None, max_length=320)
    parent_id: int | None = None
    owner_ids: list[int] | None = Field(default=None, max_length=50)
    department_id: int | None = None

    _blanks = field_validator("legal_form", "industry_code", "industry_text", "website", "phone", "email",
                              mode="before")(classmethod(lambda cls, v: _blank(v)))
    _emails = field_validator("email")(classmethod(lambda cls, v: _email(v)))


class CompanyIn(_CompanyFields):
    name: str = Field(min_length=1, max_length=200)
    country: Country = "NO"
    org_number: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=120)
    relationship: Relationship = "prospect"
    region: Text = Field(default=None, max_length=120)
    addresses: AddressesIn | None = None
    start_project: StartProjectIn | None = None
    # issue 13: the new-company form's invoice box (else: e-mail with PDF to the company's e-mail when it
    # has one, paper when not, so the card accepts the defaults), the registry's marketing protection
    invoice: "InvoiceSettingsIn | None" = None
    marketing_protected: bool = False

    @field_validator("org_number")
    @classmethod
    def _orgnr(cls, value, info: ValidationInfo):
        if value in (None, ""):
            return None
        country = info.data.get("country")
        if country is None:
            return value
        return orgnr.normalise(country, value)

    @field_validator("city", "region")
    @classmethod
    def _blank_none(cls, value):
        return value or None


class CompanyChanges(_CompanyFields):
    """update_company: any subset; only the keys sent are changed."""

    name: str = Field(default=None, min_length=1, max_length=200)
    org_number: Text = Field(default=None, max_length=32)
    country: Country = None
    relationship: Relationship = None
    city: Text = Field(default=None, max_length=120)
    region: Text = Field(default=None, max_length=120)

    @model_validator(mode="after")
    def _not_null(self):
        for name in ("name", "country", "relationship"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be empty")
        return self


def _listify(value):
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v not in (None, "")]
    return [value]


class OverviewQuery(Schema):
    q: str = Field(default="", max_length=100)
    relationship: list[Relationship] = []
    country: list[Country] = []
    region: list[str] = []
    city: list[str] = []
    industry: list[str] = []
    owner: list[int | Literal["mine"]] = []
    department: list[int] = []
    tag: list[str] = []
    attr: dict[str, Any] = {}
    has_unresolved_tasks: bool | None = None
    has_unsigned_agreements: bool | None = None
    credit_band: list[Literal["A", "B", "C", "D", "E", "none"]] = []  # issue 10; "none" = no rating
    sort: Sort = "name"
    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=50, ge=1, le=200)
    facets: bool = False
    # issue 13: values per long facet (city, region, industry, tag); selected values always come too
    facet_limit: int = Field(default=200, ge=1, le=5000)

    _lists = field_validator("relationship", "country", "region", "city", "industry", "owner", "department", "tag",
                             mode="before")(classmethod(lambda cls, v: _listify(v)))
    _bands = field_validator("credit_band", mode="before")(classmethod(lambda cls, v: _listify(v)))

    @field_validator("region", "city", "industry", "tag")
    @classmethod
    def _short(cls, values):
        if len(values) > 50 or any(len(str(v)) > 200 for v in values):
            raise ValueError("too many or too long values")
        return values

    @field_validator("q", mode="before")
    @classmethod
    def _q(cls, value):
        return "" if value is None else value


class ViewIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    query: str = Field(default="", max_length=2000)
    shared: bool = False


class InvoiceSettingsIn(Schema):
    type: InvoiceType
    email: Text = Field(default=None, max_length=320)
    credit_days: int = Field(default=14, ge=0, le=365)

    _blanks = field_validator("email", mode="before")(classmethod(lambda cls, v: _blank(v)))
    _emails = field_validator("email")(classmethod(lambda cls, v: _email(v)))

    @model_validator(mode="after")
    def _email_needed(self):
        if self.type in ("email_link", "email_pdf") and not self.email:
            raise ValueError("email: an e-mail address is needed for invoices sent by e-mail")
        return self


CompanyIn.model_rebuild()  # its ``invoice`` field names InvoiceSettingsIn, defined after it


class CopyAddressIn(Schema):
    from_: Literal["postal", "visiting"] = Field(alias="from")
    to: Literal["billing", "postal"]

    @model_validator(mode="after")
    def _different(self):
        if self.from_ == self.to:
            raise ValueError("to: copy to a different address")
        return self


class LogoIn(Schema):
    content_type: Literal["image/png", "image/jpeg", "image/webp"]
    data: str = Field(min_length=1, max_length=1_500_000)


class TagsQuery(Schema):
    prefix: str = Field(default="", max_length=50)
    limit: int = Field(default=20, ge=1, le=200)


class TagsIn(Schema):
    tags: list[str] = Field(default=[], max_length=50)

    @field_validator("tags")
    @classmethod
    def _tags(cls, values):
        out, seen = [], set()
        for v in values:
            name = " ".join(str(v).split())
            if not name or len(name) > 50:
                raise ValueError("a tag has 1 to 50 characters")
            key = name.casefold()
            if key not in seen:
                seen.add(key)
                out.append(name)
        return out


class AttributeIn(Schema):
    name: str = Field(min_length=1, max_length=80)
    type: AttributeType
    options: list[str] = Field(default=[], max_length=100)

    @model_validator(mode="after")
    def _options(self):
        options = [" ".join(o.split()) for o in self.options]
        if self.type in ("dropdown", "multi"):
            if not options or any(not o or len(o) > 100 for o in options) or len(set(options)) != len(options):
                raise ValueError("options: give distinct options of 1 to 100 characters")
        elif options:
            raise ValueError(f"options: a {self.type} attribute has no options")
        self.options = options
        return self


class TimelineQuery(Schema):
    limit: int = Field(default=50, ge=1, le=200)
    before: datetime | None = None


class ContactListQuery(Schema):
    include_inactive: bool = False


class TaskListQuery(Schema):
    include_done: bool = True


class ActivityListQuery(Schema):
    limit: int = Field(default=50, ge=1, le=500)


class ContactChanges(Schema):
    first_name: str = Field(default=None, min_length=1, max_length=100)
    last_name: str = Field(default=None, max_length=100)
    title: Text = Field(default=None, max_length=120)
    email: Text = Field(default=None, max_length=320)
    phone: Text = Field(default=None, max_length=40)
    notes: Text = Field(default=None, max_length=10_000)

    _blanks = field_validator("title", "email", "phone", "notes", mode="before")(classmethod(lambda cls, v: _blank(v)))
    _emails = field_validator("email")(classmethod(lambda cls, v: _email(v)))

    @model_validator(mode="after")
    def _not_null(self):
        if "first_name" in self.model_fields_set and self.first_name is None:
            raise ValueError("first_name cannot be empty")
        if "last_name" in self.model_fields_set and self.last_name is None:
            self.last_name = ""
        return self


class ContactIn(ContactChanges):
    company_id: int
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(default="", max_length=100)


class ProjectChanges(Schema):
    name: str = Field(default=None, min_length=1, max_length=200)
    type: ProjectType = None
    status: ProjectStatus = None
    start_date: date | None = None
    end_date: date | None = None
    owner_id: int | None = None

    @model_validator(mode="after")
    def _check(self):
        for name in ("name", "type", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be empty")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date: the end date is before the start date")
        return self


class ProjectIn(ProjectChanges):
    company_id: int
    name: str = Field(min_length=1, max_length=200)
    type: ProjectType = "staffing"
    status: ProjectStatus = "request"


class AgreementChanges(Schema):
    project_id: int | None = None
    title: str = Field(default=None, min_length=1, max_length=200)
    kind: AgreementKind = None
    status: AgreementStatus = None
    valid_from: date | None = None
    valid_to: date | None = None

    @model_validator(mode="after")
    def _check(self):
        for name in ("title", "kind", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be empty")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to: the end of validity is before its start")
        return self


class AgreementIn(AgreementChanges):
    company_id: int
    title: str = Field(min_length=1, max_length=200)
    kind: AgreementKind = "cooperation"
    status: AgreementStatus = "draft"


class TaskChanges(Schema):
    title: str = Field(default=None, min_length=1, max_length=200)
    due_date: date | None = None
    assignee_id: int | None = None
    priority: Priority = None
    contact_id: int | None = None

    @model_validator(mode="after")
    def _check(self):
        for name in ("title", "priority"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be empty")
        return self


class TaskIn(TaskChanges):
    company_id: int
    title: str = Field(min_length=1, max_length=200)
    priority: Priority = "normal"


class FollowUpIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    due_date: date | None = None
    assignee_id: int | None = None


class MeetingIn(Schema):
    company_id: int
    title: str = Field(min_length=1, max_length=200)
    starts_at: datetime
    duration_minutes: int = Field(default=60, ge=5, le=24 * 60)
    place: Text = Field(default=None, max_length=200)
    user_ids: list[int] = Field(default=[], max_length=50)
    contact_ids: list[int] = Field(default=[], max_length=50)
    notes: Text = Field(default=None, max_length=10_000)
    follow_up: FollowUpIn | None = None


class ActivityIn(Schema):
    company_id: int
    kind: ActivityKind
    at: datetime | None = None
    user_id: int | None = None
    contact_id: int | None = None
    text: Text = Field(default=None, max_length=10_000)


class MeetingChanges(Schema):
    """issue 13: a meeting edited after creation; only the fields given change."""
    title: str = Field(default=None, min_length=1, max_length=200)
    starts_at: datetime = None
    duration_minutes: int = Field(default=None, ge=5, le=24 * 60)
    place: Text = Field(default=None, max_length=200)
    user_ids: list[int] = Field(default=None, max_length=50)
    contact_ids: list[int] = Field(default=None, max_length=50)
    notes: Text = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _check(self):
        for name in ("title", "starts_at", "duration_minutes", "user_ids", "contact_ids"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be empty")
        return self


class ActivityChanges(Schema):
    """issue 13: an activity edited after creation; only the fields given change."""
    kind: ActivityKind = None
    at: datetime = None
    user_id: int | None = None
    contact_id: int | None = None
    text: Text = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _check(self):
        for name in ("kind", "at"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be empty")
        return self


Money = Decimal


def _money(value):
    if value is None:
        return None
    if value <= 0:
        raise ValueError("the amount must be more than 0")
    if value.as_tuple().exponent < -2:
        raise ValueError("at most 2 decimals")
    if value >= Decimal("1e12"):
        raise ValueError("the amount is too large")
    return value


class InvoiceIn(Schema):
    invoice_number: str = Field(min_length=1, max_length=40)
    company_id: int | None = None
    country: Country | None = None
    org_number: Text = Field(default=None, max_length=32)
    issued_on: date
    due_on: date | None = None
    amount: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    _amount = field_validator("amount")(classmethod(lambda cls, v: _money(v)))

    @model_validator(mode="after")
    def _who(self):
        if self.company_id is None and not (self.country and self.org_number):
            raise ValueError("company_id: give company_id, or country and org_number")
        if self.company_id is None:
            try:
                self.org_number = orgnr.normalise(self.country, self.org_number)
            except ValueError as exc:
                raise ValueError(f"org_number: {exc}") from None
        if self.due_on and self.due_on < self.issued_on:
            raise ValueError("due_on: the due date is before the issue date")
        return self


class CreditIn(Schema):
    invoice_number: str = Field(min_length=1, max_length=40)
    credit_note_number: str = Field(min_length=1, max_length=40)
    amount: Decimal | None = None
    issued_on: date

    _amount = field_validator("amount")(classmethod(lambda cls, v: _money(v)))


class CompanySearch(Schema):
    q: str = Field(default="", max_length=100)
    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=50, ge=1, le=200)


class LoginIn(Schema):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    ip: str | None = Field(default=None, max_length=64)
    tenant: str | None = Field(default=None, max_length=60)  # slug, when the e-mail exists in several tenants


class UserIn(Schema):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)  # strength: auth.check_password
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
        "language": u.language,
    }


def dump_department(d) -> dict:
    return {"id": d.id, "name": d.name}


_FIELD_PREFIX = re.compile(r"^([a-z_][a-z0-9_.]*): (.*)$")


def check(model: type[M], data) -> M:
    """``validate`` that also names the field of errors raised by whole-model
    checks ("email: ..." instead of "__root__")."""
    try:
        return bounded(validate(model, data))
    except ValidationError as exc:
        errors = []
        for err in exc.errors:
            match = _FIELD_PREFIX.match(err["message"]) if err["field"] in ("__root__", None) else None
            errors.append({"field": match.group(1), "message": match.group(2)} if match else err)
        first = errors[0] if errors else {"field": exc.field, "message": exc.message}
        raise ValidationError(f"{first['field']}: {first['message']}", field=first["field"], errors=errors) from None


class OrgRef(Schema):
    country: Country
    org_number: str = Field(min_length=1, max_length=32)


class OrgRefs(Schema):
    refs: list[OrgRef] = Field(max_length=100)


class NotificationListQuery(Schema):
    """issue 10: a coworker's notifications, newest first."""

    limit: int = Field(default=30, ge=1, le=100)
    unread_only: bool = False
    before_id: int | None = Field(default=None, ge=1, le=2**53)


class SelectionFilter(OverviewQuery):
    """The overview's filter as a selection: every field of the overview query
    (search and filters, as the URL holds them); paging, sort and facets are
    ignored when it selects."""


class SelectionIn(Schema):
    """A selection of companies: explicit ``ids`` (at most 10,000), or the
    overview ``filter`` ("all N matching this search and these filters"),
    optionally minus ``exclude_ids``. Exactly one of ``ids`` / ``filter``."""

    ids: list[int] | None = Field(default=None, max_length=10_000)
    filter: SelectionFilter | None = None
    exclude_ids: list[int] = Field(default=[], max_length=10_000)

    @field_validator("ids", "exclude_ids")
    @classmethod
    def _bounded_ids(cls, values):
        if values and any(not 1 <= v <= 2**53 for v in values):
            raise ValueError("ids are positive integers")
        return values

    @model_validator(mode="after")
    def _one_of(self):
        if (self.ids is None) == (self.filter is None):
            raise ValueError("selection: give either ids or filter")
        return self


class ExportRowsIn(Schema):
    """``export_rows``: a page of a selection for a report (see crm.export_rows)."""

    selection: SelectionIn
    columns: list[str] = Field(min_length=1, max_length=100)
    after_id: int | None = Field(default=None, ge=1)  # None (or 0 at the RPC): from the start
    limit: int = Field(default=1000, ge=1, le=5000)
    contacts: bool = False


# -- input limits (issue 11): checked for every schema that goes through ``check`` ------------
MAX_ID = 2**31 - 1  # ids are INTEGER columns on PostgreSQL
MAX_INT = 2**53  # anything larger is not a number a person or a client means
MIN_YEAR, MAX_YEAR = 1900, 2199
ID_FIELDS = {"id", "owner", "department", "parent"}  # id lists of the overview filter


def _limit_error(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", field=field)


def _bounded_value(value, field: str, id_like: bool):
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if id_like and not 1 <= value <= MAX_ID:
            raise _limit_error(field, f"not a valid id (1 to {MAX_ID})")
        if abs(value) > MAX_INT:
            raise _limit_error(field, "the number is too large")
    elif isinstance(value, (date, datetime)):
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise _limit_error(field, f"give a date between the years {MIN_YEAR} and {MAX_YEAR}")
    elif isinstance(value, Decimal):
        if not value.is_finite() or abs(value) >= Decimal("1e15"):
            raise _limit_error(field, "the amount is too large")
    elif isinstance(value, str):
        if "\x00" in value:
            raise _limit_error(field, "contains a NUL character")
    elif isinstance(value, (list, tuple, set)):
        for i, item in enumerate(value):
            _bounded_value(item, f"{field}.{i}" if not id_like else field, id_like)
    elif isinstance(value, dict):
        for key, item in value.items():
            _bounded_value(key, field, False)
            _bounded_value(item, f"{field}.{key}", False)
    elif isinstance(value, Schema):
        _bounded_model(value, field + ".")


def _bounded_model(model, prefix: str = "") -> None:
    for name in type(model).model_fields:
        _bounded_value(getattr(model, name), prefix + name, name in ID_FIELDS or name.endswith(("_id", "_ids", "ids")))


def bounded(model: M) -> M:
    """Ids within the database's range, dates within 1900-2199, numbers and amounts of a sane size,
    no NUL characters in text: anything else is a ValidationError naming the field (never an
    OverflowError or a database error later)."""
    _bounded_model(model)
    return model


def bounded_text(value, field: str):
    """The same check for a free-form argument that is not a schema (e.g. an attribute value)."""
    _bounded_value(value, field, False)
    return value


class TotpLoginIn(Schema):
    challenge: str = Field(min_length=10, max_length=200)
    code: str = Field(min_length=1, max_length=40)


class PasswordChangeIn(Schema):
    current: str = Field(min_length=1, max_length=1024)
    new: str = Field(min_length=1, max_length=1024)


class PasswordResetIn(Schema):
    password: str = Field(min_length=1, max_length=1024)
    remove_2fa: bool = False


class UserChanges(Schema):
    """update_user: any subset; only the keys sent are changed."""

    email: str = Field(default=None, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str = Field(default=None, min_length=1, max_length=200)
    role: Literal["admin", "user"] = None
    department_id: int | None = None
    active: bool = None

    @model_validator(mode="after")
    def _not_null(self):
        for name in ("email", "name", "role", "active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be empty")
        return self


class CodeIn(Schema):
    code: str = Field(min_length=1, max_length=40)


class PasswordConfirmIn(Schema):
    password: str = Field(min_length=1, max_length=1024)


LANGUAGES = ("en", "nb", "sv", "da")  # issue 14: the gateway's catalogs
Language = Literal["en", "nb", "sv", "da"]


class TenantSettingsIn(Schema):
    require_2fa: bool | None = None
    language: Language | None = None  # issue 14: the tenant's default UI language
    timezone: str | None = Field(default=None, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value):
        if value:
            from zoneinfo import ZoneInfo

            try:
                ZoneInfo(value)
            except Exception:
                raise ValueError("Unknown time zone")
        return value or None


class AccountLanguageIn(Schema):
    """issue 14: the user's own UI language; None = follow the tenant's default."""
    language: Language | None = None


class TotpBeginIn(Schema):
    fresh: bool = True


API_SCOPES = ("companies:read", "companies:write")


class ApiClientIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Literal["companies:read", "companies:write"]] = Field(min_length=1, max_length=len(API_SCOPES))


class ApiClientCredentials(Schema):
    client_id: int = Field(ge=1, le=2**31)
    client_secret: str = Field(min_length=10, max_length=200)


class TotpBeginIn(Schema):
    fresh: bool = True


# -- bulk edits (issue 7) ------------------------------------------------------------
IDEMPOTENCY_KEY = r"^[A-Za-z0-9._:-]{8,100}$"


class _BulkIn(Schema):
    selection: SelectionIn
    idempotency_key: str = Field(pattern=IDEMPOTENCY_KEY)


class BulkTagsIn(_BulkIn):
    """bulk_add_tags / bulk_remove_tags: 1..20 tags (1..50 characters, duplicates merged)."""

    tags: list[str] = Field(min_length=1, max_length=20)

    _tags = field_validator("tags")(classmethod(lambda cls, v: TagsIn._tags.__func__(cls, v)))


class BulkAttributesIn(_BulkIn):
    """bulk_set_attributes: {"<attribute id>": value} (null clears), 1..20 attributes."""

    values: dict[str, Any] = Field(min_length=1, max_length=20)


class BulkRelationshipIn(_BulkIn):
    relationship: Relationship


class BulkUndoIn(Schema):
    operation_id: int = Field(ge=1)
    idempotency_key: str = Field(pattern=IDEMPOTENCY_KEY)


class BulkPreviewIn(Schema):
    selection: SelectionIn
    sample: int = Field(default=5, ge=0, le=20)


# -- issue 9: e-mail recipients and opt-outs ------------------------------------------
class RecipientsIn(Schema):
    """``list_recipients(selection, kinds, after_id, limit)``: one page of companies."""

    selection: SelectionIn
    kinds: list[Literal["company", "contacts"]] = Field(min_length=1, max_length=2)
    after: int = Field(default=0, ge=0, le=2**53)  # the RPC's ``after_id`` (0 = from the start)
    limit: int = Field(default=500, ge=1, le=1000)


class OptOutIn(Schema):
    email: str = Field(min_length=3, max_length=320)
    source: Literal["unsubscribe_link", "one_click", "user"] = "user"

    @field_validator("email")
    @classmethod
    def _email(cls, v):
        return checks.email(v)
