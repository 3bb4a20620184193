"""Credit monitoring logic: enrolment, polling, the card's view, settings,
the outbox. Plain module: no nameko here (the service wires it up).

Every function takes a SQLAlchemy session and commits what it did. Calls to
Creditsafe happen outside open write transactions where they can be slow.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import datetime, timezone

from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .exceptions import Forbidden, NotFound, Unavailable, ValidationError

from .config import Secrets, Settings
from .creditsafe import (AuthenticationFailed, CircuitBreaker, CreditsafeClient, CreditsafeError, CreditsafeUnavailable,
                         Rating, RequestRejected, TokenCache, monitored_rating)
from . import enrolment
from .models import InboxEvent, MonitoredCompany, Outbox, ProcessedEvent, RatingHistory, TenantSettings

log = logging.getLogger(__name__)
COUNTRIES = ("NO", "SE", "DK", "GB")
STATUS_TEXT = {
    "pending": "Waiting to be enrolled in Creditsafe monitoring",
    "active": "Monitored by Creditsafe",
    "unknown": "Creditsafe does not know this organisation number",
    "stopped": "Monitoring stopped",
    "disabled": "Credit monitoring is switched off for your organisation",
    "none": "Not monitored (no organisation number in Norway, Sweden, Denmark or the UK)",
}
BULK_REFRESH_FROM = 20  # more changed companies than this: read the portfolio listing instead of one call each
HISTORY_MAX = 200


def now() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def iso(value: datetime | None) -> str | None:
    value = aware(value)
    return value.isoformat() if value else None


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return aware(parsed)


# -- clients ---------------------------------------------------------------
class Clients:
    """Creditsafe clients per credential: one token cache and one circuit
    breaker per base URL for the whole process."""

    def __init__(self, settings: Settings, tokens: TokenCache | None = None):
        self.settings = settings
        self.secrets = Secrets(settings.secret_key)
        self.tokens = tokens or TokenCache()
        self.breakers: dict[str, CircuitBreaker] = {}
        self._clients: dict[tuple, CreditsafeClient] = {}
        self._lock = threading.Lock()

    def credentials(self, ts: TenantSettings) -> tuple[str, str]:
        if ts.username and ts.password_encrypted:
            password = self.secrets.decrypt(ts.password_encrypted)
            if password is None:
                raise AuthenticationFailed("The stored Creditsafe password cannot be read (CREDIT_SECRET_KEY changed?)")
            return ts.username, password
        if not self.settings.username:
            raise AuthenticationFailed("No Creditsafe credentials: an admin enters them under Credit monitoring")
        return self.settings.username, self.settings.password

    def for_tenant(self, ts: TenantSettings, interactive: bool = False) -> CreditsafeClient:
        username, password = self.credentials(ts)
        s = self.settings
        key = (s.base_url, username, password, interactive)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                breaker = self.breakers.setdefault(s.base_url, CircuitBreaker())
                sessions = [c.session for k, c in self._clients.items() if k[0] == s.base_url]
                client = CreditsafeClient(
                    s.base_url, username, password, tokens=self.tokens, breaker=breaker,
                    session=sessions[0] if sessions else None, connect_timeout=s.connect_timeout,
                    timeout=s.interactive_timeout if interactive else s.timeout,
                    retries=0 if interactive else s.retries)
                self._clients[key] = client
            return client

    def portfolio_key(self, ts: TenantSettings) -> str:
        return f"{self.settings.base_url}|{self.credentials(ts)[0]}"


# -- settings ----------------------------------------------------------------
def tenant_settings(session: Session, tenant_id: int, settings: Settings) -> TenantSettings:
    ts = session.get(TenantSettings, tenant_id)
    if ts is None:
        ts = TenantSettings(tenant_id=tenant_id, enabled=settings.default_enabled)
        session.add(ts)
        try:
            session.flush()
        except IntegrityError:  # created by a concurrent worker
            session.rollback()
            ts = session.get(TenantSettings, tenant_id)
    return ts


def dump_settings(ts: TenantSettings, clients: Clients) -> dict:
    return {
        "enabled": ts.enabled,
        "username": ts.username,
        "has_password": bool(ts.password_encrypted),
        "uses_default_credentials": not (ts.username and ts.password_encrypted),
        "base_url": clients.settings.base_url,
        "portfolio_id": ts.portfolio_id,
        "last_poll_at": iso(ts.last_poll_at),
        "last_poll_error": ts.last_poll_error,
    }


def get_settings(session: Session, clients: Clients, tenant_id: int) -> dict:
    ts = tenant_settings(session, tenant_id, clients.settings)
    session.commit()
    return dump_settings(ts, clients)


def update_settings(session: Session, clients: Clients, tenant_id: int, data) -> dict:
    """``data``: SettingsIn. A new username without a password (or the other way
    round) is refused; an empty password keeps the stored one."""
    ts = tenant_settings(session, tenant_id, clients.settings)
    given = data.model_fields_set
    if "username" in given or "password" in given:
        username = data.username if "username" in given else ts.username
        if not username and data.password:
            raise ValidationError("Enter the Creditsafe username too", field="username")
        if username and not (data.password or (ts.password_encrypted and username == ts.username)):
            raise ValidationError("Enter the Creditsafe password", field="password")
        if not username:
            ts.username, ts.password_encrypted = None, None
        else:
            ts.username = username
            if data.password:
                ts.password_encrypted = clients.secrets.encrypt(data.password)
    if "enabled" in given and data.enabled is not None:
        ts.enabled = data.enabled
        if data.enabled:
            session.execute(update(MonitoredCompany).where(MonitoredCompany.tenant_id == tenant_id,
                                                           MonitoredCompany.status == "disabled")
                            .values(status="pending", attempts=0, next_attempt_at=None, batch_id=None))
        else:
            session.execute(update(MonitoredCompany).where(MonitoredCompany.tenant_id == tenant_id,
                                                           MonitoredCompany.status == "pending")
                            .values(status="disabled", batch_id=None))
    ts.updated_at = now()
    session.commit()
    return dump_settings(ts, clients)


def require_admin(caller) -> None:
    role = getattr(caller, "role", None)
    if role is not None and role != "admin":
        raise Forbidden("Only an admin changes the credit monitoring settings")


# -- outbox ------------------------------------------------------------------
def emit(session: Session, tenant_id: int, event_type: str, payload: dict, batch: dict | None = None) -> str:
    event_id = str(uuid.uuid4())
    row = {"id": event_id, "tenant_id": tenant_id, "event_type": event_type,
           "payload": json.dumps({**payload, "event_id": event_id, "tenant_id": tenant_id})}
    if batch is not None:
        batch.setdefault("outbox", []).append(row)
    else:
        session.add(Outbox(**row))
    return event_id


def write_batch(session: Session, batch: dict) -> None:
    """Rows collected by a poll, inserted in bulk (many events at once)."""
    for model, key in ((RatingHistory, "history"), (Outbox, "outbox"), (ProcessedEvent, "processed")):
        rows = batch.get(key) or []
        for i in range(0, len(rows), 1000):
            session.execute(insert(model), rows[i:i + 1000])


def relay(session: Session, dispatch, limit: int = 500) -> int:
    """Publish unpublished outbox rows in order; each is marked after its publish
    succeeded (a crash in between publishes it again: handlers are idempotent)."""
    stmt = select(Outbox).where(Outbox.published_at.is_(None)).order_by(Outbox.seq).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = session.scalars(stmt).all()
    done = 0
    for row in rows:
        try:
            dispatch(row.event_type, json.loads(row.payload))
        except Exception as exc:  # broker away: try again on the next tick
            log.warning("outbox: publishing %s failed (%s); will retry", row.id, exc)
            break
        row.published_at = now()
        done += 1
    session.commit()
    return done


# -- enrolment -------------------------------------------------------------------
# The event handler's statements as plain SQL (INSERT … ON CONFLICT DO NOTHING reads the same in SQLite
# and PostgreSQL): a quarter of the CPU time of the ORM's bulk-insert path, and this runs once per event.
_TENANT_ENABLED = text("SELECT enabled FROM tenant_settings WHERE tenant_id = :tenant_id")
_INBOX = text("INSERT INTO inbox_events (event_id, at) VALUES (:event_id, CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING")
_NEW_COMPANY = text(
    "INSERT INTO monitored_companies (tenant_id, company_id, country, org_number, name, status, in_portfolio,"
    " attempts, enrolled_at) VALUES (:tenant_id, :company_id, :country, :org_number, :name, :status,"
    " :in_portfolio, 0, CURRENT_TIMESTAMP) ON CONFLICT (tenant_id, company_id) DO NOTHING")


def company_identified(session: Session, clients: Clients, payload: dict, commit: bool = True,
                       inbox: bool = True) -> bool:
    """The crm's ``company_identified`` event: record the company (idempotent by
    the event id and by (tenant, company)); the enrolment pass does the rest
    (:mod:`credit_monitor.enrolment`). A new company is two inserts (inbox, company).
    ``commit=False``: the caller commits (:class:`Recorder`, many events in one
    transaction); ``inbox=False``: the caller has recorded the event id already.
    True when something now waits for enrolment."""
    def done(result: bool) -> bool:
        if commit:
            session.commit()
        return result

    event_id = str(payload.get("event_id") or "")[:40]
    tenant_id, company_id = int(payload["tenant_id"]), int(payload["company_id"])
    country = str(payload.get("country") or "").upper()
    org_number = str(payload.get("org_number") or "").strip()
    enabled = session.execute(_TENANT_ENABLED, {"tenant_id": tenant_id}).scalar()
    if enabled is None:  # a tenant's first company
        enabled = tenant_settings(session, tenant_id, clients.settings).enabled
    enabled = bool(enabled)
    if inbox and event_id and not session.execute(_INBOX, {"event_id": event_id}).rowcount:
        return done(False)  # this event was handled before (a redelivery): nothing else was written
    if country in COUNTRIES and org_number and session.execute(_NEW_COMPANY, {
            "tenant_id": tenant_id, "company_id": company_id, "country": country, "org_number": org_number[:32],
            "name": (payload.get("name") or None) and str(payload["name"])[:200],
            "status": "pending" if enabled else "disabled", "in_portfolio": False}).rowcount:
        return done(enabled)
    mc = session.scalar(select(MonitoredCompany).where(MonitoredCompany.tenant_id == tenant_id,
                                                       MonitoredCompany.company_id == company_id))
    if country not in COUNTRIES or not org_number:
        if mc is not None and mc.status in ("pending", "unknown", "disabled"):
            session.delete(mc)
        return done(False)
    if mc is None or (mc.country, mc.org_number) == (country, org_number):
        return done(False)
    # a new number: a different legal entity for Creditsafe; the old one leaves the portfolio on enrolment
    mc.country, mc.org_number, mc.name = country, org_number, payload.get("name") or mc.name
    if mc.status != "stopped":
        mc.status = "pending" if enabled else "disabled"
    mc.attempts, mc.batch_id, mc.next_attempt_at, mc.safe_number = 0, None, None, None
    if not mc.in_portfolio:
        mc.connect_id = None
    return done(mc.status == "pending")


def _dialect_insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


def record_group(session: Session, clients: Clients, payloads: list[dict]) -> list[bool]:
    """:func:`company_identified` for many events in one transaction (the caller commits): the
    new companies of the group with one multi-row insert of their event ids and one of the
    companies (``ON CONFLICT DO NOTHING RETURNING``), the rest (a redelivered event, a company
    already known, a number removed or changed) one by one as :func:`company_identified`."""
    results: list[bool | None] = [None] * len(payloads)
    fast: dict[int, dict] = {}
    seen_events, seen_companies = set(), set()
    for i, p in enumerate(payloads):
        event_id = str(p.get("event_id") or "")[:40]
        key = (int(p["tenant_id"]), int(p["company_id"]))
        country, org = str(p.get("country") or "").upper(), str(p.get("org_number") or "").strip()
        if event_id and event_id in seen_events:
            results[i] = False  # the same event twice in one group
            continue
        if event_id and country in COUNTRIES and org and key not in seen_companies:
            fast[i] = {"event_id": event_id, "tenant_id": key[0], "company_id": key[1], "country": country,
                       "org_number": org[:32], "name": (p.get("name") or None) and str(p["name"])[:200]}
            seen_companies.add(key)
        seen_events.add(event_id)
    if fast:
        insert_ = _dialect_insert(session)
        tenants = {row["tenant_id"] for row in fast.values()}
        enabled = dict(session.execute(select(TenantSettings.tenant_id, TenantSettings.enabled)
                                       .where(TenantSettings.tenant_id.in_(tenants))).all())
        for tenant_id in tenants - set(enabled):
            enabled[tenant_id] = tenant_settings(session, tenant_id, clients.settings).enabled
        inbox_t, companies_t = InboxEvent.__table__, MonitoredCompany.__table__
        new_events = set(session.execute(
            insert_(inbox_t).on_conflict_do_nothing().returning(inbox_t.c.event_id),
            [{"event_id": row["event_id"]} for row in fast.values()]).scalars())
        rows = []
        for i, row in list(fast.items()):
            if row["event_id"] not in new_events:
                results[i] = False  # handled before (a redelivery)
                del fast[i]
            else:
                rows.append({k: v for k, v in row.items() if k != "event_id"} | {
                    "status": "pending" if enabled[row["tenant_id"]] else "disabled", "in_portfolio": False,
                    "attempts": 0})
        created = set()
        if rows:
            created = {tuple(r) for r in session.execute(
                insert_(companies_t).on_conflict_do_nothing()
                .returning(companies_t.c.tenant_id, companies_t.c.company_id), rows).all()}
        for i, row in fast.items():
            if (row["tenant_id"], row["company_id"]) in created:
                results[i] = bool(enabled[row["tenant_id"]])
            else:  # a company already known: the number may have changed
                results[i] = company_identified(session, clients, payloads[i], commit=False, inbox=False)
    for i, p in enumerate(payloads):
        if results[i] is None:
            results[i] = company_identified(session, clients, p, commit=False)
    return results


class Recorder:
    """Group commit for ``company_identified``: each handler hands its payload over
    and waits; one writer thread records every payload waiting at that moment in
    one transaction, then wakes the handlers (which return, and nameko acks their
    messages: nothing is acknowledged before it is committed). A group that fails
    is recorded again one payload per transaction, so one bad payload fails alone.
    Threads are green threads under eventlet."""

    IDLE_EXIT = 10.0  # the writer thread ends after this many idle seconds (a new one starts on demand)

    def __init__(self, make_session, clients: Clients, max_group: int = 500):
        self.make_session, self.clients, self.max_group = make_session, clients, max_group
        self._lock = threading.Lock()
        self._waiting: list[list] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, payload: dict) -> bool:
        slot = [payload, threading.Event(), None, None]  # payload, done, result, error
        with self._lock:
            self._waiting.append(slot)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="credit-recorder")
                self._thread.start()
        self._wake.set()
        slot[1].wait()
        if slot[3] is not None:
            raise slot[3]
        return slot[2]

    def _run(self) -> None:
        while True:
            self._wake.wait(self.IDLE_EXIT)
            with self._lock:
                group, self._waiting = self._waiting[:self.max_group], self._waiting[self.max_group:]
                if not self._waiting:
                    self._wake.clear()
                if not group:
                    self._thread = None
                    return
            self._write(group)

    def _write(self, group: list[list]) -> None:
        session = self.make_session()
        try:
            try:
                results = record_group(session, self.clients, [slot[0] for slot in group])
                session.commit()
                for slot, result in zip(group, results):
                    slot[2] = result
            except Exception:
                session.rollback()
                for slot in group:  # one by one: only the failing payload fails
                    try:
                        slot[2] = company_identified(session, self.clients, slot[0])
                    except IntegrityError:  # the same event or company written meanwhile by another instance
                        session.rollback()
                        slot[2] = False
                    except Exception as exc:
                        session.rollback()
                        slot[3] = exc
        finally:
            session.close()
            for slot in group:
                slot[1].set()


_portfolio_locks: dict[int, threading.Lock] = {}


def _portfolio(session: Session, clients: Clients, ts: TenantSettings, client: CreditsafeClient) -> int:
    """The tenant's portfolio, created when missing (one per tenant and credential)."""
    key = clients.portfolio_key(ts)
    if ts.portfolio_id and ts.portfolio_key == key:
        return int(ts.portfolio_id)
    with _portfolio_locks.setdefault(ts.tenant_id, threading.Lock()):
        session.commit()
        session.refresh(ts)  # another worker may have made it meanwhile
        if ts.portfolio_id and ts.portfolio_key == key:
            return int(ts.portfolio_id)
        pid = client.ensure_portfolio(f"CRM tenant {ts.tenant_id}")
        if ts.portfolio_key != key:
            ts.checkpoint = None
        ts.portfolio_id, ts.portfolio_key = pid, key
        session.commit()
        return pid


