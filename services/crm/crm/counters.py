"""The overview's exact counts, kept on ``companies`` in the same transaction as
the change of the rows they count.

Every write that may change a company's projects, tasks or agreements calls
:func:`refresh` after it (having locked the company row first with
``util.company(..., lock=True)``, so concurrent writers on PostgreSQL queue up
and each recount sees the rows committed before it). A recount of one
company's rows is a few index look-ups: simple and exact, no nightly job.
Invoiced totals per calendar year are incremented by :func:`add_invoiced`
under the same lock.
"""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .models import Agreement, Company, CompanyInvoiceTotal, Project, Task
from .schemas import ACTIVE_PROJECT, UNSIGNED_AGREEMENT


def refresh(session: Session, company_id: int) -> None:
    session.flush()
    session.execute(
        update(Company)
        .where(Company.id == company_id)
        .values(
            active_projects=select(func.count()).where(Project.company_id == company_id,
                                                       Project.status.in_(ACTIVE_PROJECT)).scalar_subquery(),
            unresolved_tasks=select(func.count()).where(Task.company_id == company_id,
                                                        Task.done.is_(False)).scalar_subquery(),
            unsigned_agreements=select(func.count()).where(Agreement.company_id == company_id,
                                                           Agreement.status.in_(UNSIGNED_AGREEMENT)).scalar_subquery(),
            updated_at=Company.updated_at,  # a count is not an edit of the company
        )
        .execution_options(synchronize_session=False)
    )
    # the ORM copy (if loaded) must not hold stale counts
    for obj in session.identity_map.values():
        if isinstance(obj, Company) and obj.id == company_id:
            session.expire(obj, ["active_projects", "unresolved_tasks", "unsigned_agreements"])


def add_invoiced(session: Session, tenant_id: int, company_id: int, year: int, delta_minor: int) -> None:
    """Add to a company's invoiced total of ``year`` (the company row is locked)."""
    row = session.get(CompanyInvoiceTotal, (company_id, year))
    if row is None:
        session.add(CompanyInvoiceTotal(company_id=company_id, year=year, tenant_id=tenant_id, amount_minor=delta_minor))
    else:
        row.amount_minor = row.amount_minor + delta_minor
    session.flush()


def recount_all(session: Session, tenant_id: int) -> None:
    """Repair tool (not used on the request path): recount every company of a tenant."""
    for (company_id,) in session.execute(select(Company.id).where(Company.tenant_id == tenant_id)):
        refresh(session, company_id)
