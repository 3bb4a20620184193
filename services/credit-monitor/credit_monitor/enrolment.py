"""Batch enrolment in Creditsafe monitoring. Plain module: no nameko here.

The ``company_identified`` handler only records the company (one insert, see
:func:`credit_monitor.monitor.company_identified`). :func:`run` (the service's
enrolment timer, and ``poll_now``) then enrols what waits, per tenant, in
batches that are rows of ``enrol_batches`` (the job state, so a killed
instance's work is taken over when its lease runs out):

1. **claim**: up to ``CREDIT_ENROL_BATCH`` pending companies get the batch id;
2. **search**: ``GET /companies?countries=&regNo=`` for each, ``CREDIT_SEARCH_CONCURRENCY``
   at a time, results committed every ``SEARCH_CHUNK`` (a number Creditsafe does
   not know becomes ``unknown`` at once);
3. **add**: from ``CREDIT_IMPORT_FROM`` companies on, one ``POST /monitoring/portfolios/{id}/import``
   file of their Safe Numbers (Creditsafe queues it; duplicates are ignored, so a
   file sent again after a kill is harmless); fewer are added one by one
   (``POST …/companies``, 409 = already there);
4. **confirm**: the paged portfolio listing (``GET …/companies``, no report bought)
   shows which companies the import added and their rating, which becomes the
   first rating. What an import did not add within ``CREDIT_IMPORT_TIMEOUT`` is
   added one by one.

Off means nothing is sent: a tenant with monitoring off is never worked on, and
every step re-reads the companies' status (a company stopped or switched off
meanwhile is left out). Creditsafe trouble (down, slow, open circuit, bad
credentials) releases the companies back to ``pending`` with the reason and a
backoff; the breaker decides when the next try goes out.
"""
from __future__ import annotations

import logging
import queue
import threading
from datetime import timedelta

from types import SimpleNamespace

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from .creditsafe import CreditsafeClient, CreditsafeError, Rating, RequestRejected, monitored_rating
from .models import EnrolBatch, MonitoredCompany, TenantSettings

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)  # an instance working on a batch holds it this long (renewed as it goes)
SEARCH_CHUNK = 250  # searches committed together
MAX_BACKOFF = 3600.0
TENANT_RETRY = timedelta(seconds=60)  # Creditsafe unusable for a whole tenant (credentials, portfolio): wait this long


def _monitor():
    from . import monitor  # monitor imports this module: late import

    return monitor


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF, 5.0 * 2 ** max(0, attempts - 1)))


# -- the pass ------------------------------------------------------------------
def run(session: Session, clients, tenant_id: int | None = None, force: bool = False) -> dict:
    """Enrol what waits (every tenant, or one). ``force``: ignore the backoff of
    companies that failed before (a user asked). Returns counts."""
    m = _monitor()
    out = {"claimed": 0, "searched": 0, "unknown": 0, "imported": 0, "added": 0, "active": 0, "errors": 0}
    now = m.now()
    due = or_(MonitoredCompany.next_attempt_at.is_(None), MonitoredCompany.next_attempt_at <= now)
    waiting = select(MonitoredCompany.tenant_id).where(MonitoredCompany.status == "pending",
                                                      MonitoredCompany.batch_id.is_(None))
    if not force:
        waiting = waiting.where(due)
    open_batches = select(EnrolBatch.tenant_id).where(EnrolBatch.status.in_(("searching", "importing")))
    if tenant_id is not None:
        waiting = waiting.where(MonitoredCompany.tenant_id == tenant_id)
        open_batches = open_batches.where(EnrolBatch.tenant_id == tenant_id)
    tenants = sorted(set(session.scalars(waiting.distinct())) | set(session.scalars(open_batches.distinct())))
    session.commit()
    for tid in tenants:
        try:
            _run_tenant(session, clients, tid, force, out)
        except Exception:
            session.rollback()
            log.exception("enrolment of tenant %s failed; it is tried again on the next pass", tid)
            out["errors"] += 1
    return out