def enrol(session: Session, clients: Clients, mc: MonitoredCompany) -> str:
    """Enrol one company now (a user pressed *Start monitoring*): search, add to the
    tenant's portfolio, the first rating from the portfolio entry (no report bought).
    Returns the new status; Creditsafe trouble leaves it pending with the reason."""
    ts = tenant_settings(session, mc.tenant_id, clients.settings)
    if not ts.enabled:
        mc.status = "disabled"
        session.commit()
        return mc.status
    try:
        client = clients.for_tenant(ts)
        pid = _portfolio(session, clients, ts, client)
        if mc.connect_id and mc.in_portfolio:  # a changed number: the old entity leaves the portfolio
            client.remove_company(pid, mc.connect_id)
            mc.in_portfolio = False
        found = client.find_company(mc.country, mc.org_number)
        if found is None:
            mc.status, mc.connect_id, mc.safe_number, mc.last_error = "unknown", None, None, None
            mc.checked_at, mc.batch_id = now(), None
            session.commit()
            return mc.status
        mc.connect_id, mc.safe_number = found["id"], found.get("safeNo") or None
        client.add_company(pid, mc.connect_id, reference=f"crm:{mc.tenant_id}:{mc.company_id}")
        rating = client.portfolio_company(pid, mc.connect_id)
    except (CreditsafeError, RequestRejected) as exc:
        mc.attempts += 1
        mc.last_error = str(exc)[:300]
        session.commit()
        return mc.status
    enrolment._activate(session, mc, rating)
    session.commit()
    return mc.status


