"""Faults mid-campaign: kill -9 of the mailer process (then a restart). Counted at the
SMTP server: every recipient gets exactly one message, except that the messages that
were claimed (``sending``) when the process died may arrive once more, with the same
Message-ID. The mailer runs as a real process (``python -m service_common.run``, as in
the Procfile) on the test's broker vhost; the crm is a real container."""
import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from conftest import MESSAGE, make_companies, wait_done, wait_for

ROOT = Path(__file__).resolve().parents[3]


def start_mailer(database_url, smtp, rabbit_uri, log: Path, **extra):
    env = {**os.environ, "AMQP_URI": rabbit_uri, "MAILER_DATABASE_URL": database_url,
           "MAILER_SMTP_PORT": str(smtp.port), "MAILER_RATE_PER_SECOND": "0", "MAILER_STALE_SECONDS": "2",
           "MAILER_BATCH_SIZE": "20", "MAILER_SECRET": "test-secret", "MAILER_FROM_ADDRESS": "crm@agency-a.no",
           "LOG_LEVEL": "INFO", **{k: str(v) for k, v in extra.items()}}
    return subprocess.Popen([sys.executable, "-m", "service_common.run", "mailer.service", "--config",
                             str(ROOT / "services/mailer/config.yml")], cwd=ROOT, env=env,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)


def sending_rows(database_url) -> set[str]:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(text("SELECT address FROM campaign_messages WHERE status = 'sending'"))}
    finally:
        engine.dispose()


def test_kill_9_mid_campaign_then_restart(clients, smtp_factory, database_url, rabbit_uri, tmp_path):
    smtp = smtp_factory("--delay", "0.2")  # slow enough that the kill lands mid-campaign (6 batches send at once)
    crm, mailer = clients["crm"], clients["mailer"]
    ids = make_companies(crm, 40, 2, prefix="Kill")  # 120 addresses
    log = tmp_path / "mailer.log"
    proc = start_mailer(database_url, smtp, rabbit_uri, log)
    try:
        wait_for(lambda: _answers(mailer), 60, what="mailer process up")
        campaign = mailer.create_campaign({**MESSAGE, "selection": {"ids": ids}, "kinds": ["company", "contacts"],
                                           "idempotency_key": uuid.uuid4().hex})
        assert campaign["total"] == 120
        wait_for(lambda: len(smtp.messages()) >= 25, 60, what="sending to start")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        in_flight = sending_rows(database_url)
        before = len(smtp.messages())
        assert before < 120, "the campaign finished before the kill: make the server slower"
        proc = start_mailer(database_url, smtp, rabbit_uri, log)
        done = wait_done(mailer, campaign["id"], timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
    received = smtp.messages()
    per_address = collections.Counter(m["rcpt"][0].lower() for m in received)
    assert len(per_address) == 120, "every recipient got a message"
    twice = {a for a, n in per_address.items() if n > 1}
    assert all(n <= 2 for n in per_address.values())
    assert twice <= in_flight, f"only rows in 'sending' at the kill may go again: {twice - in_flight}"
    # a claim of one row (the default): a worker holds at most its message in flight (10 workers at most)
    assert len(in_flight) <= 10, f"more rows in 'sending' than messages in flight: {len(in_flight)}"
    ids_by_address = collections.defaultdict(set)
    for m in received:
        ids_by_address[m["rcpt"][0].lower()].add(m["message_id"])
    assert all(len(v) == 1 for v in ids_by_address.values()), "a resend carries the same Message-ID"
    assert done["counts"]["sent"] == 120 and done["counts"]["sending"] == 0


def _answers(mailer):
    try:
        return mailer.health()["status"] == "ok"
    except Exception:  # noqa: BLE001 - not up yet
        return False
