"""mail_throughput (issue 9): a campaign of 10,000 recipients from the compose form to the
local SMTP server (the suite's devsmtp), end to end through the gateway, RabbitMQ, the
mailer (rate limit off: MAILER_RATE_PER_SECOND=0) and the crm; duplicates counted at the
SMTP server's store. Target: >= 200 messages/s, 0 duplicates.

Called by ``python -m tests.bench`` (the 100,000-company dataset); standalone::

    python -m tests.bench.mail     # its own suite with BENCH_MAIL_COMPANIES demo companies (see main())
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import time
import uuid
from pathlib import Path

TARGET_RPS = 200.0
RECIPIENTS = 10_000


def pick_companies(crm_db: Path, wanted: int = RECIPIENTS) -> tuple[list[int], int]:
    """The first companies (by id) whose distinct addresses (own + active contacts) reach ``wanted``."""
    conn = sqlite3.connect(f"file:{crm_db}?mode=ro", uri=True)
    try:
        seen, ids = set(), []
        rows = conn.execute("SELECT c.id, lower(c.email), lower(p.email) FROM companies c LEFT JOIN contacts p"
                            " ON p.company_id = c.id AND p.active = 1 ORDER BY c.id")
        current = None
        for cid, own, contact in rows:
            if cid != current:
                if len(seen) >= wanted:
                    break
                current = cid
                ids.append(cid)
                if own:
                    seen.add(own)
            if contact:
                seen.add(contact)
        return ids[:10_000], len(seen)
    finally:
        conn.close()


def mail_throughput(suite, http, results: list) -> None:
    from mailer import devsmtp

    hx = {"HX-Request": "true"}
    data = Path(suite.env["CRM_DATA_DIR"])
    ids, _expected = pick_companies(data / "crm.sqlite3")
    selection = json.dumps({"ids": ids})
    t = time.perf_counter()
    compose = http.post(f"{suite.url}/mail/compose", headers=hx, data={"selection": selection}, timeout=120)
    assert compose.status_code == 200, compose.text[:300]
    audience = time.perf_counter() - t
    addresses = int(re.search(r"<strong data-mail-addresses>([\d,]+)</strong>", compose.text).group(1).replace(",", ""))
    form = {"selection": selection, "kinds": ["company", "contacts"], "subject": "Nyheter for {{ company_name }}",
            "body": "Hei {{ first_name }},\n\nvi har nye kandidater.\n\nHilsen {{ sender_name }}",
            "idempotency_key": uuid.uuid4().hex}
    load_before = os.getloadavg()
    cpu_before = _cpu(suite)
    start = time.perf_counter()
    r = http.post(f"{suite.url}/mail/send", headers=hx, data=form, timeout=120)
    assert r.status_code == 200, r.text[:300]
    created = time.perf_counter() - start
    campaign_id = int(re.search(r"/mail/campaigns/(\d+)", r.text).group(1))
    deadline = start + 1800  # bounded: a stuck campaign fails the bench instead of hanging it
    while True:
        html = http.get(f"{suite.url}/mail/campaigns/{campaign_id}/progress", headers=hx, timeout=30).text
        if 'data-status="done"' in html:
            break
        assert time.perf_counter() < deadline, f"campaign {campaign_id} not done in 30 minutes: {html[:300]}"
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    load_after = os.getloadavg()
    cpu = {name: round(after - cpu_before.get(name, 0.0), 1) for name, after in _cpu(suite).items()}
    sent = int(re.search(r"<strong data-sent>([\d,]+)</strong>", html).group(1).replace(",", ""))
    # duplicates where they arrive: a Message-ID received twice, or a recipient that got two messages
    got = devsmtp.stats(str(data / "devsmtp.sqlite3"), like=f"<c{campaign_id}.%")
    duplicates = max(got["duplicates"], got["recipient_duplicates"])
    rps = sent / elapsed
    ms = round(elapsed * 1000, 1)
    results.append({"name": "mail_throughput", "n": sent, "p50_ms": ms, "p95_ms": ms, "p99_ms": ms,
                    "rps": round(rps, 1), "duplicates": duplicates, "received": got["received"],
                    "addresses": addresses, "create_ms": round(created * 1000, 1),
                    "audience_ms": round(audience * 1000, 1), "load_before": [round(x, 2) for x in load_before],
                    "load_after": [round(x, 2) for x in load_after], "cpu_seconds": cpu})
    print(f"[bench] mail_throughput: {sent:,} sent ({got['received']:,} received, {got['duplicates']} duplicate "
          f"Message-IDs, {got['recipient_duplicates']} duplicate recipients) in {elapsed:.1f} s = {rps:.0f} msgs/s "
          f"end to end (target >= {TARGET_RPS:.0f}); campaign created in {created:.1f} s (compose/audience "
          f"{audience:.1f} s); load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; CPU seconds "
          f"during the campaign: {', '.join(f'{k} {v}' for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]) if v)}",
          flush=True)


def _cpu(suite) -> dict:
    """CPU seconds (user + system) used so far by each process of the suite (and its children)."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, proc in list(getattr(suite, "procs", {}).items()):
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = sum(int(x) for x in fields[11:15]) / hz  # utime, stime, cutime, cstime
    return out


