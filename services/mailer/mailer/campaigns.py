"""Campaigns: audience, creation, the send loop, progress, retry. Plain logic.

Exactly once per recipient: a message row moves ``pending -> sending`` only by a
conditional UPDATE naming this instance and a fresh claim token, is sent over
SMTP, and is marked ``sent``/``failed`` (with an ``email_sent`` outbox row) while it
still holds that token; the marks of a claim (at most ``claim_size`` rows) are committed
with the next claim or after ``mark_seconds``. A row left in ``sending`` by an instance
that stopped beating (kill -9) becomes claimable again; it is resent with the Message-ID
fixed at creation. Nothing else is ever sent twice: after a kill -9 at most the sent but
unmarked rows of each worker's current claim go again.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service_common.errors import NotFound, ValidationError

from . import ratelimit, render
from .models import Campaign, CampaignMessage, Instance, MailTemplate, Outbox, Suppression, TenantSender
from .smtp import Permanent, SmtpClient, Transient

log = logging.getLogger(__name__)
M = CampaignMessage
SKIP_REASONS = ("no_address", "unsubscribed", "inactive", "marketing_protection")


@dataclass(frozen=True)
class Settings:
    secret: str = "dev-mailer-secret-change-me"
    public_url: str = "http://127.0.0.1:8000"
    from_address: str = "crm@localhost"
    rate_per_second: float = 0.0
    batch_size: int = 50
    claim_size: int = 1  # the guarantee: after a kill -9 only the message in flight can go again
    stale_seconds: float = 5.0
    transient_retries: int = 3
    retry_delay: float = 0.5
    mark_seconds: float = 0.25
    dev_outbox: str | None = None

    @classmethod
    def from_mapping(cls, cfg: dict) -> "Settings":
        def get(key, default, conv=str):
            value = cfg.get(key)
            return default if value in (None, "") else conv(value)

        return cls(secret=get("MAILER_SECRET", cls.secret), public_url=get("MAILER_PUBLIC_URL", cls.public_url).rstrip("/"),
                   from_address=get("MAILER_FROM_ADDRESS", cls.from_address),
                   rate_per_second=get("MAILER_RATE_PER_SECOND", cls.rate_per_second, float),
                   batch_size=get("MAILER_BATCH_SIZE", cls.batch_size, int),
                   claim_size=get("MAILER_CLAIM_SIZE", cls.claim_size, int),
                   stale_seconds=get("MAILER_STALE_SECONDS", cls.stale_seconds, float),
                   transient_retries=get("MAILER_TRANSIENT_RETRIES", cls.transient_retries, int),
                   retry_delay=get("MAILER_RETRY_DELAY", cls.retry_delay, float),
                   mark_seconds=get("MAILER_MARK_SECONDS", cls.mark_seconds, float),
                   dev_outbox=get("MAILER_DEV_OUTBOX", None))

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "localhost"

    def unsubscribe_url(self, tenant_id: int, address: str) -> str:
        return f"{self.public_url}/u/{render.unsubscribe_token(self.secret, tenant_id, address)}"


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


def fold(address: str) -> str:
    return address.strip().lower()


# -- outbox ------------------------------------------------------------------------
def add_event(session: Session, event_type: str, payload: dict) -> str:
    event_id = uuid.uuid4().hex
    session.add(Outbox(event_id=event_id, event_type=event_type,
                       payload=json.dumps({**payload, "event_id": event_id}, separators=(",", ":"))))
    return event_id


def relay(session: Session, publish, limit: int = 500, lease: float = 30.0) -> int:
    """Publish unpublished outbox rows (up to ``limit``, oldest first) in one go, then mark
    them; -> rows taken. Several relays (instances, the timer and a kick) may run at once:
    each claims its rows first (a conditional UPDATE with a token and a lease), so a row
    is published by one relay; a relay that dies lets its rows go after ``lease`` seconds.
    A publish that fails releases the claim at once. Consumers are idempotent by event id
    anyway (a row published but not marked, when the process dies, goes again)."""
    t = time.time()
    free = or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < t)
    ids = list(session.scalars(select(Outbox.id).where(Outbox.published_at.is_(None), free).order_by(Outbox.id)
                               .limit(limit)))
    if not ids:
        session.rollback()
        return 0
    token = uuid.uuid4().hex
    session.execute(update(Outbox).where(Outbox.id.in_(ids), Outbox.published_at.is_(None), free)
                    .values(relay_token=token, claimed_until=t + lease).execution_options(synchronize_session=False))
    session.commit()
    rows = session.execute(select(Outbox.id, Outbox.event_type, Outbox.payload).where(
        Outbox.id.in_(ids), Outbox.relay_token == token, Outbox.published_at.is_(None)).order_by(Outbox.id)).all()
    try:
        publish([(r.event_type, json.loads(r.payload)) for r in rows])
    except BaseException:
        session.rollback()
        session.execute(update(Outbox).where(Outbox.id.in_(ids), Outbox.relay_token == token,
                                             Outbox.published_at.is_(None))
                        .values(relay_token=None, claimed_until=None).execution_options(synchronize_session=False))
        session.commit()
        raise
    if rows:
        session.execute(update(Outbox).where(Outbox.id.in_([r.id for r in rows])).values(published_at=now())
                        .execution_options(synchronize_session=False))
    session.commit()
    return len(ids)


# -- sender ------------------------------------------------------------------------
def sending_address(session: Session, settings: Settings, tenant_id: int) -> str:
    row = session.get(TenantSender, tenant_id)
    return row.from_address if row else settings.from_address


def set_sending_address(session: Session, tenant_id: int, address: str) -> dict:
    row = session.get(TenantSender, tenant_id)
    if row is None:
        session.add(TenantSender(tenant_id=tenant_id, from_address=address))
    else:
        row.from_address, row.updated_at = address, now()
    session.commit()
    return {"from_address": address}


# -- audience ------------------------------------------------------------------------
def resolve(session: Session, tenant_id: int, entries) -> list[dict]:
    """Crm recipient rows -> one entry per address (a sendable row wins over a
    skipped one), with local suppressions applied. Rows without an address stay
    (skipped, ``no_address``)."""
    by_address: dict[str, dict] = {}
    out: list[dict] = []
    duplicates = 0
    for e in entries:
        email = (e.get("email") or "").strip()
        if not email:
            out.append({**e, "address": None, "skip": e.get("skip") or "no_address"})
            continue
        address = fold(email)
        item = {**e, "email": email, "address": address}
        seen = by_address.get(address)
        if seen is None:
            by_address[address] = item
            out.append(item)
        else:
            duplicates += 1
            if seen.get("skip") and not item.get("skip") and seen.get("skip") != "unsubscribed":
                seen.update(item)
    if by_address:
        addresses = list(by_address)
        suppressed = set()
        for i in range(0, len(addresses), 500):
            suppressed.update(session.scalars(select(Suppression.address).where(
                Suppression.tenant_id == tenant_id, Suppression.address.in_(addresses[i:i + 500]))))
        for a in suppressed:
            by_address[a]["skip"] = "unsubscribed"
    out.append({"_duplicates": duplicates})
    return out


def _split(resolved: list[dict]) -> tuple[list[dict], int]:
    dup = resolved[-1]["_duplicates"]
    return resolved[:-1], dup


def _sample(e: dict) -> dict:
    return {k: e.get(k) for k in ("email", "kind", "company_id", "contact_id", "company_name", "first_name", "last_name")}


def audience(session: Session, tenant_id: int, entries, sample: int = 50) -> dict:
    rows, duplicates = _split(resolve(session, tenant_id, entries))
    skipped = {r: 0 for r in SKIP_REASONS}
    sendable = []
    for e in rows:
        if e.get("skip"):
            skipped[e["skip"]] = skipped.get(e["skip"], 0) + 1
        else:
            sendable.append(e)
    return {"addresses": len(sendable), "duplicates": duplicates, "skipped": skipped,
            "skipped_total": sum(skipped.values()), "sample": [_sample(e) for e in sendable[:sample]]}


# -- merge values and one message ---------------------------------------------------
def values_for(row, campaign) -> dict:
    get = (lambda k: row.get(k)) if isinstance(row, Mapping) else (lambda k: getattr(row, k))
    cget = (lambda k: campaign.get(k)) if isinstance(campaign, Mapping) else (lambda k: getattr(campaign, k))
    return {"company_name": get("company_name"), "first_name": get("first_name"), "last_name": get("last_name"),
            "sender_name": cget("sender_name"), "sender_title": cget("sender_title")}


def display_name(row) -> str | None:
    get = (lambda k: row.get(k)) if isinstance(row, Mapping) else (lambda k: getattr(row, k))
    if get("kind") == "contact":
        return " ".join(p for p in (get("first_name"), get("last_name")) if p) or None
    return get("company_name")


def compose(settings: Settings, campaign, row, *, tenant_id: int, to: str, mid: str, subject_prefix: str = "",
            unsubscribe: bool = True):
    values = values_for(row, campaign)
    cget = (lambda k: campaign.get(k)) if isinstance(campaign, Mapping) else (lambda k: getattr(campaign, k))
    subject = subject_prefix + render.merge_header(cget("subject"), values)
    return render.build_message(
        from_address=cget("from_address"), sender_name=cget("sender_name"), reply_to=cget("reply_to"), to=to,
        to_name=render.merge_header(display_name(row) or "", {}) or None, subject=subject,
        text=render.merge_text(cget("body"), values), html_body=render.merge_html(cget("body"), values),
        message_id=mid, unsubscribe_url=settings.unsubscribe_url(tenant_id, to) if unsubscribe else None,
        unsubscribe_text=cget("unsubscribe_text"))


def preview(settings: Settings, sender: dict, data, from_address: str, tenant_id: int) -> dict:
    campaign = {"subject": data.subject, "body": data.body, "sender_name": sender["name"],
                "sender_title": data.sender_title, "from_address": from_address, "reply_to": sender.get("email")}
    row = data.recipient.model_dump()
    values = values_for(row, campaign)
    to = row.get("email") or "recipient@example.com"
    return {"subject": render.merge_header(data.subject, values), "text": render.merge_text(data.body, values),
            "html": render.merge_html(data.body, values), "from": f"{sender['name']} <{from_address}>",
            "reply_to": sender.get("email"), "to": to, "to_name": display_name(row),
            "unsubscribe_url": settings.unsubscribe_url(tenant_id, to)}


def send_test(settings: Settings, smtp: SmtpClient, sender: dict, data, from_address: str, tenant_id: int) -> dict:
    """Send the message, merged for ``data.recipient``, to the sender's own address now."""
    if not sender.get("email"):
        raise ValidationError("Your user has no e-mail address", field="recipient")
    campaign = {"subject": data.subject, "body": data.body, "sender_name": sender["name"],
                "sender_title": data.sender_title, "from_address": from_address, "reply_to": sender["email"],
                "unsubscribe_text": data.unsubscribe_text}
    mid = f"<test.{uuid.uuid4().hex}@{settings.domain}>"
    msg = compose(settings, campaign, data.recipient.model_dump(), tenant_id=tenant_id, to=sender["email"], mid=mid,
                  subject_prefix="[Test] ", unsubscribe=False)
    try:
        with smtp.session() as s:
            s.send(msg, from_address, sender["email"])
    except (Permanent, Transient) as exc:
        raise ValidationError(f"The mail server did not take the test message: {exc.reason}", field="test") from None
    return {"to": sender["email"], "message_id": mid}