def _run_tenant(session: Session, clients, tenant_id: int, force: bool, out: dict) -> None:
    m = _monitor()
    ts = m.tenant_settings(session, tenant_id, clients.settings)
    if not ts.enabled:  # off: nothing goes to Creditsafe; what waits waits as "disabled"
        session.execute(update(MonitoredCompany).where(MonitoredCompany.tenant_id == tenant_id,
                                                       MonitoredCompany.status == "pending")
                        .values(status="disabled", batch_id=None))
        session.execute(update(EnrolBatch).where(EnrolBatch.tenant_id == tenant_id,
                                                 EnrolBatch.status.in_(("searching", "importing")))
                        .values(status="done", finished_at=m.now(), last_error="monitoring switched off"))
        session.commit()
        return
    try:
        client = clients.for_tenant(ts)
        if client.circuit_open and not force:
            return  # Creditsafe was failing: the breaker says when to try again
        pid = m._portfolio(session, clients, ts, client)
    except (CreditsafeError, RequestRejected) as exc:
        session.rollback()
        _release_waiting(session, tenant_id, str(exc))
        out["errors"] += 1
        return
    settings = clients.settings
    # batches a killed (or this) instance left half done, then new ones
    for batch in session.scalars(select(EnrolBatch).where(EnrolBatch.tenant_id == tenant_id,
                                                          EnrolBatch.status == "searching")
                                 .order_by(EnrolBatch.id)).all():
        if _lease(session, batch):
            if not _work(session, clients, client, pid, batch, out):
                return
    while True:
        batch = _claim(session, tenant_id, settings.enrol_batch, force)
        if batch is None:
            break
        out["claimed"] += batch.size
        if not _work(session, clients, client, pid, batch, out):
            return
    _confirm(session, clients, client, pid, tenant_id, out)


# -- job state -----------------------------------------------------------------
def _lease(session: Session, batch: EnrolBatch) -> bool:
    """Take (or renew) the lease on a batch: False when another instance works on it."""
    m = _monitor()
    now = m.now()
    done = session.execute(update(EnrolBatch).where(
        EnrolBatch.id == batch.id, or_(EnrolBatch.lease_until.is_(None), EnrolBatch.lease_until < now))
        .values(lease_until=now + LEASE).execution_options(synchronize_session=False)).rowcount
    session.commit()
    if done:
        session.refresh(batch)
    return bool(done)


def _renew(session: Session, batch: EnrolBatch) -> None:
    batch.lease_until = _monitor().now() + LEASE


def _claim(session: Session, tenant_id: int, size: int, force: bool) -> EnrolBatch | None:
    m = _monitor()
    now = m.now()
    batch = EnrolBatch(tenant_id=tenant_id, status="searching", size=0, lease_until=now + LEASE)
    session.add(batch)
    session.flush()
    free = and_(MonitoredCompany.tenant_id == tenant_id, MonitoredCompany.status == "pending",
                MonitoredCompany.batch_id.is_(None))
    if not force:
        free = and_(free, or_(MonitoredCompany.next_attempt_at.is_(None), MonitoredCompany.next_attempt_at <= now))
    ids = select(MonitoredCompany.id).where(free).order_by(MonitoredCompany.id).limit(size)
    if session.get_bind().dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    taken = session.execute(update(MonitoredCompany).where(MonitoredCompany.id.in_(ids.scalar_subquery()), free)
                            .values(batch_id=batch.id).execution_options(synchronize_session=False)).rowcount
    if not taken:
        session.rollback()
        return None
    batch.size = taken
    session.commit()
    return batch


def _members(session: Session, batch: EnrolBatch, status: str = "pending") -> list[MonitoredCompany]:
    return session.scalars(select(MonitoredCompany).where(MonitoredCompany.batch_id == batch.id,
                                                          MonitoredCompany.status == status)
                           .order_by(MonitoredCompany.id)).all()


