"""Tables owned by the credit_monitor service (its own database). Every row
carries tenant_id and every query filters on it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class TenantSettings(Base):
    """A tenant's switch, Creditsafe credentials (password Fernet-encrypted),
    its portfolio and the notification-event checkpoint."""

    __tablename__ = "tenant_settings"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    username: Mapped[str | None] = mapped_column(String(100))
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    portfolio_id: Mapped[int | None] = mapped_column(BigInteger)
    portfolio_key: Mapped[str | None] = mapped_column(String(200))  # base URL + user the portfolio belongs to
    checkpoint: Mapped[str | None] = mapped_column(String(32))  # eventDate of the newest event handled
    last_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_poll_error: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MonitoredCompany(Base):
    """A tenant's company known to credit monitoring.

    status: ``pending`` (to enrol), ``active`` (in the portfolio), ``unknown``
    (Creditsafe does not know the number), ``stopped`` (taken out by a user),
    ``disabled`` (the tenant has monitoring off)."""

    __tablename__ = "monitored_companies"
    __table_args__ = (
        UniqueConstraint("tenant_id", "company_id", name="uq_monitored_tenant_company"),
        Index("ix_monitored_tenant_status", "tenant_id", "status", "id"),
        Index("ix_monitored_tenant_connect", "tenant_id", "connect_id"),
        Index("ix_monitored_batch", "batch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int]
    company_id: Mapped[int]
    country: Mapped[str] = mapped_column(String(2))
    org_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    connect_id: Mapped[str | None] = mapped_column(String(64))
    safe_number: Mapped[str | None] = mapped_column(String(32))  # Creditsafe's Safe Number (the import file's key)
    batch_id: Mapped[int | None] = mapped_column(Integer)  # the enrolment batch holding it while pending
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # backoff after an error
    status: Mapped[str] = mapped_column(String(16), default="pending")
    in_portfolio: Mapped[bool] = mapped_column(Boolean, default=False)
    band: Mapped[str | None] = mapped_column(String(1))
    score: Mapped[int | None] = mapped_column(Integer)
    credit_limit: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(String(200))
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EnrolBatch(Base):
    """An enrolment job: up to ``CREDIT_ENROL_BATCH`` pending companies of one
    tenant, searched, then imported into the portfolio with one file (or added
    one by one when few), then confirmed from the portfolio listing.

    status: ``searching`` (looking the numbers up), ``importing`` (file sent,
    waiting for the companies to appear in the portfolio), ``done``.
    ``lease_until``: the instance working on it holds it until then; a killed
    instance's batch is taken over when the lease has run out."""

    __tablename__ = "enrol_batches"
    __table_args__ = (Index("ix_enrol_batches_open", "status", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="searching")
    portfolio_id: Mapped[int | None] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer, default=0)
    import_id: Mapped[str | None] = mapped_column(String(100))  # Creditsafe's answer to the import
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(300))


class RatingHistory(Base):
    """Every rating a monitored company has had, oldest first by ``rated_at``."""

    __tablename__ = "rating_history"
    __table_args__ = (Index("ix_rating_history_company", "tenant_id", "company_id", "rated_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int]
    company_id: Mapped[int]
    band: Mapped[str | None] = mapped_column(String(1))
    score: Mapped[int | None] = mapped_column(Integer)
    credit_limit: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(String(200))
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))  # report | monitoring
    event_ids: Mapped[str | None] = mapped_column(String(200))


class ProcessedEvent(Base):
    """A Creditsafe notification event handled once, however often it is read."""

    __tablename__ = "processed_events"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InboxEvent(Base):
    """Incoming crm events handled once (by the crm's event id)."""

    __tablename__ = "inbox_events"

    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Outbox(Base):
    """Events to publish (``rating_changed``), written in the same transaction
    as the change and published after commit by the relay."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "published_at", "seq"),)

    seq: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[int]
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
