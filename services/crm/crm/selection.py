"""A selection of companies, as the bulk bar, the export and the mailer send
it: explicit ids, or the overview's filter ("all N matching"). Plain logic.

Resolving always scopes by tenant: ids of another tenant simply match nothing.
The filter is evaluated when the operation runs (with the caller's user id for
``owner=mine``), so "all matching" works the same for 5 and for 100,000.
"""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from . import overview
from .models import Company
from .schemas import SelectionIn

C = Company


def conditions(session: Session, tenant_id: int, user_id: int | None, sel: SelectionIn) -> list:
    if sel.ids is not None:
        conds = [C.tenant_id == tenant_id, C.id.in_(sel.ids)]
    else:
        conds = overview.conditions(session, tenant_id, user_id, sel.filter)
    if sel.exclude_ids:
        conds.append(C.id.not_in(sel.exclude_ids))
    return conds


def ids_query(session: Session, tenant_id: int, user_id: int | None, sel: SelectionIn) -> Select:
    """``SELECT companies.id WHERE <the selection>`` (unordered)."""
    return select(C.id).where(*conditions(session, tenant_id, user_id, sel))


def count(session: Session, tenant_id: int, user_id: int | None, sel: SelectionIn) -> int:
    return session.scalar(select(func.count()).select_from(C).where(*conditions(session, tenant_id, user_id, sel))) or 0


def iter_id_chunks(session: Session, tenant_id: int, user_id: int | None, sel: SelectionIn, chunk: int = 1000,
                   after_id: int = 0) -> Iterator[list[int]]:
    """The selected ids in ascending order, ``chunk`` at a time, by keyset
    (``id > last``): stable while other writers work, resumable from ``after_id``."""
    conds = conditions(session, tenant_id, user_id, sel)
    last = after_id
    while True:
        ids = list(session.scalars(select(C.id).where(*conds, C.id > last).order_by(C.id).limit(chunk)))
        if not ids:
            return
        yield ids
        last = ids[-1]