def _release(mcs, error: str) -> None:
    """Back to waiting, with the reason and a backoff."""
    m = _monitor()
    for mc in mcs:
        mc.batch_id = None
        mc.attempts = (mc.attempts or 0) + 1
        mc.last_error = error[:300]
        mc.next_attempt_at = m.now() + backoff(mc.attempts)


def _release_waiting(session: Session, tenant_id: int, error: str) -> None:
    """Creditsafe could not be used at all for this tenant: every waiting company says why."""
    m = _monitor()
    session.execute(update(MonitoredCompany).where(MonitoredCompany.tenant_id == tenant_id,
                                                   MonitoredCompany.status == "pending",
                                                   MonitoredCompany.batch_id.is_(None))
                    .values(last_error=error[:300], attempts=MonitoredCompany.attempts + 1,
                            next_attempt_at=m.now() + TENANT_RETRY))
    session.commit()


def _finish(session: Session, batch: EnrolBatch, error: str | None = None) -> None:
    batch.status, batch.finished_at, batch.lease_until = "done", _monitor().now(), None
    if error:
        batch.last_error = error[:300]
    session.commit()


# -- one batch -------------------------------------------------------------------
def _work(session: Session, clients, client: CreditsafeClient, pid: int, batch: EnrolBatch, out: dict) -> bool:
    """Search and add one batch. False when Creditsafe is in trouble (stop this pass)."""
    m = _monitor()
    settings = clients.settings
    if batch.portfolio_id is None:
        batch.portfolio_id = pid
    try:
        # a company whose number changed: the old legal entity leaves the portfolio first
        for mc in [mc for mc in _members(session, batch) if mc.in_portfolio and mc.connect_id]:
            client.remove_company(pid, mc.connect_id)
            mc.in_portfolio, mc.connect_id, mc.safe_number = False, None, None
        session.commit()
        todo = [mc for mc in _members(session, batch) if not mc.connect_id]
        for start in range(0, len(todo), SEARCH_CHUNK):
            chunk = todo[start:start + SEARCH_CHUNK]
            keys = {mc.id: (mc.country, mc.org_number) for mc in chunk}
            results = parallel_map(lambda key: client.find_company(*key), list(keys.values()),
                                   settings.search_concurrency)
            trouble = None
            # re-read: a company stopped, renumbered or switched off meanwhile is left alone
            fresh = {mc.id: mc for mc in session.scalars(select(MonitoredCompany).where(
                MonitoredCompany.id.in_(list(keys)), MonitoredCompany.batch_id == batch.id,
                MonitoredCompany.status == "pending")).all()}
            for (mc_id, key), result in zip(keys.items(), results):
                mc = fresh.get(mc_id)
                if mc is None or (mc.country, mc.org_number) != key:
                    continue
                if isinstance(result, CreditsafeError) and not isinstance(result, RequestRejected):
                    trouble = trouble or result  # down, slow, open circuit, credentials: stop the batch
                    _release([mc], str(result))
                elif isinstance(result, RequestRejected):  # this number only (e.g. a 400)
                    _release([mc], str(result))
                    out["errors"] += 1
                elif isinstance(result, Exception):
                    raise result
                elif result is None:
                    mc.status, mc.connect_id, mc.safe_number, mc.batch_id = "unknown", None, None, None
                    mc.last_error, mc.checked_at, mc.next_attempt_at = None, m.now(), None
                    out["unknown"] += 1
                else:
                    mc.connect_id, mc.safe_number = result["id"], (result.get("safeNo") or None)
                    out["searched"] += 1
            _renew(session, batch)
            session.commit()
            if trouble is not None:
                _release(_members(session, batch), str(trouble))
                _finish(session, batch, str(trouble))
                return False
        return _add(session, clients, client, pid, batch, out)
    except (CreditsafeError, RequestRejected) as exc:
        session.rollback()
        _release(_members(session, batch), str(exc))
        _finish(session, batch, str(exc))
        return False