def enrol_pending(session: Session, clients: Clients, tenant_id: int | None = None, force: bool = False) -> dict:
    """Enrol what waits, in batches (see :mod:`credit_monitor.enrolment`)."""
    return enrolment.run(session, clients, tenant_id=tenant_id, force=force)


def record_rating(session: Session, mc: MonitoredCompany, rating: Rating, source: str,
                  event_ids: list[str] | None = None, force: bool = False, batch: dict | None = None) -> bool:
    """Store a rating if it differs from the last one (or ``force``); write the
    history row and the ``rating_changed`` outbox event. True when stored."""
    previous = None if mc.band is None and mc.score is None else {
        "band": mc.band, "score": mc.score, "limit": mc.credit_limit, "currency": mc.currency}
    same = (rating.band, rating.score, rating.limit) == (mc.band, mc.score, mc.credit_limit)
    mc.checked_at = now()
    if same and not force:
        return False
    rated_at = parse_time(rating.rated_at) or now()
    if source == "monitoring" or rated_at > now():
        rated_at = now()
    mc.band, mc.score, mc.credit_limit = rating.band, rating.score, rating.limit
    mc.currency = rating.currency or mc.currency or _currency(mc.country)
    mc.description = rating.description or _description(rating.band)
    mc.rated_at = rated_at
    history = dict(tenant_id=mc.tenant_id, company_id=mc.company_id, band=mc.band, score=mc.score,
                   credit_limit=mc.credit_limit, currency=mc.currency, description=mc.description,
                   rated_at=rated_at, source=source, event_ids=",".join(event_ids)[:200] if event_ids else None)
    if batch is not None:
        batch.setdefault("history", []).append(history)
    else:
        session.add(RatingHistory(**history))
    emit(session, mc.tenant_id, "rating_changed", {
        "company_id": mc.company_id, "band": mc.band, "score": mc.score, "limit": mc.credit_limit,
        "currency": mc.currency, "description": mc.description, "rated_at": iso(rated_at),
        "previous": previous, "changed": not same and previous is not None,
        "source": source, "creditsafe_event_ids": event_ids or [],
    }, batch)
    return True


