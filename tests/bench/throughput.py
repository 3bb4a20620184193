"""`gateway_throughput` (issue 12): live search through the gateway with 1, 4, 8 and 16 concurrent
clients for BENCH_THROUGHPUT_SECONDS (default 20) each: rps, p50, p95, p99 and errors, and for the
8-client run how the CPU splits across the gateway, the crm, the broker and the load generator
(per-process CPU time from /proc; the gateway and crm counted with their children).

Called by `make bench` (tests/bench/__main__.py) on its suite; on its own, against a running suite:

    python -m tests.bench.throughput URL EMAIL PASSWORD [--clients 1,4,8,16] [--seconds 20]

The load generator runs on the same 2-core machine as the suite, so its own CPU is part of the figure.
"""
from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

CLIENTS = (1, 4, 8, 16)
TARGET = {"clients": 8, "rps": 300, "p95_ms": 50.0}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1)))))]


def _ticks(pid: int) -> int:
    """utime + stime (+ waited-for children) of one process, in clock ticks; 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15])
    except (OSError, IndexError, ValueError):
        return 0


def _group(pid: int) -> list[int]:
    """``pid`` and every process of its process group (the supervisor starts each Procfile line in one)."""
    out = []
    try:
        pgid = os.getpgid(pid)
    except OSError:
        return [pid]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if os.getpgid(int(proc.name)) == pgid:
                    out.append(int(proc.name))
            except OSError:
                pass
    return out or [pid]


def _pids_named(comm: str) -> list[int]:
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() == comm:
                    out.append(int(proc.name))
            except OSError:
                pass
    return out


def _broker_pids() -> list[int]:
    """The RabbitMQ VM(s) on this machine (beam.smp), read from /proc."""
    return _pids_named("beam.smp")


class CpuMeter:
    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups
        self.hz = os.sysconf("SC_CLK_TCK")

    def snapshot(self) -> dict[str, float]:
        snap = {name: sum(_ticks(p) for p in pids) / self.hz for name, pids in self.groups.items()}
        t = os.times()
        snap["load generator"] = t.user + t.system
        return snap


def run(url: str, login, queries: list[str], clients=CLIENTS, seconds: float = 20.0,
        cpu_groups: dict[str, list[int]] | None = None) -> list[dict]:
    """``login()`` -> a logged-in requests.Session. One result per client count."""
    results = []
    sessions = [login() for _ in range(max(clients))]
    for n in clients:
        samples: list[float] = []
        errors = [0]
        lock = threading.Lock()
        stop = threading.Event()

        def client(i: int):
            s = sessions[i]
            k = i * 7919
            local, bad = [], 0
            while not stop.is_set():
                k += 1
                q = queries[k % len(queries)]
                t = time.perf_counter()
                try:
                    r = s.get(f"{url}/companies", params={"q": q}, headers={"HX-Request": "true"}, timeout=10)
                    ok = r.status_code == 200
                except Exception:  # noqa: BLE001 - counted as an error
                    ok = False
                took = (time.perf_counter() - t) * 1000
                if ok:
                    local.append(took)
                else:
                    bad += 1
            with lock:
                samples.extend(local)
                errors[0] += bad

        for s in sessions[:n]:  # warm every connection
            s.get(f"{url}/companies", params={"q": "ab"}, headers={"HX-Request": "true"}, timeout=10)
        meter = CpuMeter(cpu_groups) if cpu_groups and n == TARGET["clients"] else None
        before = meter.snapshot() if meter else None
        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join(30)
        elapsed = time.perf_counter() - start
        row = {"name": f"gateway_throughput_{n}", "clients": n, "n": len(samples),
               "rps": round(len(samples) / elapsed, 1), "p50_ms": round(_pct(samples, 50), 2),
               "p95_ms": round(_pct(samples, 95), 2), "p99_ms": round(_pct(samples, 99), 2), "errors": errors[0]}
        if meter:
            after = meter.snapshot()
            used = {k: after[k] - before[k] for k in after}
            total = sum(used.values()) or 1.0
            row["cpu_s"] = {k: round(v, 1) for k, v in used.items()}
            row["cpu_share"] = {k: f"{100 * v / total:.0f}%" for k, v in used.items()}
            row["cpu_cores_used"] = round(total / elapsed, 2)
        results.append(row)
        print(f"[bench] gateway_throughput {n:>2} clients: {row['rps']:>7} req/s  p50 {row['p50_ms']} ms  "
              f"p95 {row['p95_ms']} ms  p99 {row['p99_ms']} ms  errors {row['errors']}"
              + (f"  cpu {row['cpu_share']} of {row['cpu_cores_used']} cores" if meter else ""), flush=True)
    return results


def suite_cpu_groups(suite) -> dict[str, list[int]]:
    """The gateway's and the crm's process groups of a tests.conftest.Suite, and the broker."""
    groups = {}
    for name in ("gateway", "crm"):
        proc = suite.procs.get(name)
        if proc is not None:
            groups[name] = _group(proc.pid)
    groups["broker"] = _broker_pids()
    if suite.env.get("CRM_DATABASE_URL", "").startswith("postgresql"):
        groups["postgresql"] = _pids_named("postgres")  # the server and its backends (counted while they live)
    return groups


def verdict(results: list[dict]) -> str:
    row = next((r for r in results if r.get("clients") == TARGET["clients"]), None)
    if row is None:
        return ""
    ok = row["rps"] >= TARGET["rps"] and row["p95_ms"] <= TARGET["p95_ms"] and row["errors"] == 0
    return (f"gateway_throughput at {TARGET['clients']} clients: {row['rps']} req/s, p95 {row['p95_ms']} ms, "
            f"{row['errors']} errors: {'ok' if ok else 'MISSED'} (target >= {TARGET['rps']} req/s, "
            f"p95 <= {TARGET['p95_ms']:g} ms, 0 errors)")


def main() -> int:
    import requests

    from tests.conftest import csrf_token

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("email")
    ap.add_argument("password")
    ap.add_argument("--clients", default="1,4,8,16")
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_THROUGHPUT_SECONDS", "20")))
    ap.add_argument("--pids", default="", help="name=pid,... process groups to meter (e.g. gateway=123,crm=456)")
    a = ap.parse_args()

    def login():
        s = requests.Session()
        token = csrf_token(s.get(f"{a.url}/login").text)
        r = s.post(f"{a.url}/login", data={"csrf_token": token, "email": a.email, "password": a.password},
                   allow_redirects=False)
        assert r.status_code == 303, r.text[:300]
        s.headers["X-CSRFToken"] = csrf_token(s.get(f"{a.url}/companies").text)
        return s

    groups = {k: _group(int(v)) for k, v in (p.split("=") for p in a.pids.split(",") if p)}
    groups["broker"] = _broker_pids()
    import random

    from tests.bench.__main__ import queries

    results = run(a.url, login, queries(random.Random(3)), [int(c) for c in a.clients.split(",")], a.seconds, groups)
    print(verdict(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def use_postgres(suite, companies: int) -> str:
    """BENCH_DATABASE=postgresql: the crm on PostgreSQL (TEST_POSTGRES_URL's server, database
    ``crm_bench_<companies>``), the same dataset loaded once (cached: var/bench/pg-<companies>.done)."""
    import subprocess
    import sys

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    from service_common.db import make_engine, normalise_url

    admin = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"crm_bench_{companies}"
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    marker = Path(suite.env["CRM_DATA_DIR"]).parent / f"pg-{companies}.done"
    engine = create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if exists and not marker.exists():
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    suite.env["CRM_DATABASE_URL"] = url
    if not marker.exists():
        print(f"[bench] loading {companies:,} companies into PostgreSQL {name} (cached for later runs) ...", flush=True)
        root = Path(__file__).resolve().parents[2]
        subprocess.run([sys.executable, "-m", "service_common.run", "crm.service", "--config",
                        "services/crm/config.yml", "--migrate-only"], cwd=root, env=suite.env, check=True)
        from crm import demo

        pg = make_engine(url, pool_size=1)
        with Session(pg) as session:
            demo.load_full(session, 1, companies, seed=7)
        pg.dispose()
        # as autovacuum would soon after a load this size: statistics and the visibility map
        # (index-only scans without heap fetches), so the figures are a settled database's
        vacuum = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
        with vacuum.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
        vacuum.dispose()
        marker.write_text(url)
    return url
