"""A real local SMTP server for development and tests (aiosmtpd) that keeps what
it receives in a SQLite file, so the gateway's "Outbox (dev)" page (through the
mailer's ``dev_outbox`` RPC) and the tests can see every message.

    python -m mailer.devsmtp [--host 127.0.0.1] [--port 8825] [--store var/devsmtp.sqlite3]

Test behaviours (off by default): ``--refuse ADDR`` answers 550 to that recipient,
``--drop-once ADDR`` drops the connection the first time that recipient is given,
``--delay S`` waits S seconds before answering each DATA.
Loopback only unless ``--host`` says otherwise.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sqlite3
import threading
import time
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
  id INTEGER PRIMARY KEY,
  received_at REAL NOT NULL,
  mail_from TEXT NOT NULL,
  rcpt_tos TEXT NOT NULL,
  message_id TEXT,
  subject TEXT,
  from_header TEXT,
  to_header TEXT,
  raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_received_message_id ON received (message_id);
"""


def default_store() -> str:
    return str(Path(os.environ.get("CRM_DATA_DIR", "var")).resolve() / "devsmtp.sqlite3")


def open_store(path: str) -> sqlite3.Connection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    conn.commit()
    return conn


_HEADERS = (b"message-id", b"subject", b"from", b"to")


def _decode(value: str) -> str:
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):  # a broken encoded word: keep it as it came
        return value


def headers_of(raw: bytes) -> dict:
    """Message-ID, Subject, From and To of a message (unfolded, encoded words decoded)
    without parsing the whole message."""
    end = raw.find(b"\r\n\r\n")
    head = raw[:end if end >= 0 else len(raw)].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    out = {}
    for line in head.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        key = name.strip().lower()
        if sep and key in _HEADERS and key.decode() not in out:
            out[key.decode()] = _decode(value.strip().decode("utf-8", "replace"))
    return out


class Handler:
    """Every message is kept before it is acknowledged: ``handle_DATA`` queues its row and
    waits; the rows queued in one turn of the event loop are written in one transaction
    (a group commit), then every waiting DATA gets its 250 (or 451 if the write failed)."""

    def __init__(self, store: str, refuse=(), drop_once=(), delay: float = 0.0):
        self.db = open_store(store)
        self.refuse = {a.lower() for a in refuse}
        self.drop_once = {a.lower() for a in drop_once}
        self.dropped: set[str] = set()
        self.delay = delay
        self.lock = threading.Lock()
        self.queued: list[tuple[tuple, asyncio.Future]] = []
        self.seen: set[str] = {r[0] for r in self.db.execute("SELECT message_id FROM received WHERE message_id != ''")}
        self.received = 0
        self.duplicates = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        """Advertise PIPELINING (RFC 2920): aiosmtpd reads and answers commands in order,
        so a client may send MAIL, RCPT and DATA in one write."""
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        a = address.lower()
        if a in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if a in self.drop_once and a not in self.dropped:
            self.dropped.add(a)
            server.transport.close()
            return "421 4.4.2 connection dropped"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        raw = envelope.original_content or envelope.content
        h = headers_of(raw)
        mid = h.get("message-id", "")
        row = (time.time(), envelope.mail_from or "", json.dumps(envelope.rcpt_tos), mid, h.get("subject", ""),
               h.get("from", ""), h.get("to", ""), raw)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        if not self.queued:
            loop.call_soon(self._flush)
        self.queued.append((row, done))
        try:
            await done
        except sqlite3.Error as exc:
            return f"451 4.3.0 could not store the message: {exc}"
        return "250 Message accepted for delivery"

    def _flush(self) -> None:
        batch, self.queued = self.queued, []
        try:
            with self.lock:
                self.db.executemany(
                    "INSERT INTO received (received_at, mail_from, rcpt_tos, message_id, subject, from_header,"
                    " to_header, raw) VALUES (?,?,?,?,?,?,?,?)", [row for row, _ in batch])
                self.db.commit()
        except sqlite3.Error as exc:
            try:
                self.db.rollback()
            except sqlite3.Error:
                pass
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for row, done in batch:
            self.received += 1
            if row[3]:
                if row[3] in self.seen:
                    self.duplicates += 1
                    print(f"devsmtp: duplicate Message-ID {row[3]} (to {row[2]})", flush=True)
                self.seen.add(row[3])
            if not done.done():
                done.set_result(None)