def _currency(country: str) -> str:
    return {"NO": "NOK", "SE": "SEK", "DK": "DKK", "GB": "GBP"}.get(country, "EUR")


def _description(band: str | None) -> str | None:
    return {"A": "Very Low Risk", "B": "Low Risk", "C": "Moderate Risk", "D": "High Risk", "E": "Not Rated"}.get(band or "")


# -- polling ------------------------------------------------------------------------
def poll_all(session: Session, clients: Clients) -> dict:
    """One poll of every enabled tenant with a portfolio."""
    out = {}
    for ts in session.scalars(select(TenantSettings).where(TenantSettings.enabled.is_(True),
                                                           TenantSettings.portfolio_id.is_not(None))).all():
        out[ts.tenant_id] = poll_tenant(session, clients, ts)
    return out


def poll_tenant(session: Session, clients: Clients, ts: TenantSettings) -> dict:
    """Read every page of the portfolio's notification events from the stored
    checkpoint; refresh the ratings of the companies they name; remember each
    event id so an event read twice is handled once."""
    tenant_id = ts.tenant_id
    result = {"events": 0, "new": 0, "changed": 0}
    try:
        client = clients.for_tenant(ts)
        pid = _portfolio(session, clients, ts, client)
        fresh: dict[str, dict] = {}
        newest = ts.checkpoint
        for page in client.notification_events(pid, ts.checkpoint, clients.settings.events_page_size):
            result["events"] += len(page)
            ids = [str(e.get("eventId")) for e in page if e.get("eventId") is not None]
            seen = set()
            for chunk in _chunks(ids, 500):
                seen |= set(session.scalars(select(ProcessedEvent.event_id).where(
                    ProcessedEvent.tenant_id == tenant_id, ProcessedEvent.event_id.in_(chunk))))
            for e in page:
                eid = str(e.get("eventId"))
                if eid in seen or eid in fresh:
                    continue
                fresh[eid] = e
                if e.get("eventDate") and (newest is None or e["eventDate"] > newest):
                    newest = e["eventDate"]
        result["new"] = len(fresh)
        if fresh:
            by_connect: dict[str, list[str]] = {}
            for eid, e in fresh.items():
                cid = (e.get("company") or {}).get("id")
                if cid:
                    by_connect.setdefault(cid, []).append(eid)
            batch: dict = {"processed": [{"tenant_id": tenant_id, "event_id": eid, "processed_at": now()}
                                         for eid in fresh]}
            result["changed"] = _refresh(session, client, pid, tenant_id, by_connect, batch)
            write_batch(session, batch)
        ts.checkpoint = newest
        ts.last_poll_at, ts.last_poll_error = now(), None
        session.commit()
    except IntegrityError:  # another instance handled the same events at the same time
        session.rollback()
        result["skipped"] = True
    except (CreditsafeError, RequestRejected) as exc:
        session.rollback()
        ts = session.get(TenantSettings, tenant_id)
        ts.last_poll_at, ts.last_poll_error = now(), str(exc)[:300]
        session.commit()
        result["error"] = str(exc)
    return result


