"""Credit-monitoring benchmarks (issue 10), against the Creditsafe stand-in over real RabbitMQ.

- ``credit_enrol_10k``: 10,000 existing companies enrolled (each: a ``company_identified``
  event as the crm's outbox relay publishes it; the service searches each by regNo, adds them
  to the tenant's portfolio with import files and takes the first ratings from the portfolio
  listing). Timed from the first event published to the last company enrolled (or found
  unknown to Creditsafe). Target: <= 60 s.
- ``credit_poll_10k``: 10,000 notification events (a score change each) read page by
  page from the stand-in and processed (ratings refreshed, history, outbox, event ids
  stored) by one poll. Target: <= 30 s.

Used by ``make bench`` (tests/bench/__main__.py, inside the suite it starts) and runnable
on its own (starts a stand-in and one credit_monitor process on a fresh SQLite file):

    AMQP_URI=amqp://guest:guest@127.0.0.1:5672/<vhost> python -m tests.bench.credit
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pika
import requests

from credit_monitor import standin

TARGETS_S = {"credit_enrol_10k": 60.0, "credit_poll_10k": 30.0}


def known_companies(n: int, tenant_id: int = 1, start_id: int = 1) -> list[dict]:
    """``n`` companies with NO/SE/DK/GB numbers (as the bench dataset has), ids from ``start_id``."""
    probe = standin.State({}, 3600)
    out, number, i = [], 910000001, start_id
    countries = ("NO", "SE", "DK", "GB")
    while len(out) < n:
        country = countries[len(out) % 4]
        reg = {"NO": str(number), "SE": str(5500000000 + number % 10**8), "DK": str(number)[1:], "GB": str(number)[1:]}[country]
        number += 1
        out.append({"tenant_id": tenant_id, "company_id": i, "country": country, "org_number": reg,
                    "known": probe.company(country, reg) is not None})
        i += 1
    return out


def publish_identified(amqp_uri: str, companies: list[dict]) -> None:
    """What the crm's outbox relay publishes, in nameko's event format (exchange crm.events)."""
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = conn.channel()
    channel.exchange_declare("crm.events", exchange_type="topic", durable=True)
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    for c in companies:
        body = {"event_id": str(uuid.uuid4()), "tenant_id": c["tenant_id"], "company_id": c["company_id"],
                "country": c["country"], "org_number": c["org_number"], "name": f"Bench company {c['company_id']}"}
        channel.basic_publish("crm.events", "company_identified", json.dumps(body), props)
    conn.close()


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(sql).fetchone()[0]


def enrol_10k(amqp_uri: str, credit_db: Path, companies: list[dict], timeout: float = 300) -> dict:
    start = time.perf_counter()
    publish_identified(amqp_uri, companies)
    published = time.perf_counter() - start
    done = 0
    while time.perf_counter() - start < timeout:
        done = _count(credit_db, "SELECT count(*) FROM monitored_companies WHERE status IN ('active', 'unknown')")
        if done >= len(companies):
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    active = _count(credit_db, "SELECT count(*) FROM monitored_companies WHERE status = 'active'")
    return _result("credit_enrol_10k", len(companies), elapsed, done=done, active=active,
                   publish_s=round(published, 2))


def poll_10k(rpc_call, standin_url: str, companies: list[dict], events: int = 10_000) -> dict:
    """One score change per company (band and limit kept: exactly one event each), then one poll. With fewer
    known companies than ``events`` (10,000 companies hold about 9,330 Creditsafe knows), the first ones get a
    second change (the score back: one more event each), so the poll reads exactly ``events`` events."""
    probe = standin.State({}, 3600)
    changes, back = [], []
    for c in companies:
        if not c["known"] or len(changes) >= events:
            continue
        company = probe.company(c["country"], c["org_number"])
        score = company.score + 1 if standin.band_for(company.score + 1) == company.band else company.score - 1
        changes.append({"country": c["country"], "regNo": c["org_number"], "score": score, "band": company.band,
                        "limit": company.limit})
        back.append({**changes[-1], "score": company.score})
    changes += back[:max(0, events - len(changes))]
    for i in range(0, len(changes), 2000):
        r = requests.post(f"{standin_url}/_control/ratings", json={"changes": changes[i:i + 2000]}, timeout=120)
        assert r.status_code == 200, r.text[:300]
    start = time.perf_counter()
    result = rpc_call()
    elapsed = time.perf_counter() - start
    assert result["new"] == len(changes), result
    return _result("credit_poll_10k", len(changes), elapsed, changed=result["changed"], events_read=result["events"])


def _result(name: str, n: int, elapsed: float, **extra) -> dict:
    per = elapsed / n * 1000 if n else 0
    return {"name": name, "n": n, "p50_ms": round(per, 3), "p95_ms": round(per, 3), "p99_ms": round(per, 3),
            "rps": round(n / elapsed, 1) if elapsed else None, "seconds": round(elapsed, 2),
            "target_s": TARGETS_S[name], **extra}


def verdicts(results: list[dict]) -> list[str]:
    out = []
    for r in results:
        if r["name"] in TARGETS_S:
            ok = r["seconds"] <= TARGETS_S[r["name"]]
            out.append(f"{r['name']:<30}{r['n']:>7} in {r['seconds']:>7} s ({r['rps']}/s)   "
                       f"{'ok' if ok else 'MISSED'} ≤{TARGETS_S[r['name']]:g} s")
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    """Standalone: a stand-in, one credit_monitor process on its own SQLite file."""
    from service_common import auth
    from gateway.rpc.transport import RpcTransport

    root = Path(__file__).resolve().parents[2]
    amqp = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    tmp = Path(tempfile.mkdtemp(prefix="credit-bench-"))
    keys = tmp / "keys"
    for issuer in ("gateway", "credit_monitor"):
        auth.generate(keys, issuer)
    port = _free_port()
    server = standin.serve("127.0.0.1", port)
    env = {**os.environ, "CRM_DATA_DIR": str(tmp), "AUTH_KEYS_DIR": str(keys), "AMQP_URI": amqp,
           "CREDITSAFE_STANDIN_PORT": str(port), "CREDIT_POLL_INTERVAL": "3600", "CREDIT_EVENTS_PAGE_SIZE": "1000"}
    # CREDIT_MAX_WORKERS: the service's own default (config.yml) unless the caller sets it
    env.pop("CREDIT_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "service_common.run", "credit_monitor.service", "--config",
                             "services/credit-monitor/config.yml"], cwd=root, env=env,
                            stdout=open(tmp / "credit_monitor.log", "wb"), stderr=subprocess.STDOUT)
    results = []
    try:
        transport = RpcTransport(amqp)
        signer = auth.Signer.from_dir(keys, "gateway")
        token = lambda: signer.mint(audience=["credit_monitor"], typ="user", ttl=600, tenant_id=1, user_id=1,  # noqa: E731
                                    role="admin", scopes=["*"])
        deadline = time.monotonic() + 60
        while True:
            try:
                transport.call("credit_monitor", "health", (), {}, context={"auth": token()}, timeout=2)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        companies = known_companies(int(os.environ.get("BENCH_CREDIT_COMPANIES", "10000")))
        results.append(enrol_10k(amqp, tmp / "credit_monitor.sqlite3", companies))
        results.append(poll_10k(lambda: transport.call("credit_monitor", "poll_now", (), {},
                                                       context={"auth": token()}, timeout=300),
                                f"http://127.0.0.1:{port}", companies))
    finally:
        proc.terminate()  # it may still be relaying the outbox (a rating_changed per company): give it time
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        server.shutdown()
    print(json.dumps(results, indent=2))
    print("\n".join(verdicts(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def in_suite(suite, transport, limit: int = 10_000) -> list[dict]:
    """``make bench``: 10,000 of the dataset's companies enrolled, then 10,000 events polled."""
    data = Path(suite.env["CRM_DATA_DIR"])
    with sqlite3.connect(data / "crm.sqlite3") as conn:
        rows = conn.execute("SELECT tenant_id, id, country, org_number FROM companies WHERE org_number IS NOT NULL"
                            " AND country IN ('NO','SE','DK','GB') ORDER BY id LIMIT ?", (limit,)).fetchall()
    probe = standin.State({}, 3600)
    companies = [{"tenant_id": t, "company_id": i, "country": c, "org_number": o,
                  "known": probe.company(c, o) is not None} for t, i, c, o in rows]
    tenant = companies[0]["tenant_id"]
    token = lambda: suite.token(tenant_id=tenant, user_id=1)  # noqa: E731
    results = [enrol_10k(suite.env["AMQP_URI"], data / "credit_monitor.sqlite3", companies)]
    results.append(poll_10k(lambda: transport.call("credit_monitor", "poll_now", (), {}, context={"auth": token()},
                                                   timeout=300),
                            f"http://127.0.0.1:{suite.env['CREDITSAFE_STANDIN_PORT']}", companies))
    return results