_PLAIN_PATH = re.compile(r"\s*<([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+)>\s*(.*)\Z", re.S)


def _server(handler, **kwargs):
    """aiosmtpd's SMTP with a fast path for plain ``<local@domain>`` in MAIL and RCPT
    (aiosmtpd runs every address through the e-mail header parser and defines a typing
    Protocol class per call: a third of this server's CPU); anything else goes that way."""
    from aiosmtpd.smtp import SMTP

    class FastSMTP(SMTP):
        def _getaddr(self, arg):
            match = _PLAIN_PATH.match(arg or "")
            if match is None:
                return super()._getaddr(arg)
            address, rest = match.groups()
            if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
                return None, None
            return address, rest

    return FastSMTP(handler, **kwargs)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("DEVSMTP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEVSMTP_PORT", "8825")))
    parser.add_argument("--store", default=os.environ.get("DEVSMTP_STORE") or default_store())
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--drop-once", action="append", default=[])
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    from aiosmtpd.controller import Controller

    handler = Handler(args.store, args.refuse, args.drop_once, args.delay)
    class FastController(Controller):
        def factory(self):
            return _server(self.handler, **self.SMTP_kwargs)

    controller = FastController(handler, hostname=args.host, port=args.port, data_size_limit=10 * 1024 * 1024,
                                ready_timeout=10)
    controller.start()
    print(f"devsmtp listening on {args.host}:{args.port}, keeping messages in {args.store}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


# -- reading the store (the mailer's dev_outbox RPC, the tests) --------------------------
def read(store: str, limit: int = 50, to: str | None = None) -> dict:
    if not store or not Path(store).exists():
        return {"enabled": False, "items": [], "total": 0, "duplicates": 0}
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10)
    try:
        where, params = "", []
        if to:
            where, params = "WHERE lower(rcpt_tos) LIKE ?", [f"%{to.lower()}%"]
        total = conn.execute(f"SELECT count(*) FROM received {where}", params).fetchone()[0]
        duplicates = conn.execute(f"SELECT count(*) - count(DISTINCT message_id) FROM received {where}",
                                  params).fetchone()[0]
        rows = conn.execute(f"SELECT id, received_at, mail_from, rcpt_tos, message_id, subject, from_header, to_header, raw"
                            f" FROM received {where} ORDER BY id DESC LIMIT ?", [*params, limit]).fetchall()
    finally:
        conn.close()
    items = []
    for rid, at, mail_from, rcpts, mid, subject, from_h, to_h, raw in rows:
        msg = message_from_bytes(raw, policy=policy.default)
        text = msg.get_body(preferencelist=("plain",))
        items.append({"id": rid, "received_at": datetime.fromtimestamp(at, timezone.utc).isoformat(), "mail_from": mail_from, "rcpt_tos": json.loads(rcpts),
                      "message_id": mid, "subject": subject, "from": from_h, "to": to_h,
                      "text": text.get_content().replace("\r\n", "\n") if text is not None else "",
                      "list_unsubscribe": str(msg.get("List-Unsubscribe") or "")})
    return {"enabled": True, "items": items, "total": total, "duplicates": duplicates}


def stats(store: str, like: str = "%") -> dict:
    """What the store holds: messages, distinct Message-IDs, duplicates (a Message-ID
    received more than once) and recipients that got more than one message."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    try:
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT message_id) FROM received"
                                       " WHERE message_id LIKE ?", (like,)).fetchone()
        rcpts = [json.loads(r[0])[0].lower() for r in conn.execute(
            "SELECT rcpt_tos FROM received WHERE message_id LIKE ?", (like,))]
    finally:
        conn.close()
    return {"received": total, "message_ids": distinct, "duplicates": total - distinct,
            "recipients": len(set(rcpts)), "recipient_duplicates": len(rcpts) - len(set(rcpts))}


if __name__ == "__main__":
    main()