def _refresh(session: Session, client: CreditsafeClient, pid: int, tenant_id: int,
             by_connect: dict[str, list[str]], batch: dict) -> int:
    mcs: dict[str, MonitoredCompany] = {}
    for chunk in _chunks(list(by_connect), 500):
        for mc in session.scalars(select(MonitoredCompany).where(MonitoredCompany.tenant_id == tenant_id,
                                                                 MonitoredCompany.connect_id.in_(chunk),
                                                                 MonitoredCompany.status == "active")):
            mcs[mc.connect_id] = mc
    if not mcs:
        return 0
    ratings: dict[str, Rating] = {}
    if len(mcs) > BULK_REFRESH_FROM:
        for entry in client.portfolio_companies(pid):
            if entry.get("id") in mcs:
                ratings[entry["id"]] = monitored_rating(entry)
    else:
        for cid in mcs:
            rating = client.portfolio_company(pid, cid)
            if rating is not None:
                ratings[cid] = rating
    changed = 0
    for cid, rating in ratings.items():
        if record_rating(session, mcs[cid], rating, "monitoring", by_connect.get(cid), batch=batch):
            changed += 1
    return changed


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


# -- the card -----------------------------------------------------------------------
def _monitored(session: Session, tenant_id: int, company_id: int) -> MonitoredCompany | None:
    return session.scalar(select(MonitoredCompany).where(MonitoredCompany.tenant_id == tenant_id,
                                                         MonitoredCompany.company_id == company_id))