def _add(session: Session, clients, client: CreditsafeClient, pid: int, batch: EnrolBatch, out: dict) -> bool:
    m = _monitor()
    found = _members(session, batch)
    by_file = [mc for mc in found if mc.safe_number]
    if len(by_file) < clients.settings.import_from:
        by_file = []
    one_by_one = [mc for mc in found if mc not in by_file]
    if one_by_one:
        _add_one_by_one(session, client, pid, one_by_one, out)
    if by_file:
        batch.import_id = client.import_companies(pid, [mc.safe_number for mc in by_file])[:100] or None
        batch.status, batch.submitted_at, batch.lease_until = "importing", m.now(), None
        out["imported"] += len(by_file)
        session.commit()
    else:
        _finish(session, batch)
    return True


def _add_one_by_one(session: Session, client: CreditsafeClient, pid: int, mcs: list[MonitoredCompany],
                    out: dict) -> None:
    """``POST …/companies`` each (409 = already there), the first rating from ``GET …/companies/{id}``."""
    m = _monitor()
    for mc in mcs:
        try:
            client.add_company(pid, mc.connect_id, reference=f"crm:{mc.tenant_id}:{mc.company_id}")
        except RequestRejected as exc:
            if exc.status != 404:
                raise
            mc.status, mc.connect_id, mc.safe_number, mc.batch_id = "unknown", None, None, None
            mc.checked_at, mc.last_error = m.now(), None
            out["unknown"] += 1
            session.commit()
            continue
        rating = client.portfolio_company(pid, mc.connect_id)
        _activate(session, mc, rating)
        out["added"] += 1
        out["active"] += 1
        session.commit()


def _activate(session: Session, mc: MonitoredCompany, rating: Rating | None, batch: dict | None = None) -> None:
    m = _monitor()
    mc.in_portfolio, mc.status, mc.last_error, mc.attempts = True, "active", None, 0
    mc.batch_id, mc.next_attempt_at = None, None
    mc.checked_at = m.now()
    if rating is not None and (rating.band is not None or rating.score is not None):
        m.record_rating(session, mc, rating, "monitoring", batch=batch)


# -- confirmation from the portfolio listing -------------------------------------------
def _confirm(session: Session, clients, client: CreditsafeClient, pid: int, tenant_id: int, out: dict) -> None:
    """Read the portfolio listing once for every import of the tenant that waits:
    the companies in it are active with the listing's rating."""
    m = _monitor()
    now = m.now()
    batches = [b for b in session.scalars(select(EnrolBatch).where(EnrolBatch.tenant_id == tenant_id,
                                                                   EnrolBatch.status == "importing")
                                          .order_by(EnrolBatch.id)).all() if _due(b, now)]
    batches = [b for b in batches if _lease(session, b)]
    if not batches:
        return
    try:
        listing: dict[str, dict] = {}
        for entry in client.portfolio_companies(pid):
            if entry.get("id"):
                listing[entry["id"]] = entry
        _activate_listed(session, [b.id for b in batches], listing, out)
        for batch in batches:
            for mc in _members(session, batch, "stopped"):  # stopped while the file was queued
                if mc.connect_id in listing:
                    client.remove_company(pid, mc.connect_id)
                    mc.batch_id = None
            batch.checked_at = now
        session.commit()
        session.expire_all()  # the bulk update changed rows behind the ORM's back
        for batch in batches:
            left = _members(session, batch)
            age = (now - m.aware(batch.submitted_at or batch.created_at)).total_seconds()
            if left and age >= clients.settings.import_timeout:
                # the file did not add them (Creditsafe drops rows it cannot match): one by one
                _add_one_by_one(session, client, pid, [mc for mc in left if mc.connect_id], out)
                left = _members(session, batch)
                _release(left, "Creditsafe's import did not add it")
            if not left:
                _finish(session, batch)
            else:
                batch.lease_until = None
                session.commit()
    except (CreditsafeError, RequestRejected) as exc:
        session.rollback()
        for batch in batches:
            batch.lease_until, batch.last_error = None, str(exc)[:300]
        session.commit()
        out["errors"] += 1


