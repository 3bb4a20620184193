"""Bulk edits of a selection of companies (issue 7): add tags, remove tags, set
attributes, change the relationship, and undo the last of them. Plain logic.

An operation is a job: a ``bulk_operations`` row (who, what, the selection, an
idempotency key unique per tenant, status, counts, the last company id done,
a lease). It is applied in chunks of :data:`CHUNK` companies by id order; each
chunk is one transaction that writes the changes, one ``change_log`` row per
changed company and key (entity ``bulk edit``, entity id = the operation: the
company's history and timeline say which operation changed it), the previous
values (``bulk_operation_items``, what undo restores) and the job's progress
(``last_id``, counts, lease), so a killed worker leaves no half-chunk behind
and whoever takes the job next continues after ``last_id``.

Chunks are set-based (``INSERT ... SELECT``), never an ORM object per row.
Who runs a job: the RPC itself for small selections (:data:`INLINE_LIMIT`, one
chunk), else the crm's bulk worker (crm/bulk_worker.py, a process of its own) on a
``bulk_requested`` event; its timer resumes jobs whose lease ran out (a killed
service), and the same idempotency key again resumes it too.
A lease (``lease_until``, renewed per chunk) makes sure one worker at a time
runs a job, across instances.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import (DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, and_, delete, exists,
                        func, insert, literal, null, or_, select, update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import card, selection, util
from .exceptions import Conflict, Forbidden, NotFound, ServiceError, ValidationError
from .models import Base, ChangeLog, Company, CompanyAttributeValue, CompanyTag, Tag
from .schemas import SelectionIn

log = logging.getLogger(__name__)

INLINE_LIMIT = 1000  # selections up to this many companies are applied within the call
CHUNK = 500  # companies in the first transaction; then sized so that one takes about CHUNK_SECONDS
CHUNK_SECONDS = 0.03  # short: other requests of this process and other writers wait at most about this long
MAX_CHUNK = 5000
LEASE = timedelta(seconds=30)  # a worker that stops renewing this long is presumed dead
UNDO_WINDOW = timedelta(minutes=15)
MAX_ATTEMPTS = 3
STALE_AFTER = timedelta(seconds=5)  # a pending job nobody claimed for this long is picked up by the timer
RUNNING = ("pending", "running")
KINDS = ("add_tags", "remove_tags", "set_attributes", "set_relationship", "undo")
ENTITY, UNDO_ENTITY = "bulk edit", "bulk undo"
REL_KEY = 0  # bulk_operation_items.key for the relationship (tags and attributes use their id)


class BulkOperation(Base):
    """A bulk edit (a job). ``change`` and ``selection`` are JSON."""

    __tablename__ = "bulk_operations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_bulk_operations_tenant_key"),
        Index("ix_bulk_operations_user", "tenant_id", "user_id", "id"),
        Index("ix_bulk_operations_status", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    change: Mapped[str] = mapped_column(Text)
    selection: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # pending | running | done | failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("bulk_operations.id"))
    undone_by_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undo_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BulkOperationItem(Base):
    """What an operation changed at one company: ``key`` is the tag id, the
    attribute id or 0 (relationship); ``old``/``new`` the values before and after
    (a tag's name, the relationship, an attribute's stored rows as JSON)."""

    __tablename__ = "bulk_operation_items"

    operation_id: Mapped[int] = mapped_column(ForeignKey("bulk_operations.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[int] = mapped_column(Integer, primary_key=True)
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)


Op = BulkOperation
I = BulkOperationItem.__table__  # noqa: E741
C = Company
T_TEXT, T_TIME = Text(), DateTime(timezone=True)


# -- starting an operation --------------------------------------------------------
def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _find(session: Session, tenant_id: int, key: str) -> Op | None:
    return session.scalar(select(Op).where(Op.tenant_id == tenant_id, Op.idempotency_key == key))


def _same_request(op: Op, user_id, kind: str, request: dict, sel: dict) -> bool:
    stored = json.loads(op.change)
    return (op.kind == kind and op.user_id == user_id and _canonical(stored.get("request")) == _canonical(request)
            and op.selection == _canonical(sel))


def _replay(op: Op, user_id, kind: str, request: dict, sel: dict) -> Op:
    if not _same_request(op, user_id, kind, request, sel):
        raise Conflict("This idempotency key was already used for a different operation", field="idempotency_key")
    return op


def _create(session: Session, tenant_id: int, user_id: int | None, key: str, kind: str, request: dict,
            change: dict, sel: dict, total: int, undoes: Op | None = None) -> Op:
    now = util.now()
    op = Op(tenant_id=tenant_id, user_id=user_id, idempotency_key=key, kind=kind,
            change=_canonical({"request": request, **change}), selection=_canonical(sel), status="pending",
            total=total, done=0, changed=0, unchanged=0, last_id=0, attempts=0, created_at=now,
            undoes_id=undoes.id if undoes else None)
    session.add(op)
    try:
        session.flush()
        if undoes is not None:
            # claims the undo: a second undo of the same operation is refused from now on
            claimed = session.execute(update(Op).where(Op.id == undoes.id, Op.undone_by_id.is_(None))
                                      .values(undone_by_id=op.id)).rowcount
            if not claimed:
                session.rollback()
                raise Conflict("This operation is already undone", field="operation_id")
        session.commit()
    except IntegrityError:  # the same key, at the same moment, from a retry
        session.rollback()
        existing = _find(session, tenant_id, key)
        if existing is None:
            raise
        return _replay(existing, user_id, kind, request, sel)
    return op


def _selection(data: SelectionIn) -> dict:
    return data.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def _count(session: Session, tenant_id: int, user_id: int | None, sel: SelectionIn) -> int:
    return selection.count(session, tenant_id, user_id, sel)


def start_tags(session: Session, tenant_id: int, user_id: int | None, data, remove: bool) -> Op:
    kind = "remove_tags" if remove else "add_tags"
    request, sel = {"tags": data.tags}, _selection(data.selection)
    existing = _find(session, tenant_id, data.idempotency_key)
    if existing is not None:
        return _replay(existing, user_id, kind, request, sel)
    total = _count(session, tenant_id, user_id, data.selection)
    if remove:
        found = dict(session.execute(select(Tag.folded, Tag.id).where(
            Tag.tenant_id == tenant_id, Tag.folded.in_([t.casefold() for t in data.tags]))).all())
        for i, name in enumerate(data.tags):
            if name.casefold() not in found:
                raise ValidationError("No such tag", field=f"tags.{i}")
        ids = [found[t.casefold()] for t in data.tags]
    else:
        ids = card.tag_ids(session, tenant_id, data.tags)
        session.commit()
    names = dict(session.execute(select(Tag.id, Tag.name).where(Tag.id.in_(ids))).all())
    change = {"tags": [[i, names[i]] for i in ids]}
    return _create(session, tenant_id, user_id, data.idempotency_key, kind, request, change, sel, total)


def start_attributes(session: Session, tenant_id: int, user_id: int | None, data) -> Op:
    request, sel = {"values": data.values}, _selection(data.selection)
    existing = _find(session, tenant_id, data.idempotency_key)
    if existing is not None:
        return _replay(existing, user_id, "set_attributes", request, sel)
    values = []
    for key, value in data.values.items():
        field = f"values.{key}"
        try:
            attr_id = int(key)
        except (TypeError, ValueError):
            raise ValidationError("Unknown attribute", field=field) from None
        try:
            attr = card.get_attribute(session, tenant_id, attr_id)
        except NotFound:
            raise ValidationError("Unknown attribute", field=field) from None
        try:
            rows = card.attribute_rows(attr, value)  # the same rules as the card: options, 1-5 stars, subsets
        except ValidationError as exc:
            raise ValidationError(exc.message, field=field) from None
        values.append([attr.id, attr.name, rows])
    total = _count(session, tenant_id, user_id, data.selection)
    return _create(session, tenant_id, user_id, data.idempotency_key, "set_attributes", request,
                   {"attributes": values}, sel, total)


def start_relationship(session: Session, tenant_id: int, user_id: int | None, data) -> Op:
    request, sel = {"relationship": data.relationship}, _selection(data.selection)
    existing = _find(session, tenant_id, data.idempotency_key)
    if existing is not None:
        return _replay(existing, user_id, "set_relationship", request, sel)
    total = _count(session, tenant_id, user_id, data.selection)
    return _create(session, tenant_id, user_id, data.idempotency_key, "set_relationship", request,
                   {"relationship": data.relationship}, sel, total)


def _latest(session: Session, tenant_id: int, user_id: int | None) -> Op | None:
    return session.scalar(select(Op).where(Op.tenant_id == tenant_id, Op.user_id == user_id)
                          .order_by(Op.id.desc()).limit(1))


def undoable(op: Op, latest_id: int | None, now: datetime | None = None) -> bool:
    now = now or util.now()
    return (op.kind != "undo" and op.id == latest_id and op.undone_by_id is None and op.status in ("done", "failed")
            and op.changed > 0 and op.undo_until is not None and util.aware(op.undo_until) >= now)


def start_undo(session: Session, tenant_id: int, user_id: int | None, data) -> Op:
    request = {"operation_id": data.operation_id}
    existing = _find(session, tenant_id, data.idempotency_key)
    if existing is not None:
        return _replay(existing, user_id, "undo", request, {})
    orig = session.scalar(select(Op).where(Op.id == data.operation_id, Op.tenant_id == tenant_id))
    if orig is None:
        raise NotFound("No such bulk operation", id=data.operation_id, field="operation_id")
    if orig.user_id != user_id:
        raise Forbidden("Only the coworker who made a bulk edit can undo it", field="operation_id")
    if orig.kind == "undo":
        raise Conflict("An undo cannot be undone", field="operation_id")
    if orig.undone_by_id is not None:
        raise Conflict("This operation is already undone", field="operation_id")
    latest = _latest(session, tenant_id, user_id)
    if latest is not None and latest.id != orig.id:
        raise Conflict("Only your last bulk edit can be undone", field="operation_id")
    if orig.status in RUNNING:
        raise Conflict("The operation is still running; undo it when it has finished", field="operation_id")
    if not orig.changed:
        raise Conflict("The operation changed nothing", field="operation_id")
    if orig.undo_until is None or util.aware(orig.undo_until) < util.now():
        raise Conflict("The 15 minutes to undo this operation have passed", field="operation_id")
    total = session.scalar(select(func.count(func.distinct(I.c.company_id))).where(I.c.operation_id == orig.id)) or 0
    return _create(session, tenant_id, user_id, data.idempotency_key, "undo", request, {"operation_id": orig.id}, {},
                   total, undoes=orig)


# -- reading ----------------------------------------------------------------------
def get(session: Session, tenant_id: int, op_id: int) -> Op:
    op = session.scalar(select(Op).where(Op.id == op_id, Op.tenant_id == tenant_id))
    if op is None:
        raise NotFound("No such bulk operation", id=op_id)
    return op


def last(session: Session, tenant_id: int, user_id: int | None) -> dict | None:
    op = _latest(session, tenant_id, user_id)
    return dump(session, op) if op is not None else None


def summary(op: Op) -> str:
    change = json.loads(op.change)
    if op.kind in ("add_tags", "remove_tags"):
        names = ", ".join(name for _i, name in change["tags"])
        return ("Add tags: " if op.kind == "add_tags" else "Remove tags: ") + names
    if op.kind == "set_attributes":
        parts = []
        for _id, name, rows in change["attributes"]:
            parts.append(f"{name} = {', '.join(rows) if rows else '(cleared)'}")
        return "Set attributes: " + "; ".join(parts)
    if op.kind == "set_relationship":
        return "Change relationship to " + change["relationship"].replace("_", " ")
    return f"Undo of bulk edit #{change['operation_id']}"


def summary_params(op: Op) -> dict:
    """The summary's parts for a client that words it itself (issue 14); the kind is ``op.kind``:
    ``{"tags": [names]}``, ``{"attributes": [{"name", "values"}]}`` (no values: cleared),
    ``{"relationship": code}``, ``{"operation_id": id}`` (undo)."""
    change = json.loads(op.change)
    if op.kind in ("add_tags", "remove_tags"):
        return {"tags": [name for _i, name in change["tags"]]}
    if op.kind == "set_attributes":
        return {"attributes": [{"name": name, "values": list(rows or [])} for _id, name, rows in change["attributes"]]}
    if op.kind == "set_relationship":
        return {"relationship": change["relationship"]}
    return {"operation_id": change.get("operation_id")}


def dump(session: Session, op: Op) -> dict:
    session.refresh(op)
    latest = _latest(session, op.tenant_id, op.user_id)
    names = util.names(session, op.tenant_id, {op.user_id})
    total = max(op.total, op.done)
    return {
        "id": op.id, "kind": op.kind, "status": op.status, "summary": summary(op),
        "summary_params": summary_params(op),
        "user": util.ref(op.user_id, names), "idempotency_key": op.idempotency_key,
        "total": total, "done": op.done, "changed": op.changed, "unchanged": op.unchanged,
        "progress": 100 if op.status == "done" else (int(op.done * 100 / total) if total else 0),
        "created_at": util.iso(op.created_at), "started_at": util.iso(op.started_at),
        "finished_at": util.iso(op.finished_at), "undo_until": util.iso(op.undo_until),
        "undoable": undoable(op, latest.id if latest else None),
        "undoes_id": op.undoes_id, "undone_by_id": op.undone_by_id, "error": op.error,
    }


def preview(session: Session, tenant_id: int, user_id: int | None, sel: SelectionIn, sample: int) -> dict:
    """How many companies a selection holds, and the first few names (for the confirmation)."""
    conds = selection.conditions(session, tenant_id, user_id, sel)
    count = session.scalar(select(func.count()).select_from(C).where(*conds)) or 0
    names = list(session.scalars(select(C.name).where(*conds).order_by(C.sort_name, C.id).limit(sample))) if sample else []
    return {"count": count, "sample": names}


# -- running ------------------------------------------------------------------------
def claim(session: Session, op_id: int) -> bool:
    """Take the job's lease if nobody holds it; True if this worker now runs it."""
    now = util.now()
    claimed = session.execute(
        update(Op).where(Op.id == op_id, Op.status.in_(RUNNING), or_(Op.lease_until.is_(None), Op.lease_until < now))
        .values(status="running", lease_until=now + LEASE, started_at=func.coalesce(Op.started_at, now))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(claimed)


def stale(session: Session) -> list[int]:
    """Jobs that should be running but whose worker is gone (lease ran out), or that nobody took."""
    now = util.now()
    return list(session.scalars(select(Op.id).where(
        Op.status.in_(RUNNING), or_(Op.lease_until.is_(None), Op.lease_until < now), Op.created_at < now - STALE_AFTER,
    ).order_by(Op.id).limit(20)))


def _next_chunk(session: Session, op: Op, change: dict, sel: SelectionIn | None, size: int) -> list[int]:
    """The next ``size`` company ids after ``op.last_id`` (the selection's, or for an undo the original's)."""
    if op.kind == "undo":
        return list(session.scalars(select(I.c.company_id).where(
            I.c.operation_id == change["operation_id"], I.c.company_id > op.last_id)
            .group_by(I.c.company_id).order_by(I.c.company_id).limit(size)))
    return next(selection.iter_id_chunks(session, op.tenant_id, op.user_id, sel, chunk=size, after_id=op.last_id), [])


def _resize(size: int, seconds: float) -> int:
    """The next chunk's size: about CHUNK_SECONDS of work (cheap rows: bigger chunks, fewer commits),
    never below CHUNK (a chunk's fixed cost, the commit, would then dominate), at most doubling."""
    if seconds <= 0:
        return min(MAX_CHUNK, size * 2)
    wanted = int(size * CHUNK_SECONDS / seconds)
    return max(CHUNK, min(MAX_CHUNK, size * 2, wanted))


def run(session: Session, op_id: int, max_chunks: int | None = None, pause=lambda: time.sleep(0)) -> bool:
    """Run (or resume) a job if its lease is free. ``pause`` runs between chunks (under
    eventlet ``time.sleep(0)`` lets other requests in). ``max_chunks`` stops early, as a
    killed worker would (tests). Returns True if this call finished the job."""
    if not claim(session, op_id):
        return False
    op = session.get(Op, op_id)
    change = json.loads(op.change)
    sel = SelectionIn.model_validate(json.loads(op.selection)) if op.kind != "undo" else None
    # a selection small enough to be applied within the call is one chunk: one transaction
    n, size = 0, max(CHUNK, op.total) if op.total <= INLINE_LIMIT else CHUNK
    try:
        while True:
            started = time.perf_counter()
            ids = _next_chunk(session, op, change, sel, size)
            if not ids:
                break
            changed = APPLY[op.kind](session, op, change, ids, util.now())
            op.done += len(ids)
            op.changed += changed
            op.unchanged += len(ids) - changed
            op.last_id = ids[-1]
            op.lease_until = util.now() + LEASE
            session.commit()
            n += 1
            if max_chunks is not None and n >= max_chunks:
                return False
            size = _resize(size, time.perf_counter() - started)
            pause()
        now = util.now()
        op.status, op.finished_at, op.lease_until = "done", now, None
        op.total = max(op.total, op.done)
        if op.kind != "undo":
            op.undo_until = now + UNDO_WINDOW
        session.commit()
        return True
    except Exception as exc:  # noqa: BLE001 - a job records its failure; the worker lives on
        session.rollback()
        op = session.get(Op, op_id)
        op.attempts += 1
        final = isinstance(exc, ServiceError) or op.attempts >= MAX_ATTEMPTS
        log.warning("bulk operation %s: chunk failed (attempt %s): %r", op_id, op.attempts, exc)
        if final:
            now = util.now()
            op.status, op.finished_at = "failed", now
            op.error = (exc.message if isinstance(exc, ServiceError) else
                        "The operation stopped after repeated errors; the companies up to the last one counted were changed.")
            op.undo_until = now + UNDO_WINDOW if op.kind != "undo" else None
        op.lease_until = None  # a retry (timer, same key) may take it again
        session.commit()
        return False


# -- one chunk of each kind (set-based) ---------------------------------------------
def _mine(op: Op, ids):
    """This operation's items of this chunk (ids ascending; items only exist for ids of done chunks and this one)."""
    return and_(I.c.operation_id == op.id, I.c.company_id >= ids[0], I.c.company_id <= ids[-1])


def _log_from_items(session: Session, op: Op, ids, key: int | None, field: str, at: datetime,
                    entity: str = ENTITY, old_from_items=True, new_from_items=True) -> None:
    """One change_log row per item of this chunk (set-based): entity ``bulk edit`` #op."""
    cond = _mine(op, ids) if key is None else and_(_mine(op, ids), I.c.key == key)
    session.execute(insert(ChangeLog.__table__).from_select(
        ["tenant_id", "company_id", "entity", "entity_id", "field", "old", "new", "user_id", "at"],
        select(literal(op.tenant_id), I.c.company_id, literal(entity, T_TEXT), literal(op.id), literal(field, T_TEXT),
               I.c.old if old_from_items else null(), I.c.new if new_from_items else null(), literal(op.user_id),
               literal(at, T_TIME)).where(cond)))


def _changed(session: Session, op: Op, ids) -> int:
    return session.scalar(select(func.count(func.distinct(I.c.company_id))).where(_mine(op, ids))) or 0


def _tenant_ids(op: Op, ids):
    return and_(C.tenant_id == op.tenant_id, C.id.in_(ids))


def _add_tags(session: Session, op: Op, change: dict, ids: list[int], at: datetime) -> int:
    rows = 0
    for tag_id, name in change["tags"]:
        has = exists().where(CompanyTag.company_id == C.id, CompanyTag.tag_id == tag_id)
        rows = session.execute(insert(I).from_select(["operation_id", "company_id", "key", "old", "new"], select(
            literal(op.id), C.id, literal(tag_id), null(), literal(name, T_TEXT)).where(_tenant_ids(op, ids), ~has))).rowcount
        session.execute(insert(CompanyTag.__table__).from_select(["company_id", "tag_id", "tenant_id"], select(
            I.c.company_id, I.c.key, literal(op.tenant_id)).where(_mine(op, ids), I.c.key == tag_id)))
        _log_from_items(session, op, ids, tag_id, "tags added", at, old_from_items=False)
    return rows if len(change["tags"]) == 1 and rows >= 0 else _changed(session, op, ids)


def _remove_tags(session: Session, op: Op, change: dict, ids: list[int], at: datetime) -> int:
    for tag_id, name in change["tags"]:
        session.execute(insert(I).from_select(["operation_id", "company_id", "key", "old", "new"], select(
            literal(op.id), CompanyTag.company_id, literal(tag_id), literal(name, T_TEXT), null()).where(
            CompanyTag.tenant_id == op.tenant_id, CompanyTag.tag_id == tag_id, CompanyTag.company_id.in_(ids))))
        session.execute(delete(CompanyTag).where(
            CompanyTag.tag_id == tag_id, CompanyTag.company_id.in_(ids), CompanyTag.company_id.in_(
                select(I.c.company_id).where(_mine(op, ids), I.c.key == tag_id))))
        _log_from_items(session, op, ids, tag_id, "tags removed", at, new_from_items=False)
    return _changed(session, op, ids)


def _set_relationship(session: Session, op: Op, change: dict, ids: list[int], at: datetime) -> int:
    new = change["relationship"]
    rows = session.execute(insert(I).from_select(["operation_id", "company_id", "key", "old", "new"], select(
        literal(op.id), C.id, literal(REL_KEY), C.relationship, literal(new, T_TEXT)).where(
        _tenant_ids(op, ids), C.relationship != new))).rowcount
    _log_from_items(session, op, ids, REL_KEY, "relationship", at)
    session.execute(update(C).where(_tenant_ids(op, ids), C.relationship != new)
                    .values(relationship=new, updated_at=at).execution_options(synchronize_session=False))
    return rows if rows >= 0 else _changed(session, op, ids)


def _attribute_values(session: Session, tenant_id: int, attr_id: int, ids) -> dict[int, list[str]]:
    current: dict[int, list[str]] = {}
    for cid, value in session.execute(select(CompanyAttributeValue.company_id, CompanyAttributeValue.value).where(
            CompanyAttributeValue.tenant_id == tenant_id, CompanyAttributeValue.attribute_id == attr_id,
            CompanyAttributeValue.company_id.in_(ids))):
        current.setdefault(cid, []).append(value)
    return {cid: sorted(v) for cid, v in current.items()}


def _write_attribute(session: Session, op: Op, entity: str, attr_id: int, name: str, writes: list, at) -> None:
    """``writes``: [(company_id, old rows, new rows)]; replace the values, record items and history."""
    if not writes:
        return
    cids = [w[0] for w in writes]
    session.execute(delete(CompanyAttributeValue).where(CompanyAttributeValue.attribute_id == attr_id,
                                                        CompanyAttributeValue.company_id.in_(cids)))
    rows = [{"company_id": cid, "attribute_id": attr_id, "value": v, "tenant_id": op.tenant_id}
            for cid, _old, new in writes for v in new]
    if rows:
        session.execute(insert(CompanyAttributeValue), rows)
    session.execute(insert(I), [{"operation_id": op.id, "company_id": cid, "key": attr_id, "old": json.dumps(old),
                                 "new": json.dumps(new)} for cid, old, new in writes])
    session.execute(insert(ChangeLog.__table__), [
        {"tenant_id": op.tenant_id, "company_id": cid, "entity": entity, "entity_id": op.id, "field": name,
         "old": ", ".join(old) or None, "new": ", ".join(new) or None, "user_id": op.user_id, "at": at}
        for cid, old, new in writes])


def _set_attributes(session: Session, op: Op, change: dict, ids: list[int], at: datetime) -> int:
    for attr_id, name, rows in change["attributes"]:
        current = _attribute_values(session, op.tenant_id, attr_id, ids)
        writes = [(cid, current.get(cid, []), rows) for cid in ids if current.get(cid, []) != rows]
        _write_attribute(session, op, ENTITY, attr_id, name, writes, at)
    return _changed(session, op, ids)


def _undo(session: Session, op: Op, change: dict, ids: list[int], at: datetime) -> int:
    orig = session.get(Op, change["operation_id"])
    O = I.alias("orig")  # noqa: E741,N806 - the original operation's items
    mine_orig = and_(O.c.operation_id == orig.id, O.c.company_id.in_(ids))
    if orig.kind == "set_relationship":
        session.execute(insert(I).from_select(["operation_id", "company_id", "key", "old", "new"], select(
            literal(op.id), C.id, literal(REL_KEY), C.relationship, O.c.old).join(O, O.c.company_id == C.id).where(
            mine_orig, O.c.key == REL_KEY, C.tenant_id == op.tenant_id, C.relationship == O.c.new)))
        _log_from_items(session, op, ids, REL_KEY, "relationship", at, entity=UNDO_ENTITY)
        restored = select(I.c.new).where(I.c.operation_id == op.id, I.c.company_id == C.id,
                                         I.c.key == REL_KEY).scalar_subquery()
        session.execute(update(C).where(_tenant_ids(op, ids), C.id.in_(
            select(I.c.company_id).where(_mine(op, ids), I.c.key == REL_KEY))).values(relationship=restored, updated_at=at)
            .execution_options(synchronize_session=False))
    elif orig.kind in ("add_tags", "remove_tags"):
        has = exists().where(CompanyTag.company_id == O.c.company_id, CompanyTag.tag_id == O.c.key)
        added = orig.kind == "add_tags"  # undo removes the tags it added, or puts back those it removed
        session.execute(insert(I).from_select(["operation_id", "company_id", "key", "old", "new"], select(
            literal(op.id), O.c.company_id, O.c.key, O.c.new, O.c.old).where(mine_orig, has if added else ~has)))
        if added:
            session.execute(delete(CompanyTag).where(CompanyTag.company_id.in_(ids), exists().where(
                _mine(op, ids), I.c.company_id == CompanyTag.company_id, I.c.key == CompanyTag.tag_id)))
            _log_from_items(session, op, ids, None, "tags removed", at, entity=UNDO_ENTITY, new_from_items=False)
        else:
            session.execute(insert(CompanyTag.__table__).from_select(["company_id", "tag_id", "tenant_id"], select(
                I.c.company_id, I.c.key, literal(op.tenant_id)).where(_mine(op, ids))))
            _log_from_items(session, op, ids, None, "tags added", at, entity=UNDO_ENTITY, old_from_items=False)
    else:  # attributes: restore where the value is still the one the operation set
        items = session.execute(select(O.c.company_id, O.c.key, O.c.old, O.c.new).where(mine_orig)).all()
        names = {a_id: name for a_id, name, _rows in json.loads(orig.change)["attributes"]}
        for attr_id in sorted({i.key for i in items}):
            current = _attribute_values(session, op.tenant_id, attr_id, ids)
            writes = [(i.company_id, json.loads(i.new), json.loads(i.old)) for i in items
                      if i.key == attr_id and current.get(i.company_id, []) == json.loads(i.new)]
            _write_attribute(session, op, UNDO_ENTITY, attr_id, names.get(attr_id, str(attr_id)), writes, at)
    return _changed(session, op, ids)


APPLY = {"add_tags": _add_tags, "remove_tags": _remove_tags, "set_attributes": _set_attributes,
         "set_relationship": _set_relationship, "undo": _undo}