# -- campaigns --------------------------------------------------------------------------
def _by_key(session: Session, tenant_id: int, key: str) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.tenant_id == tenant_id, Campaign.idempotency_key == key))


def existing(session: Session, tenant_id: int, key: str) -> dict | None:
    c = _by_key(session, tenant_id, key)
    return campaign_out(session, c) if c else None


def create(session: Session, settings: Settings, tenant_id: int, sender: dict, data, entries) -> dict:
    """One campaign from the recipients the crm gave; its send batches go to the outbox
    in the same transaction. A retried request (same idempotency key) gets the first one."""
    found = _by_key(session, tenant_id, data.idempotency_key)
    if found:
        return campaign_out(session, found)
    rows, _dup = _split(resolve(session, tenant_id, entries))
    if not any(not r.get("skip") for r in rows):
        raise ValidationError("None of the selected recipients can be e-mailed", field="selection")
    campaign = Campaign(tenant_id=tenant_id, user_id=sender["id"], idempotency_key=data.idempotency_key,
                        status="sending", subject=data.subject, body=data.body, kinds=",".join(sorted(data.kinds)),
                        from_address=sending_address(session, settings, tenant_id), sender_name=sender["name"],
                        sender_title=data.sender_title, reply_to=sender.get("email"),
                        unsubscribe_text=data.unsubscribe_text, selection=json.dumps(data.selection.dump()), total=0, skipped=0)
    session.add(campaign)
    session.flush()
    values, total, skipped = [], 0, 0
    mids = render.message_ids(settings.secret, campaign.id, settings.domain)
    for e in rows:
        if e.get("address") is None:
            skipped += 1
            continue  # no address: counted, nothing to store per address
        skip = e.get("skip")
        total += 0 if skip else 1
        skipped += 1 if skip else 0
        values.append({
            "campaign_id": campaign.id, "tenant_id": tenant_id, "address": e["address"], "email": e["email"],
            "kind": "contact" if e.get("kind") == "contact" else "company", "company_id": e.get("company_id"),
            "contact_id": e.get("contact_id"), "company_name": (e.get("company_name") or "")[:200] or None,
            "first_name": e.get("first_name"), "last_name": e.get("last_name"),
            "status": "skipped" if skip else "pending", "skip_reason": skip, "attempts": 0,
            "message_id": mids(e["address"])})
    table = CampaignMessage.__table__
    for i in range(0, len(values), 2000):  # core executemany: one statement for many rows
        session.connection().execute(table.insert(), values[i:i + 2000])
    campaign.total, campaign.skipped = total, skipped
    _queue_batches(session, settings, campaign, select(M.id).where(M.campaign_id == campaign.id, M.status == "pending"))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        found = _by_key(session, tenant_id, data.idempotency_key)
        if found is None:
            raise
        return campaign_out(session, found)
    return campaign_out(session, campaign)


