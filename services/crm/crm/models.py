"""Tables owned by the crm service. Every tenant-owned row carries tenant_id
and every query filters on it."""
from __future__ import annotations

from datetime import datetime

from datetime import date

from sqlalchemy import (BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, func)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Folded search words sort bytewise on PostgreSQL so prefix ranges use the index.
WordType = String(64).with_variant(String(64, collation="C"), "postgresql")


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    """An agency using the CRM."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="NOK")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # issue 11 (accounts): the slug picks the tenant at login when an e-mail exists in several
    slug: Mapped[str | None] = mapped_column(String(60), unique=True)
    require_2fa: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # issue 14 (languages): the tenant's default UI language and time zone; None = the gateway's default
    language: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_departments_tenant_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))


class User(Base):
    """A coworker. E-mail is the login, unique within a tenant (the same address
    may exist in two tenants: login then asks which one)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "email", name="uq_users_tenant_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="user")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # issue 11 (accounts): bumped to end every session of the user at once
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # issue 14 (languages): the user's UI language (en, nb, sv, da); None = the tenant's default
    language: Mapped[str | None] = mapped_column(String(10))


class LoginAttempt(Base):
    """Failed logins, for rate limiting across every gateway instance."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(340))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Company(Base):
    """A company in the tenant's book. ``active_projects``, ``unresolved_tasks`` and
    ``unsigned_agreements`` are exact counters kept by :mod:`crm.counters` in the
    same transaction as every change of the rows they count."""

    __tablename__ = "companies"
    __table_args__ = (
        Index("ix_companies_tenant_sort", "tenant_id", "sort_name", "id"),
        Index("uq_companies_tenant_org", "tenant_id", "country", "org_number", unique=True),
        Index("ix_companies_tenant_orgnr", "tenant_id", "org_number", "id"),
        Index("ix_companies_tenant_rel", "tenant_id", "relationship", "sort_name", "id"),
        Index("ix_companies_tenant_country", "tenant_id", "country", "sort_name", "id"),
        Index("ix_companies_tenant_city", "tenant_id", "city", "sort_name", "id"),
        Index("ix_companies_tenant_region", "tenant_id", "region", "sort_name", "id"),
        Index("ix_companies_tenant_industry", "tenant_id", "industry_code"),
        Index("ix_companies_tenant_dept", "tenant_id", "department_id"),
        Index("ix_companies_tenant_parent", "tenant_id", "parent_id", "sort_name", "id"),
        Index("ix_companies_tenant_created", "tenant_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(200))
    # issue 13: the ICU collation key of the name in the tenant's language, hex (crm.collation)
    sort_name: Mapped[str] = mapped_column(String(1000).with_variant(String(1000, collation="C"), "postgresql"))
    org_number: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(120))
    relationship: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())
    # issue 3: the card
    legal_form: Mapped[str | None] = mapped_column(String(40))
    industry_code: Mapped[str | None] = mapped_column(String(12))
    industry_text: Mapped[str | None] = mapped_column(String(200))
    industry_words: Mapped[str | None] = mapped_column(String(220))  # " folded words " of industry_text
    employees: Mapped[int | None] = mapped_column(Integer)
    website: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    region: Mapped[str | None] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    invoice_type: Mapped[str] = mapped_column(String(20), default="email_pdf", server_default="email_pdf")
    invoice_email: Mapped[str | None] = mapped_column(String(320))
    credit_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    logo_version: Mapped[int | None] = mapped_column(Integer)
    active_projects: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unresolved_tasks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unsigned_agreements: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # issue 10: the credit rating (set by crm.credit from the credit monitor's rating_changed)
    credit_band: Mapped[str | None] = mapped_column(String(1))
    credit_score: Mapped[int | None] = mapped_column(Integer)
    credit_limit: Mapped[int | None] = mapped_column(BigInteger)
    credit_currency: Mapped[str | None] = mapped_column(String(3))
    credit_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# Counter sorts are mostly descending ("most active projects first", ties by name).
for _column, _name in (("active_projects", "projects"), ("unresolved_tasks", "tasks"), ("unsigned_agreements", "agreements")):
    # relationship last: a relationship filter while sorting by a count reads the index alone (page 2,000 stays fast)
    Index(f"ix_companies_tenant_{_name}", Company.tenant_id, getattr(Company, _column).desc(), Company.sort_name, Company.id,
          Company.relationship)


class CompanyWord(Base):
    """Search index: one row per folded word (and the org number) of a company."""

    __tablename__ = "company_words"
    __table_args__ = (Index("ix_company_words_company", "company_id"),)

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    word: Mapped[str] = mapped_column(WordType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)


def _tenant() -> Mapped[int]:
    return mapped_column(ForeignKey("tenants.id"))


def _company() -> Mapped[int]:
    return mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class CompanyOwner(Base):
    __tablename__ = "company_owners"
    __table_args__ = (Index("ix_company_owners_user", "tenant_id", "user_id", "company_id"),)

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    tenant_id: Mapped[int] = _tenant()


class CompanyAddress(Base):
    __tablename__ = "company_addresses"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # visiting | postal | billing
    tenant_id: Mapped[int] = _tenant()
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))


class CompanyLogo(Base):
    """Logo bytes, kept apart from ``companies`` so lists never load them."""

    __tablename__ = "company_logos"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = _created()


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("tenant_id", "folded", name="uq_tags_tenant_folded"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    name: Mapped[str] = mapped_column(String(50))
    folded: Mapped[str] = mapped_column(String(50))


class CompanyTag(Base):
    __tablename__ = "company_tags"
    __table_args__ = (Index("ix_company_tags_tag", "tenant_id", "tag_id", "company_id"),)

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = _tenant()


class Attribute(Base):
    """A tenant-defined company attribute. ``options`` is a JSON list (dropdown, multi)."""

    __tablename__ = "attributes"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_attributes_tenant_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    name: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(10))
    options: Mapped[str] = mapped_column(Text, default="[]")


class CompanyAttributeValue(Base):
    """One row per value: bool "true"/"false", stars "1".."5", text, dropdown
    option, or one row per selected option of a multi attribute."""

    __tablename__ = "company_attribute_values"
    __table_args__ = (Index("ix_attr_values_filter", "tenant_id", "attribute_id", "value", "company_id"),)

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    attribute_id: Mapped[int] = mapped_column(ForeignKey("attributes.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[str] = mapped_column(String(500), primary_key=True)
    tenant_id: Mapped[int] = _tenant()


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_company", "tenant_id", "company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    company_id: Mapped[int] = _company()
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _created()


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_company", "tenant_id", "company_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    company_id: Mapped[int] = _company()
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _created()


class Agreement(Base):
    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_company", "tenant_id", "company_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    company_id: Mapped[int] = _company()
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_company", "tenant_id", "company_id", "done"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    company_id: Mapped[int] = _company()
    title: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_company", "tenant_id", "company_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    company_id: Mapped[int] = _company()
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    place: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    follow_up_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created()


class MeetingAttendee(Base):
    """A coworker (user_id) or a contact person (contact_id) at a meeting."""

    __tablename__ = "meeting_attendees"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_company", "tenant_id", "company_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    company_id: Mapped[int] = _company()
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class Invoice(Base):
    """Invoices and credit notes as the invoicing system reports them. Amounts in
    minor units (øre, öre, pence); a credit note's amount is negative."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "invoice_number", name="uq_invoices_tenant_number"),
        Index("ix_invoices_company", "tenant_id", "company_id", "issued_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    company_id: Mapped[int] = _company()
    invoice_number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))  # invoice | credit_note
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    created_at: Mapped[datetime] = _created()