_MC = MonitoredCompany.__table__
_ACTIVATE = (update(_MC).where(_MC.c.id == bindparam("v_id"), _MC.c.status == "pending")
             .values(status="active", in_portfolio=True, batch_id=None, next_attempt_at=None, last_error=None,
                     attempts=0, band=bindparam("v_band"), score=bindparam("v_score"),
                     credit_limit=bindparam("v_limit"), currency=bindparam("v_currency"),
                     description=bindparam("v_description"), rated_at=bindparam("v_rated_at"),
                     checked_at=bindparam("v_checked_at")))


def _activate_listed(session: Session, batch_ids: list[int], listing: dict[str, dict], out: dict) -> None:
    """The companies of these batches that the listing shows: active, with the listing's rating as their
    first (history row and ``rating_changed`` in the outbox, as :func:`monitor.record_rating`). Plain
    statements in bulk (thousands of companies at once), not one ORM object each."""
    m = _monitor()
    cols = [_MC.c.id, _MC.c.tenant_id, _MC.c.company_id, _MC.c.country, _MC.c.connect_id, _MC.c.band, _MC.c.score,
            _MC.c.credit_limit, _MC.c.currency, _MC.c.description, _MC.c.rated_at, _MC.c.checked_at]
    found = session.execute(select(*cols).where(_MC.c.batch_id.in_(batch_ids), _MC.c.status == "pending")).all()
    rows: dict = {}
    params = []
    for row in found:
        entry = listing.get(row.connect_id)
        if entry is None:
            continue
        mc = SimpleNamespace(**row._mapping)
        rating = monitored_rating(entry)
        if rating.band is not None or rating.score is not None:
            m.record_rating(session, mc, rating, "monitoring", batch=rows)
        mc.checked_at = m.now()
        params.append({"v_id": mc.id, "v_band": mc.band, "v_score": mc.score, "v_limit": mc.credit_limit,
                       "v_currency": mc.currency, "v_description": mc.description, "v_rated_at": mc.rated_at,
                       "v_checked_at": mc.checked_at})
    for i in range(0, len(params), 1000):
        session.execute(_ACTIVATE, params[i:i + 1000], execution_options={"synchronize_session": False})
    m.write_batch(session, rows)
    out["active"] += len(params)


def _due(batch: EnrolBatch, now) -> bool:
    """Imports are checked often at first, then less (1 s, 2 s, … up to 60 s apart)."""
    m = _monitor()
    if batch.checked_at is None:
        return True
    lease = m.aware(batch.lease_until)
    if lease is not None and lease > now:
        return False
    age = (now - m.aware(batch.submitted_at or batch.created_at)).total_seconds()
    since = (now - m.aware(batch.checked_at)).total_seconds()
    return since >= min(60.0, max(0.5, age / 10))


# -- bounded concurrency -------------------------------------------------------------
def parallel_map(fn, items: list, concurrency: int) -> list:
    """``fn`` over ``items``, at most ``concurrency`` at a time, results (or the
    exception each raised) in order. Threads: green threads under eventlet."""
    if concurrency <= 1 or len(items) <= 1:
        return [_safe(fn, item) for item in items]
    results: list = [None] * len(items)
    work: queue.Queue = queue.Queue()
    for pair in enumerate(items):
        work.put(pair)

    def worker():
        while True:
            try:
                i, item = work.get_nowait()
            except queue.Empty:
                return
            results[i] = _safe(fn, item)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(concurrency, len(items)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _safe(fn, item):
    try:
        return fn(item)
    except Exception as exc:  # returned, handled by the caller per item
        return exc
