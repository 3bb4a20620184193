"""Tables owned by the mailer service (its own database).

A campaign's recipients are rows of ``campaign_messages``: one per distinct
address (``uq_campaign_messages_address``), each with its own state machine
``pending -> sending -> sent | failed`` (or ``skipped`` from the start). The
claim that moves a row to ``sending`` is a conditional UPDATE, so two
instances never send the same row; ``message_id`` is fixed when the row is
made, so a resend after a crash carries the same Message-ID.
"""
from datetime import datetime

from sqlalchemy import (BigInteger, DateTime, Float, Index, Integer, String, Text, UniqueConstraint, func)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Campaign(Base):
    """One send to a selection. ``status``: sending, done, cancelled."""

    __tablename__ = "campaigns"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_campaigns_tenant_key"),
        Index("ix_campaigns_tenant_created", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="sending")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kinds: Mapped[str] = mapped_column(String(40))
    from_address: Mapped[str] = mapped_column(String(320))
    sender_name: Mapped[str] = mapped_column(String(200))
    sender_title: Mapped[str | None] = mapped_column(String(200))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    unsubscribe_text: Mapped[str | None] = mapped_column(String(100))  # the link's words, sender's language
    selection: Mapped[str] = mapped_column(Text)  # the selection JSON, as asked
    total: Mapped[int] = mapped_column(Integer, default=0)  # rows to send (skipped not counted)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignMessage(Base):
    """One recipient of a campaign (an address; deduplicated)."""

    __tablename__ = "campaign_messages"
    __table_args__ = (
        UniqueConstraint("campaign_id", "address", name="uq_campaign_messages_address"),
        Index("ix_campaign_messages_status", "campaign_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    tenant_id: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(320))  # folded (lower case): the dedup key
    email: Mapped[str] = mapped_column(String(320))  # as the crm has it
    kind: Mapped[str] = mapped_column(String(10))  # company | contact
    company_id: Mapped[int | None] = mapped_column(Integer)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    company_name: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    skip_reason: Mapped[str | None] = mapped_column(String(30))
    message_id: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_instance: Mapped[str | None] = mapped_column(String(40))
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    smtp_response: Mapped[str | None] = mapped_column(String(500))


class MailTemplate(Base):
    """A reusable subject + body per tenant."""

    __tablename__ = "mail_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_mail_templates_tenant_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = _created()


class Suppression(Base):
    """Addresses that opted out here (unsubscribe link); skipped by every campaign
    of the tenant even before the crm has recorded the opt-out."""

    __tablename__ = "suppressions"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    at: Mapped[datetime] = _created()


class Outbox(Base):
    """Events written in the same transaction as the change; the relay publishes
    them after commit (``published_at``) and handlers are idempotent by ``event_id``."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unpublished", "published_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    relay_token: Mapped[str | None] = mapped_column(String(40))  # the relay that holds the row
    claimed_until: Mapped[float | None] = mapped_column(Float)  # epoch seconds; then another relay may take it


class RateBucket(Base):
    """Per-tenant token bucket shared by every instance (row-locked)."""

    __tablename__ = "rate_buckets"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)  # epoch seconds


class Instance(Base):
    """Running mailer instances; a claim whose instance stopped beating is stale."""

    __tablename__ = "mailer_instances"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seen: Mapped[float] = mapped_column(Float)  # epoch seconds


class TenantSender(Base):
    """The tenant's sending address (From); unset = the configured default."""

    __tablename__ = "tenant_senders"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_address: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = _created()