def _queue_batches(session: Session, settings: Settings, campaign: Campaign, ids_query) -> int:
    ids = list(session.scalars(ids_query.order_by(M.id)))
    for i in range(0, len(ids), settings.batch_size):
        add_event(session, "send_batch", {"campaign_id": campaign.id, "tenant_id": campaign.tenant_id,
                                          "message_ids": ids[i:i + settings.batch_size]})
    return len(ids)


def _campaign(session: Session, tenant_id: int, campaign_id: int) -> Campaign:
    c = session.get(Campaign, campaign_id)
    if c is None or c.tenant_id != tenant_id:
        raise NotFound("No such campaign", id=campaign_id)
    return c


def counts(session: Session, campaign_id: int) -> dict:
    out = {s: 0 for s in ("pending", "sending", "sent", "failed", "skipped")}
    for status, n in session.execute(select(M.status, func.count()).where(M.campaign_id == campaign_id)
                                     .group_by(M.status)):
        out[status] = n
    return out


def campaign_out(session: Session, c: Campaign, with_counts: bool = True) -> dict:
    out = {"id": c.id, "status": c.status, "subject": c.subject, "body": c.body, "kinds": c.kinds.split(","),
           "from_address": c.from_address, "sender_name": c.sender_name, "sender_title": c.sender_title,
           "reply_to": c.reply_to, "user_id": c.user_id, "total": c.total, "created_at": iso(c.created_at),
           "finished_at": iso(c.finished_at)}
    if with_counts:
        n = counts(session, c.id)
        n["skipped"] = c.skipped  # includes recipients without an address (no row)
        out["counts"] = n
        out["done"] = n["sent"] + n["failed"]
    return out


