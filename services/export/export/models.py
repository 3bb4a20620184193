"""Tables owned by the export service (its own database)."""
from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ExportJob(Base):
    """One Excel export of a company selection."""

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int]
    user_id: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20), server_default="queued")
    rows: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