def _start_line(suite, line: str, name: str) -> None:
    """Another process of a Procfile line (instances share the service's queues)."""
    import subprocess

    from tests.conftest import ROOT, procfile

    log = open(suite.logs / f"{name}.log", "ab")
    suite.procs[name] = subprocess.Popen("exec " + procfile()[line].strip(), shell=True, cwd=ROOT, env=suite.env,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _postgres_database(name: str) -> str:
    """A fresh PostgreSQL database for the mailer (BENCH_MAIL_DATABASE=postgresql)."""
    from sqlalchemy import create_engine, text

    base = os.environ.get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg2://", 1), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def main() -> int:
    """Environment: BENCH_MAIL_COMPANIES (demo companies, default 4,500: about 10,800 addresses, so the
    campaign reaches 10,000), BENCH_MAIL_INSTANCES (mailer processes, default 2), BENCH_MAIL_DATABASE
    (sqlite or postgresql for the mailer), BENCH_AMQP_URI (a vhost of your own; else a fresh one)."""
    from tests.conftest import Suite, procfile
    from tests.run_all import ensure_rabbitmq, fresh_vhost

    root = Path(__file__).resolve().parents[2]
    companies = int(os.environ.get("BENCH_MAIL_COMPANIES", "4500"))
    instances = int(os.environ.get("BENCH_MAIL_INSTANCES", "2"))
    database = os.environ.get("BENCH_MAIL_DATABASE", "sqlite")
    out = root / "var" / "bench-mail" / f"companies-{companies}"  # the crm's demo data is kept for the next run
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("mailer.sqlite3", "devsmtp.sqlite3"):  # a fresh mailer and SMTP store each run
        for suffix in ("", "-wal", "-shm"):
            (out / "data" / (stale + suffix)).unlink(missing_ok=True)
    suite = Suite(out)
    amqp = os.environ.get("BENCH_AMQP_URI")
    if not amqp:
        base, can_manage = ensure_rabbitmq()
        amqp = fresh_vhost(base, "mail_bench", can_manage)
    suite.env.update({"AMQP_URI": amqp, "CRM_DATA_DIR": str(out / "data"), "CRM_DEMO": "1",
                      "CRM_DEMO_COMPANIES": str(companies), "CRM_ADMIN_MUST_CHANGE": "0",
                      "MAILER_RATE_PER_SECOND": "0", "REGISTRY_DEV_ENTITIES": "200"})
    if database == "postgresql":
        suite.env["MAILER_DATABASE_URL"] = _postgres_database("mailer_bench")
    for name in procfile():
        suite.start(name)
    results: list = []
    try:
        suite.wait_healthy(1800)
        for k in range(2, instances + 1):
            _start_line(suite, "mailer", f"mailer_{k}")
        if instances > 1:
            time.sleep(5)  # the extra instances migrate (nothing to do) and start consuming
        mail_throughput(suite, suite.login(), results)
    finally:
        for name in list(suite.procs):
            suite.stop(name)
    print(json.dumps(results, indent=2))
    r = results[0]
    return 0 if r["rps"] >= TARGET_RPS and r["duplicates"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
