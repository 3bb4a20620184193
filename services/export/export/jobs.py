"""Export jobs in the export database: create, read, list, cancel, and the
lease protocol the runner and the sweeper use. Plain logic, no nameko.

Lease: a runner *claims* a job with one conditional UPDATE (queued, or running
with an expired lease) and renews the lease with every page; a renewal that
matches no row means the job was cancelled or taken over, and the runner
stops. The file is written to ``export_chunks`` and the job marked ``done``
in one transaction, so only complete files are ever served.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service_common.auth import Caller

from .exceptions import NotFound, ValidationError
from .models import ExportChunk, ExportJob
from .schemas import ListIn, StartIn

CHUNK_SIZE = 512 * 1024
RETENTION = timedelta(days=7)
ACTIVE = ("queued", "running")
FINAL = ("done", "failed", "cancelled", "expired")
MAX_ATTEMPTS = 3


def now() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _iso(value: datetime | None) -> str | None:
    value = aware(value)
    return value.isoformat() if value else None


def file_name(title: str, fmt: str, at: datetime) -> str:
    stem = re.sub(r"[^A-Za-z0-9ÆØÅæøåÄÖäöÜü _.-]+", "", title).strip().replace(" ", "-") or "companies"
    return f"{stem[:60]}-{aware(at).strftime('%Y-%m-%d-%H%M')}.{fmt}"


def dump(job: ExportJob) -> dict:
    eta = None
    started = aware(job.started_at)
    if job.status == "running" and started and job.rows_total and job.rows_done:
        elapsed = (now() - started).total_seconds()
        eta = max(0, round(elapsed / job.rows_done * (job.rows_total - job.rows_done)))
    percent = None
    if job.rows_total:
        percent = min(100, int(job.rows_done * 100 / job.rows_total))
    elif job.rows_total == 0:
        percent = 100 if job.status == "done" else 0
    return {
        "id": job.id, "status": job.status, "format": job.format, "title": job.title, "user_id": job.user_id,
        "columns": json.loads(job.columns or "[]"), "contacts": bool(job.contacts),
        "rows_done": job.rows_done, "rows_total": job.rows_total, "percent": percent, "eta_seconds": eta,
        "error": job.error, "file_name": job.file_name, "file_size": job.file_size, "chunk_count": job.chunk_count,
        "created_at": _iso(job.created_at), "started_at": _iso(job.started_at), "finished_at": _iso(job.finished_at),
        "expires_at": _iso(job.expires_at), "downloadable": job.status == "done",
    }


def create(session: Session, caller: Caller, req: StartIn, rows_total: int | None) -> tuple[ExportJob, bool]:
    """A new queued job, or the caller's job with the same idempotency key (created=False)."""
    if req.idempotency_key:
        existing = _by_key(session, caller, req.idempotency_key)
        if existing is not None:
            return existing, False
    at = now()
    job = ExportJob(tenant_id=caller.tenant_id, user_id=caller.user_id, status="queued", rows_done=0,
                    rows_total=rows_total, format=req.format, columns=json.dumps(req.columns), contacts=req.contacts,
                    selection=json.dumps(req.selection), title=req.title, token=caller.token,
                    idempotency_key=req.idempotency_key, created_at=at, expires_at=at + RETENTION,
                    dispatched_at=at, file_name=file_name(req.title, req.format, at))
    session.add(job)
    try:
        session.commit()
    except IntegrityError:  # the same key, concurrently
        session.rollback()
        existing = _by_key(session, caller, req.idempotency_key)
        if existing is None:
            raise
        return existing, False
    return job, True


def _by_key(session: Session, caller: Caller, key: str) -> ExportJob | None:
    return session.scalar(select(ExportJob).where(ExportJob.tenant_id == caller.tenant_id,
                                                  ExportJob.user_id == caller.user_id,
                                                  ExportJob.idempotency_key == key))


def visible(session: Session, caller: Caller, job_id: int) -> ExportJob:
    """The job if the caller may see it: its owner or an admin of its tenant. Else NotFound."""
    job = session.scalar(select(ExportJob).where(ExportJob.id == job_id, ExportJob.tenant_id == caller.tenant_id))
    if job is None or (job.user_id != caller.user_id and caller.role != "admin"):
        raise NotFound("No such export", id=job_id)
    return job


def list_jobs(session: Session, caller: Caller, req: ListIn) -> list[dict]:
    stmt = select(ExportJob).where(ExportJob.tenant_id == caller.tenant_id)
    if not (req.all and caller.role == "admin"):
        stmt = stmt.where(ExportJob.user_id == caller.user_id)
    jobs = session.scalars(stmt.order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(req.limit))
    return [dump(j) for j in jobs]


def cancel(session: Session, caller: Caller, job_id: int) -> dict:
    job = visible(session, caller, job_id)
    if job.status in ACTIVE:
        session.execute(update(ExportJob).where(ExportJob.id == job.id, ExportJob.status.in_(ACTIVE))
                        .values(status="cancelled", finished_at=now(), token=None, lease_until=None))
        session.execute(delete(ExportChunk).where(ExportChunk.job_id == job.id))
        session.commit()
        session.refresh(job)
    return dump(job)