def get(session: Session, tenant_id: int, campaign_id: int) -> dict:
    return campaign_out(session, _campaign(session, tenant_id, campaign_id))


def list_campaigns(session: Session, tenant_id: int, limit: int = 50) -> list[dict]:
    rows = session.scalars(select(Campaign).where(Campaign.tenant_id == tenant_id).order_by(Campaign.id.desc())
                           .limit(limit)).all()
    return [campaign_out(session, c) for c in rows]


def list_messages(session: Session, tenant_id: int, campaign_id: int, q) -> dict:
    _campaign(session, tenant_id, campaign_id)
    conds = [M.campaign_id == campaign_id]
    if q.status:
        conds.append(M.status == q.status)
    total = session.scalar(select(func.count()).select_from(M).where(*conds))
    rows = session.scalars(select(M).where(*conds).order_by(M.id).offset((q.page - 1) * q.per_page)
                           .limit(q.per_page)).all()
    return {"items": [{"id": r.id, "email": r.email, "kind": r.kind, "company_id": r.company_id,
                       "contact_id": r.contact_id, "company_name": r.company_name, "first_name": r.first_name,
                       "last_name": r.last_name, "status": r.status, "skip_reason": r.skip_reason,
                       "attempts": r.attempts, "sent_at": iso(r.sent_at), "smtp_code": r.smtp_code,
                       "smtp_response": r.smtp_response, "message_id": r.message_id} for r in rows],
            "total": total, "page": q.page, "per_page": q.per_page}