def company_view(session: Session, clients: Clients, tenant_id: int, company_id: int) -> dict:
    ts = tenant_settings(session, tenant_id, clients.settings)
    session.commit()
    mc = _monitored(session, tenant_id, company_id)
    status = mc.status if mc else "none"
    if mc and not ts.enabled and status in ("pending", "active"):
        status = "disabled"
    history = []
    if mc:
        rows = session.scalars(select(RatingHistory).where(RatingHistory.tenant_id == tenant_id,
                                                           RatingHistory.company_id == company_id)
                               .order_by(RatingHistory.rated_at.desc(), RatingHistory.id.desc())
                               .limit(HISTORY_MAX)).all()
        history = [{"band": r.band, "score": r.score, "limit": r.credit_limit, "currency": r.currency,
                    "rated_at": iso(r.rated_at), "source": r.source} for r in reversed(rows)]
    rating = None
    if mc and (mc.band or mc.score is not None):
        rating = {"band": mc.band, "score": mc.score, "limit": mc.credit_limit, "currency": mc.currency,
                  "description": mc.description, "rated_at": iso(mc.rated_at)}
    return {
        "company_id": company_id, "status": status, "status_text": STATUS_TEXT[status],
        "enabled": ts.enabled, "connect_id": mc.connect_id if mc else None,
        "country": mc.country if mc else None, "org_number": mc.org_number if mc else None,
        "rating": rating, "history": history, "checked_at": iso(mc.checked_at) if mc else None,
        "last_error": mc.last_error if mc else None,
    }


