"""Tables owned by the export service (its own database).

``export_jobs``: one row per export (what, who, progress, lease, file
metadata). ``export_chunks``: the finished file in pieces; a job is marked
``done`` in the same transaction that writes its last chunk, so a half-written
file is never served.
"""
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ExportJob(Base):
    """One report of a company selection."""

    __tablename__ = "export_jobs"
    __table_args__ = (
        Index("ix_export_jobs_owner", "tenant_id", "user_id", "created_at"),
        Index("ix_export_jobs_status", "status", "lease_until"),
        Index("ix_export_jobs_expires", "expires_at"),
        Index("uq_export_jobs_key", "tenant_id", "user_id", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int]
    user_id: Mapped[int | None]
    # queued | running | done | failed | cancelled | expired
    status: Mapped[str] = mapped_column(String(20), server_default="queued")
    rows_done: Mapped[int] = mapped_column("rows", Integer, server_default="0")
    rows_total: Mapped[int | None] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8), server_default="xlsx")
    columns: Mapped[str] = mapped_column(Text, server_default="[]")  # JSON list of column keys
    contacts: Mapped[bool] = mapped_column(Boolean, server_default="0")
    selection: Mapped[str] = mapped_column(Text, server_default="{}")  # JSON, the selection contract
    title: Mapped[str] = mapped_column(String(100), server_default="Companies")  # the sheet / file name
    token: Mapped[str | None] = mapped_column(Text)  # the caller's token, to read the crm on their behalf
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    chunk_count: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    worker: Mapped[str | None] = mapped_column(String(64))  # the instance holding the lease
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ExportChunk(Base):
    """A piece (at most ``jobs.CHUNK_SIZE`` bytes) of a finished file, numbered from 0."""

    __tablename__ = "export_chunks"

    job_id: Mapped[int] = mapped_column(ForeignKey("export_jobs.id", ondelete="CASCADE"), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