def retry_failed(session: Session, settings: Settings, tenant_id: int, campaign_id: int) -> dict:
    """Failed rows back to pending (same Message-ID) and queued again."""
    c = _campaign(session, tenant_id, campaign_id)
    ids = list(session.scalars(select(M.id).where(M.campaign_id == c.id, M.status == "failed")))
    if ids:
        for i in range(0, len(ids), 500):
            session.execute(update(M).where(M.id.in_(ids[i:i + 500]), M.status == "failed")
                            .values(status="pending", smtp_code=None, smtp_response=None))
        c.status, c.finished_at = "sending", None
        _queue_batches(session, settings, c, select(M.id).where(M.id.in_(ids), M.status == "pending"))
    session.commit()
    out = campaign_out(session, c)
    out["retried"] = len(ids)
    return out


# -- the send loop ------------------------------------------------------------------------
def heartbeat(session: Session, instance_id: str) -> None:
    """This instance is alive (several workers of it may beat at once)."""
    t = time.time()
    if session.execute(update(Instance).where(Instance.id == instance_id).values(seen=t)).rowcount == 0:
        session.add(Instance(id=instance_id, seen=t))
        try:
            session.commit()
        except IntegrityError:  # another worker of this instance inserted it first
            session.rollback()
            session.execute(update(Instance).where(Instance.id == instance_id).values(seen=t))
    session.commit()


def _claimable(instance_id: str, stale_before: float):
    live = select(Instance.id).where(Instance.seen >= stale_before)
    return or_(M.status == "pending",
               and_(M.status == "sending", M.claimed_instance != instance_id, M.claimed_instance.not_in(live)))


def prototype(campaign) -> render.Prototype:
    """The campaign's message prototype: headers rendered once, per recipient only the rest."""
    cget = (lambda k: campaign.get(k)) if isinstance(campaign, Mapping) else (lambda k: getattr(campaign, k))
    return render.Prototype(from_address=cget("from_address"), sender_name=cget("sender_name"),
                            reply_to=cget("reply_to"), subject=cget("subject"), body=cget("body"),
                            sender_title=cget("sender_title"), unsubscribe_text=cget("unsubscribe_text"))


def message_for(settings: Settings, proto: render.Prototype, tenant_id: int, row):
    """One recipient's message: bytes from the prototype, or an EmailMessage for an address
    the prototype does not write (non-ASCII, quoted local part)."""
    get = (lambda k: row.get(k)) if isinstance(row, Mapping) else (lambda k: getattr(row, k))
    values = {"company_name": get("company_name"), "first_name": get("first_name"), "last_name": get("last_name")}
    to = get("email")
    to_name = render.header_text(render.merge_header(display_name(row) or "", {})) or None
    url = settings.unsubscribe_url(tenant_id, to)
    raw = proto.render(to=to, to_name=to_name, values=values, message_id=get("message_id"), unsubscribe_url=url)
    if raw is None:
        raw = proto.message(to=to, to_name=to_name, values=values, message_id=get("message_id"), unsubscribe_url=url)
    return raw, proto.merged_subject(proto.values(values))


_last_beat: dict[str, float] = {}


class _Beat:
    """Heartbeats from inside long batches: at most one a second per instance, whichever of
    its workers gets there (besides the sender's 1 s timer)."""

    def __init__(self, session: Session, instance_id: str):
        self.session, self.instance_id = session, instance_id

    def __call__(self, force: bool = False) -> None:
        if force or time.monotonic() - _last_beat.get(self.instance_id, 0.0) >= 1.0:
            _last_beat[self.instance_id] = time.monotonic()
            heartbeat(self.session, self.instance_id)


