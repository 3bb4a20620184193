"""Tables owned by the credit_monitor service (its own database)."""
from datetime import datetime

from sqlalchemy import DateTime, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class MonitoredCompany(Base):
    """A tenant's company enrolled in credit monitoring."""

    __tablename__ = "monitored_companies"
    __table_args__ = (UniqueConstraint("tenant_id", "company_id", name="uq_monitored_tenant_company"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int]
    company_id: Mapped[int]
    country: Mapped[str] = mapped_column(String(2))
    org_number: Mapped[str] = mapped_column(String(32))
    rating: Mapped[str | None] = mapped_column(String(16))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
