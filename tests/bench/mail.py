"""mail_throughput (issue 9): a campaign of 10,000 recipients from the compose form to the
local SMTP server (the suite's devsmtp), end to end through the gateway, RabbitMQ, the
mailer (rate limit off: MAILER_RATE_PER_SECOND=0) and the crm; duplicates counted at the
SMTP server's store. Target: >= 200 messages/s, 0 duplicates.

Called by ``python -m tests.bench`` (the 100,000-company dataset); standalone::

    python -m tests.bench.mail     # its own suite with BENCH_MAIL_COMPANIES demo companies
"""
from __future__ import annotations

import json
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
    hx = {"HX-Request": "true"}
    data = Path(suite.env["CRM_DATA_DIR"])
    ids, _expected = pick_companies(data / "crm.sqlite3")
    selection = json.dumps({"ids": ids})
    compose = http.post(f"{suite.url}/mail/compose", headers=hx, data={"selection": selection}, timeout=120)
    assert compose.status_code == 200, compose.text[:300]
    addresses = int(re.search(r"<strong data-mail-addresses>([\d,]+)</strong>", compose.text).group(1).replace(",", ""))
    form = {"selection": selection, "kinds": ["company", "contacts"], "subject": "Nyheter for {{ company_name }}",
            "body": "Hei {{ first_name }},\n\nvi har nye kandidater.\n\nHilsen {{ sender_name }}",
            "idempotency_key": uuid.uuid4().hex}
    start = time.perf_counter()
    r = http.post(f"{suite.url}/mail/send", headers=hx, data=form, timeout=120)
    assert r.status_code == 200, r.text[:300]
    created = time.perf_counter() - start
    campaign_id = int(re.search(r"/mail/campaigns/(\d+)", r.text).group(1))
    while True:
        html = http.get(f"{suite.url}/mail/campaigns/{campaign_id}/progress", headers=hx, timeout=30).text
        if 'data-status="done"' in html:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    sent = int(re.search(r"<strong data-sent>([\d,]+)</strong>", html).group(1).replace(",", ""))
    store = sqlite3.connect(f"file:{data / 'devsmtp.sqlite3'}?mode=ro", uri=True)
    try:
        rows = store.execute("SELECT rcpt_tos FROM received WHERE message_id LIKE ?", (f"<c{campaign_id}.%",)).fetchall()
    finally:
        store.close()
    rcpts = [json.loads(r[0])[0].lower() for r in rows]
    duplicates = len(rcpts) - len(set(rcpts))
    rps = sent / elapsed
    ms = round(elapsed * 1000, 1)
    results.append({"name": "mail_throughput", "n": sent, "p50_ms": ms, "p95_ms": ms, "p99_ms": ms,
                    "rps": round(rps, 1), "duplicates": duplicates, "received": len(rcpts), "addresses": addresses,
                    "create_ms": round(created * 1000, 1)})
    print(f"[bench] mail_throughput: {sent:,} sent ({len(rcpts):,} received, {duplicates} duplicates) in {elapsed:.1f} s "
          f"= {rps:.0f} msgs/s end to end (target >= {TARGET_RPS:.0f}); campaign created in {created:.1f} s", flush=True)


def main() -> int:
    import os

    from tests.conftest import Suite, procfile
    from tests.run_all import ensure_rabbitmq, fresh_vhost

    root = Path(__file__).resolve().parents[2]
    out = root / "var" / "bench-mail"
    amqp, can_manage = ensure_rabbitmq()
    out.mkdir(parents=True, exist_ok=True)
    suite = Suite(out)
    suite.env.update({"AMQP_URI": os.environ.get("BENCH_AMQP_URI") or fresh_vhost(amqp, "mail_bench", can_manage),
                      "CRM_DATA_DIR": str(out / "data"), "CRM_DEMO": "1",
                      "CRM_DEMO_COMPANIES": os.environ.get("BENCH_MAIL_COMPANIES", "2500"),
                      "CRM_ADMIN_MUST_CHANGE": "0", "MAILER_RATE_PER_SECOND": "0", "REGISTRY_DEV_ENTITIES": "200"})
    for name in procfile():
        suite.start(name)
    results: list = []
    try:
        suite.wait_healthy(900)
        mail_throughput(suite, suite.login(), results)
    finally:
        for name in list(suite.procs):
            suite.stop(name)
    print(json.dumps(results, indent=2))
    r = results[0]
    return 0 if r["rps"] >= TARGET_RPS and r["duplicates"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