@dataclass(frozen=True)
class _CampaignView:
    """What the send loop reads of a campaign, read once (no reload after each commit)."""

    id: int
    tenant_id: int
    user_id: int | None
    from_address: str


def process_batch(session: Session, settings: Settings, smtp: SmtpClient, instance_id: str, payload: dict,
                  sleep=time.sleep) -> dict:
    """Send one batch of a campaign. Safe to run twice, concurrently, or after a crash.
    The batch keeps one database connection (no pool checkout and ping per commit)."""
    found = session.get(Campaign, int(payload["campaign_id"]))
    ids = [int(i) for i in payload.get("message_ids") or []]
    stats = {"sent": 0, "failed": 0, "waited": 0}
    if found is None or found.status == "cancelled" or not ids:
        return stats
    proto = prototype(found)
    campaign = _CampaignView(found.id, found.tenant_id, found.user_id, found.from_address)
    session.rollback()
    with session.get_bind().connect() as connection, Session(bind=connection) as own:
        return _process(own, settings, smtp, instance_id, campaign, proto, ids, stats, sleep)


def _process(session, settings, smtp, instance_id, campaign, proto, ids, stats, sleep) -> dict:
    token = uuid.uuid4().hex
    deadline = time.monotonic() + max(60.0, settings.stale_seconds * 12)
    beat = _Beat(session, instance_id)
    beat(force=True)
    with smtp.session() as conn:
        while True:
            remaining = _claim_and_send(session, settings, conn, campaign, proto, instance_id, token, ids, stats, beat)
            if not remaining:
                break
            # rows held by another live worker (a duplicate delivery, or one that is still
            # finishing after a broker restart) or by a dead one not yet stale: wait and look again
            if time.monotonic() > deadline:
                log.warning("campaign %s: %d rows still held by others; leaving them", campaign.id, remaining)
                break
            stats["waited"] += 1
            sleep(min(1.0, settings.stale_seconds / 2))
            beat(force=True)
    maybe_finish(session, campaign.id)
    return stats


_MARK = (update(M.__table__)
         .where(M.__table__.c.id == bindparam("b_id"), M.__table__.c.claim_token == bindparam("b_token"),
                M.__table__.c.status == "sending")
         .values(status=bindparam("b_status"), sent_at=bindparam("b_sent_at"), smtp_code=bindparam("b_code"),
                 smtp_response=bindparam("b_response")))


def _write_marks(session: Session, campaign: Campaign, token: str, marks: list[dict]) -> None:
    """The outcome of sent rows (in this transaction, committed by the caller), with an
    ``email_sent`` outbox row for each that is still ours (claim token unchanged)."""
    if not marks:
        return
    db = session.connection()
    done = db.execute(_MARK, [{"b_id": m["id"], "b_token": token, "b_status": m["status"], "b_sent_at": m["sent_at"],
                               "b_code": m["code"], "b_response": (m["reason"] or "")[:500]} for m in marks])
    sent = {m["id"]: m for m in marks if m["status"] == "sent"}
    if not sent:
        return
    if db.dialect.supports_sane_multi_rowcount and done.rowcount == len(marks):
        ours = list(sent)  # every row was still ours (the usual case)
    else:  # a claim was taken over (this instance looked dead): events only for the rows still ours
        ours = db.execute(select(M.id).where(M.id.in_(list(sent)), M.claim_token == token,
                                             M.status == "sent")).scalars().all()
    events = []
    for mid in ours:
        m = sent[mid]
        event_id = uuid.uuid4().hex
        events.append({"event_id": event_id, "event_type": "email_sent", "payload": json.dumps({
            "tenant_id": campaign.tenant_id, "campaign_id": campaign.id, "message_id": m["message_id"],
            "company_id": m["company_id"], "contact_id": m["contact_id"], "user_id": campaign.user_id,
            "to": m["to"], "subject": m["subject"], "sent_at": m["sent_at"].isoformat(), "event_id": event_id},
            separators=(",", ":"))})
    if events:
        session.connection().execute(Outbox.__table__.insert(), events)