def _require(session: Session, tenant_id: int, company_id: int) -> MonitoredCompany:
    mc = _monitored(session, tenant_id, company_id)
    if mc is None:
        raise NotFound("This company is not in credit monitoring (it needs an organisation number in NO, SE, DK or GB)",
                       id=company_id)
    return mc


def check_now(session: Session, clients: Clients, tenant_id: int, company_id: int) -> dict:
    """Order a fresh report now (may cost). Creditsafe down: the last known
    rating stays and ``last_error`` says why it could not update."""
    mc = _require(session, tenant_id, company_id)
    ts = tenant_settings(session, tenant_id, clients.settings)
    if not ts.enabled:
        raise ValidationError("Credit monitoring is switched off for your organisation", field="enabled")
    try:
        client = clients.for_tenant(ts, interactive=True)
        if not mc.connect_id:
            found = client.find_company(mc.country, mc.org_number)
            if found is None:
                mc.status, mc.checked_at, mc.last_error = "unknown", now(), None
                session.commit()
                return company_view(session, clients, tenant_id, company_id)
            mc.connect_id = found["id"]
        rating = client.credit_report(mc.connect_id)
    except (CreditsafeError, RequestRejected) as exc:
        mc.last_error = f"Could not update: {exc}"[:300]
        session.commit()
        return company_view(session, clients, tenant_id, company_id)
    mc.last_error = None
    record_rating(session, mc, rating, "report")
    session.commit()
    return company_view(session, clients, tenant_id, company_id)


def stop(session: Session, clients: Clients, tenant_id: int, company_id: int) -> dict:
    """Take the company out of the portfolio; its history stays."""
    mc = _require(session, tenant_id, company_id)
    if mc.in_portfolio and mc.connect_id:
        ts = tenant_settings(session, tenant_id, clients.settings)
        try:
            client = clients.for_tenant(ts, interactive=True)
            client.remove_company(_portfolio(session, clients, ts, client), mc.connect_id)
        except (CreditsafeError, RequestRejected) as exc:
            raise Unavailable(f"Creditsafe could not be reached to stop monitoring: {exc}") from None
        mc.in_portfolio = False
    mc.status, mc.last_error = "stopped", None
    session.commit()
    return company_view(session, clients, tenant_id, company_id)


def start(session: Session, clients: Clients, tenant_id: int, company_id: int) -> dict:
    """Put a stopped company back into the portfolio (enrolment runs again)."""
    mc = _require(session, tenant_id, company_id)
    ts = tenant_settings(session, tenant_id, clients.settings)
    if mc.status in ("stopped", "unknown"):
        mc.status, mc.attempts, mc.batch_id, mc.next_attempt_at = ("pending" if ts.enabled else "disabled"), 0, None, None
        session.commit()
    if mc.status == "pending":
        enrol(session, clients, mc)
    return company_view(session, clients, tenant_id, company_id)