class CompanyInvoiceTotal(Base):
    """Invoiced per company and calendar year (credit notes subtracted), kept in the
    same transaction as each invoice; the overview joins the current year."""

    __tablename__ = "company_invoice_totals"
    __table_args__ = (Index("ix_invoice_totals_year", "tenant_id", "year", "amount_minor", "company_id"),)

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class SavedView(Base):
    __tablename__ = "saved_views"
    __table_args__ = (Index("ix_saved_views_tenant", "tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(2000))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _created()


class ChangeLog(Base):
    """Field-level history: who changed which field of what, from what to what."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_company", "tenant_id", "company_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    company_id: Mapped[int] = _company()
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(80))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecoveryCode(Base):
    """A 2FA recovery code of a user: SHA-256 of a random 60-bit code, used once."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginChallenge(Base):
    """A password that was right, waiting for the second factor. ``id`` is the
    SHA-256 of the token handed to the gateway; a few tries, a few minutes."""

    __tablename__ = "login_challenges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[int] = _tenant()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)


# -- issue 9: e-mail (recipients, opt-outs, timeline entries from the mailer) ----------
class EmailOptOut(Base):
    """An address that asked not to be e-mailed (GDPR): when and how. ``email`` is folded."""

    __tablename__ = "email_opt_outs"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(20))  # unsubscribe_link | one_click | user


class CompanyMailFlag(Base):
    """Marketing protection of a company (e.g. the Danish CVR's "reklamebeskyttet")."""

    __tablename__ = "company_mail_flags"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    marketing_protected: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProcessedEvent(Base):
    """Events from other services already applied (handlers are idempotent by event id)."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiClient(Base):
    """Another team's program calling the RPC API for one tenant. The secret is
    shown once at creation; only its argon2 hash is kept."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(String(400))  # space-separated
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# -- issue 10: credit rating (crm/credit.py) and notifications (crm/notifications.py) ----------
Index("ix_companies_tenant_credit", Company.tenant_id, Company.credit_score, Company.sort_name, Company.id)
Index("ix_companies_tenant_band", Company.tenant_id, Company.credit_band, Company.sort_name, Company.id)


class CrmOutbox(Base):
    """Events that must not be lost (``company_identified``), written in the
    transaction of the change, published after commit by the relay timer."""

    __tablename__ = "crm_outbox"
    __table_args__ = (Index("ix_crm_outbox_pending", "published_at", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """One in-app notification for one coworker (the bell)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user", "tenant_id", "user_id", "id"),
                      Index("ix_notifications_unread", "tenant_id", "user_id", "read_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