_ROW = (M.id, M.email, M.kind, M.company_id, M.contact_id, M.company_name, M.first_name, M.last_name, M.message_id)


def _claim_and_send(session, settings, conn, campaign, proto, instance_id, token, ids, stats, beat) -> int:
    """Claim and send every claimable row of ``ids``; -> rows still in others' hands.

    Rows are claimed ``claim_size`` at a time; their outcomes ("sent marks") are committed
    together with the next claim, or sooner once ``mark_seconds`` have passed since the
    first unmarked send. So a kill -9 leaves at most one claim (<= ``claim_size`` rows,
    <= ``mark_seconds`` of sending) per worker in ``sending`` that was really sent: those,
    and only those, can go a second time, with the same Message-ID."""
    marks: list[dict] = []
    first_unmarked = 0.0
    chunk: list[int] = []
    try:
        for i in range(0, len(ids), settings.claim_size):
            chunk = ids[i:i + settings.claim_size]
            _write_marks(session, campaign, token, marks)  # one transaction: last chunk's marks and this claim
            marks = []
            claim = (update(M.__table__).where(M.id.in_(chunk), M.campaign_id == campaign.id,
                                     _claimable(instance_id, time.time() - settings.stale_seconds))
                     .values(status="sending", claimed_instance=instance_id, claim_token=token, claimed_at=now(),
                             attempts=M.attempts + 1))
            db = session.connection()  # core statements: no ORM bookkeeping in the loop
            if db.dialect.update_returning:  # PostgreSQL, SQLite >= 3.35: the claimed rows at once
                rows = sorted(db.execute(claim.returning(*_ROW)).mappings().all(), key=lambda r: r["id"])
                session.commit()
            else:
                db.execute(claim)
                session.commit()
                rows = session.connection().execute(select(*_ROW).where(
                    M.id.in_(chunk), M.claim_token == token, M.status == "sending").order_by(M.id)).mappings().all()
                session.commit()
            for row in rows:
                if settings.rate_per_second > 0:
                    ratelimit.acquire(session, campaign.tenant_id, settings.rate_per_second)
                if not marks:
                    first_unmarked = time.monotonic()
                marks.append(_deliver(settings, conn, campaign, proto, row))
                stats[marks[-1]["status"]] += 1
                if time.monotonic() - first_unmarked >= settings.mark_seconds:
                    _write_marks(session, campaign, token, marks)
                    session.commit()
                    marks = []
            beat()
        _write_marks(session, campaign, token, marks)
        session.commit()
    except BaseException:
        # an exception mid-chunk (the worker killed on stop, the database away): record what
        # was sent, and what this worker claimed but did not get to goes back
        session.rollback()
        _write_marks(session, campaign, token, marks)
        session.execute(update(M).where(M.id.in_(chunk), M.claim_token == token, M.status == "sending")
                        .values(status="pending", claim_token=None, claimed_instance=None)
                        .execution_options(synchronize_session=False))
        session.commit()
        raise
    return session.scalar(select(func.count()).select_from(M).where(M.id.in_(ids), M.status.in_(("pending", "sending"))))


def _deliver(settings, conn, campaign, proto, row) -> dict:
    """One SMTP transaction (with retries of transient failures); no database work."""
    msg, subject = message_for(settings, proto, campaign.tenant_id, row)
    code, reason, status = None, None, "failed"
    for attempt in range(settings.transient_retries):
        try:
            delivery = conn.send(msg, campaign.from_address, row["email"])
            code, reason, status = delivery.code, delivery.response, "sent"
            break
        except Permanent as exc:
            code, reason = exc.code, exc.reason
            break
        except Transient as exc:
            code, reason = exc.code, exc.reason
            if attempt + 1 < settings.transient_retries:
                time.sleep(settings.retry_delay * (attempt + 1))
    return {"id": row["id"], "status": status, "sent_at": now() if status == "sent" else None, "code": code,
            "reason": reason, "message_id": row["message_id"], "company_id": row["company_id"],
            "contact_id": row["contact_id"], "to": row["email"], "subject": subject}