def download_chunk(session: Session, caller: Caller, job_id: int, n: int) -> dict:
    job = visible(session, caller, job_id)
    if job.status != "done" or (job.expires_at and aware(job.expires_at) <= now()):
        raise NotFound("This export has no file (not ready, failed, or expired)", id=job_id)
    if not 0 <= n < (job.chunk_count or 0):
        raise ValidationError(f"chunk {n} does not exist (0..{(job.chunk_count or 1) - 1})", field="n")
    data = session.scalar(select(ExportChunk.data).where(ExportChunk.job_id == job.id, ExportChunk.n == n))
    if data is None:
        raise NotFound("This export has no file", id=job_id)
    return {"n": n, "last": n == job.chunk_count - 1, "data": bytes(data)}


# -- the lease protocol (runner, sweeper) -----------------------------------------
def claim(session: Session, job_id: int, worker: str, lease: float) -> ExportJob | None:
    """Take the job for ``worker``: queued, or running with an expired lease. None if not claimable."""
    at = now()
    result = session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id,
               or_(ExportJob.status == "queued",
                   (ExportJob.status == "running") & (ExportJob.lease_until < at)),
               ExportJob.attempts < MAX_ATTEMPTS)
        .values(status="running", worker=worker, lease_until=at + timedelta(seconds=lease),
                attempts=ExportJob.attempts + 1, started_at=func.coalesce(ExportJob.started_at, at), rows_done=0)
    )
    if result.rowcount != 1:
        session.rollback()
        return None
    session.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))  # a previous attempt's leftovers
    session.commit()
    return session.get(ExportJob, job_id, populate_existing=True)


def heartbeat(session: Session, job_id: int, worker: str, lease: float, rows_done: int,
              rows_total: int | None = None) -> bool:
    """Record progress and renew the lease. False: the job is no longer ours (cancelled, taken over)."""
    values = {"rows_done": rows_done, "lease_until": now() + timedelta(seconds=lease)}
    if rows_total is not None:
        values["rows_total"] = rows_total
    result = session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.worker == worker,
                                                     ExportJob.status == "running").values(**values))
    session.commit()
    return result.rowcount == 1


def finish(session: Session, job_id: int, worker: str, path: str, rows_done: int) -> bool:
    """Store the file in chunks and mark the job done, in one transaction. False if no longer ours."""
    n = size = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(CHUNK_SIZE)
            if not block and n:
                break
            session.add(ExportChunk(job_id=job_id, n=n, data=block))
            session.flush()
            session.expunge_all()  # keep memory flat: one chunk at a time
            size += len(block)
            n += 1
            if not block:
                break
    result = session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.worker == worker,
                                                     ExportJob.status == "running")
                             .values(status="done", rows_done=rows_done, file_size=size, chunk_count=n,
                                     finished_at=now(), lease_until=None, token=None, error=None))
    if result.rowcount != 1:
        session.rollback()
        return False
    session.commit()
    return True


def fail(session: Session, job_id: int, message: str, worker: str | None = None) -> None:
    stmt = update(ExportJob).where(ExportJob.id == job_id, ExportJob.status.in_(ACTIVE))
    if worker is not None:
        stmt = stmt.where(ExportJob.worker == worker)
    result = session.execute(stmt.values(status="failed", error=message[:2000], finished_at=now(), lease_until=None,
                                         token=None))
    if result.rowcount:
        session.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))
    session.commit()


def release(session: Session, job_id: int, worker: str) -> None:
    """Give the job back (this instance is stopping): queued again, for any instance."""
    session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.worker == worker,
                                            ExportJob.status == "running")
                    .values(status="queued", worker=None, lease_until=None, attempts=ExportJob.attempts - 1))
    session.commit()


def sweep(session: Session, requeue_after: float = 10.0) -> dict:
    """Housekeeping, run by a timer on every instance (harmless when several do):

    - running jobs whose lease expired (their instance died): give up after MAX_ATTEMPTS with a
      message, else return their ids to be dispatched again;
    - queued jobs nobody picked up for ``requeue_after`` seconds (a lost dispatch): dispatch again;
    - expired files: chunks deleted, job marked ``expired``.
    """
    at = now()
    stale = list(session.scalars(select(ExportJob.id).where(ExportJob.status == "running", ExportJob.lease_until < at)))
    failed = []
    for job_id in list(stale):
        result = session.execute(
            update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "running", ExportJob.lease_until < at,
                                    ExportJob.attempts >= MAX_ATTEMPTS)
            .values(status="failed", finished_at=at, lease_until=None, token=None,
                    error=f"The export was interrupted {MAX_ATTEMPTS} times (the export service stopped while "
                          "writing it). Start it again."))
        if result.rowcount:
            stale.remove(job_id)
            failed.append(job_id)
    lost = list(session.scalars(select(ExportJob.id).where(
        ExportJob.status == "queued", ExportJob.dispatched_at < at - timedelta(seconds=requeue_after))))
    again = stale + lost
    if again:
        session.execute(update(ExportJob).where(ExportJob.id.in_(again)).values(dispatched_at=at))
    expired = list(session.scalars(select(ExportJob.id).where(ExportJob.expires_at <= at, ExportJob.status != "expired")))
    for job_id in expired:
        session.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))
        session.execute(update(ExportJob).where(ExportJob.id == job_id)
                        .values(status="expired", token=None, lease_until=None))
    session.commit()
    return {"dispatch": again, "failed": failed, "expired": expired}