def maybe_finish(session: Session, campaign_id: int) -> bool:
    open_rows = session.scalar(select(func.count()).select_from(M).where(
        M.campaign_id == campaign_id, M.status.in_(("pending", "sending"))))
    if open_rows:
        session.rollback()
        return False
    n = session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "sending")
                        .values(status="done", finished_at=now())).rowcount
    session.commit()
    return bool(n)


def sweep(session: Session, settings: Settings, instance_id: str, older_than: float = 30.0) -> int:
    """Safety net: rows left in ``sending`` by a dead instance for a while (their batch
    message was not redelivered) are queued again. The claim decides who sends."""
    live = select(Instance.id).where(Instance.seen >= time.time() - settings.stale_seconds)
    cutoff = datetime.fromtimestamp(time.time() - older_than, timezone.utc)
    rows = session.execute(select(M.campaign_id, M.tenant_id, M.id).where(
        M.status == "sending", M.claimed_instance.not_in(live), M.claimed_at < cutoff).order_by(M.id).limit(5000)).all()
    by_campaign: dict[tuple, list] = {}
    for cid, tid, mid in rows:
        by_campaign.setdefault((cid, tid), []).append(mid)
    for (cid, tid), mids in by_campaign.items():
        # bump claimed_at so the next sweep waits again
        session.execute(update(M).where(M.id.in_(mids), M.status == "sending").values(claimed_at=now())
                        .execution_options(synchronize_session=False))
        for i in range(0, len(mids), settings.batch_size):
            add_event(session, "send_batch", {"campaign_id": cid, "tenant_id": tid, "message_ids": mids[i:i + settings.batch_size]})
    session.commit()
    return len(rows)


# -- unsubscribe --------------------------------------------------------------------------
def unsubscribe(session: Session, settings: Settings, token: str) -> dict:
    """Record the opt-out here (skipped from now on, also by running campaigns) and tell
    the crm through the outbox. Idempotent: a second click changes nothing."""
    tenant_id, address = render.read_unsubscribe_token(settings.secret, token)
    address = fold(address)
    if session.get(Suppression, (tenant_id, address)) is None:
        session.add(Suppression(tenant_id=tenant_id, address=address))
        session.execute(update(M).where(M.tenant_id == tenant_id, M.address == address, M.status == "pending")
                        .values(status="skipped", skip_reason="unsubscribed")
                        .execution_options(synchronize_session=False))
        add_event(session, "email_opted_out", {"tenant_id": tenant_id, "email": address, "at": now().isoformat()})
        try:
            session.commit()
        except IntegrityError:  # a concurrent click
            session.rollback()
    return {"email": address, "unsubscribed": True}


def unsubscribe_info(settings: Settings, token: str) -> dict:
    _tenant, address = render.read_unsubscribe_token(settings.secret, token)
    return {"email": address}


# -- templates --------------------------------------------------------------------------------
def _template_out(t: MailTemplate) -> dict:
    return {"id": t.id, "name": t.name, "subject": t.subject, "body": t.body, "updated_at": iso(t.updated_at)}


def list_templates(session: Session, tenant_id: int) -> list[dict]:
    return [_template_out(t) for t in session.scalars(select(MailTemplate).where(MailTemplate.tenant_id == tenant_id)
                                                      .order_by(MailTemplate.name))]


def _template(session: Session, tenant_id: int, template_id: int) -> MailTemplate:
    t = session.get(MailTemplate, template_id)
    if t is None or t.tenant_id != tenant_id:
        raise NotFound("No such template", id=template_id)
    return t


def get_template(session: Session, tenant_id: int, template_id: int) -> dict:
    return _template_out(_template(session, tenant_id, template_id))


def save_template(session: Session, tenant_id: int, user_id: int | None, data, template_id: int | None = None) -> dict:
    if template_id is None:
        t = MailTemplate(tenant_id=tenant_id)
        session.add(t)
    else:
        t = _template(session, tenant_id, template_id)
    t.name, t.subject, t.body, t.updated_by, t.updated_at = data.name, data.subject, data.body, user_id, now()
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ValidationError("A template with this name exists already", field="name") from None
    return _template_out(t)


def delete_template(session: Session, tenant_id: int, template_id: int) -> dict:
    session.delete(_template(session, tenant_id, template_id))
    session.commit()
    return {"id": template_id, "deleted": True}
