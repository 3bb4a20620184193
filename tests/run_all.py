"""`make test`: make sure the infrastructure is up, then run every test layer.

1. RabbitMQ: AMQP_URI if given; else the local broker, started if installed
   and stopped; else (no broker, a Docker engine present) testcontainers.
   Tests get vhosts of their own so a suite started by `make run` is never
   disturbed.
2. PostgreSQL: TEST_POSTGRES_URL if given; else the local server, started if
   installed and stopped; else testcontainers.
3. Chromium for the browser test: Debian's package, installed if missing.
4. pytest, one process per layer (the service and gateway layers TEST_JOBS=3
   at a time, each on a vhost of its own; then the suite layers one by one): each service (eventlet-patched, over real
   RabbitMQ on SQLite and PostgreSQL), the gateway (unpatched), and the
   suite-level tests (deploy manifests, end to end, browser).
Prints one closing line "N passed, N failed" and fails if anything failed or
nothing ran.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
REPORTS = ROOT / "var" / "test-reports"
LAYERS = [
    ("common", ROOT / "services" / "common", ["tests"]),
    ("crm", ROOT / "services" / "crm", ["tests"]),
    ("registry-lookup", ROOT / "services" / "registry-lookup", ["tests"]),
    ("credit-monitor", ROOT / "services" / "credit-monitor", ["tests"]),
    ("mailer", ROOT / "services" / "mailer", ["tests"]),
    ("export", ROOT / "services" / "export", ["tests"]),
    ("gateway", ROOT / "gateway", ["tests"]),
    ("suite", ROOT, ["-c", "tests/pytest.ini", "tests", "--ignore=tests/faults"]),
    # issue 12: its own RabbitMQ node and suite; kills services and restarts the broker (~5 minutes)
    ("faults", ROOT, ["-c", "tests/pytest.ini", "tests/faults"]),
]
# A layer that runs past its budget is stopped and counted as failed, so one hang never eats CI's whole time.
LAYER_TIMEOUT = {"crm": 1500, "suite": 1800, "faults": 900}
DEFAULT_LAYER_TIMEOUT = 900
PARALLEL = {"common", "crm", "registry-lookup", "credit-monitor", "mailer", "export", "gateway"}
_containers = []


def log(msg: str) -> None:
    print(f"[make test] {msg}", flush=True)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(host: str, port: int, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if port_open(host, port):
            return True
        time.sleep(0.5)
    return False


def docker_engine() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def ensure_rabbitmq() -> tuple[str, bool]:
    """-> (base AMQP URI, whether we may create vhosts with rabbitmqctl)."""
    if os.environ.get("AMQP_URI"):
        return os.environ["AMQP_URI"], False
    if not port_open("127.0.0.1", 5672) and shutil.which("rabbitmq-server"):
        log("starting the local RabbitMQ")
        subprocess.run(["rabbitmq-server", "-detached"], check=False)
        if not wait_port("127.0.0.1", 5672, 90):
            raise SystemExit("RabbitMQ did not start")
        subprocess.run(["rabbitmqctl", "await_startup"], check=False, capture_output=True, timeout=120)
    if port_open("127.0.0.1", 5672):
        return "amqp://guest:guest@127.0.0.1:5672/", bool(shutil.which("rabbitmqctl"))
    if docker_engine():
        from testcontainers.rabbitmq import RabbitMqContainer

        log("no local broker: starting RabbitMQ with testcontainers")
        c = RabbitMqContainer("rabbitmq:3.13-alpine").start()
        _containers.append(c)
        return f"amqp://guest:guest@{c.get_container_host_ip()}:{c.get_exposed_port(5672)}/", False
    raise SystemExit("No RabbitMQ: install it (apt-get install rabbitmq-server), or set AMQP_URI.")


def fresh_vhost(base: str, name: str, can_manage: bool) -> str:
    if not can_manage:
        return base
    for args in (["delete_vhost", name], ["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]):
        subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, timeout=60)
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def ensure_postgres() -> str:
    if os.environ.get("TEST_POSTGRES_URL"):
        return os.environ["TEST_POSTGRES_URL"]
    if not port_open("127.0.0.1", 5432) and shutil.which("pg_ctlcluster"):
        log("starting the local PostgreSQL")
        versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if versions:
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False)
            wait_port("127.0.0.1", 5432, 60)
    if port_open("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    if docker_engine():
        from testcontainers.postgres import PostgresContainer

        log("no local PostgreSQL: starting one with testcontainers")
        c = PostgresContainer("postgres:16-alpine", driver=None).start()
        _containers.append(c)
        return c.get_connection_url()
    raise SystemExit("No PostgreSQL: install it, or set TEST_POSTGRES_URL.")


def ensure_chromium() -> None:
    if os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing Debian's chromium for the browser test")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, check=False)
    if not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        log("WARNING: no Chromium found: the browser test will fail")


def counts(report: Path) -> tuple[int, int, int]:
    if not report.exists():
        return 0, 0, 0
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return total - failed - skipped, failed, skipped


def main() -> int:
    only = sys.argv[1:]
    amqp, can_manage = ensure_rabbitmq()
    pg = ensure_postgres()
    ensure_chromium()
    env = {
        **os.environ,
        "AMQP_URI": fresh_vhost(amqp, "crm_test", can_manage),
        "E2E_AMQP_URI": fresh_vhost(amqp, "crm_e2e", can_manage),
        "TEST_POSTGRES_URL": pg,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    passed = failed = skipped = 0
    broken = []
    layers = [(n, c, a) for n, c, a in LAYERS if (not only or n in only) and (c / "tests").is_dir()]
    # The service and gateway layers are independent (each gets a vhost of its own, every test its own
    # database) and mostly wait on the broker and the databases: run TEST_JOBS of them at once. The suite
    # layers (a whole suite each, a real browser, a private broker) run after them, one at a time.
    parallel = [layer for layer in layers if layer[0] in PARALLEL]
    serial = [layer for layer in layers if layer[0] not in PARALLEL]
    jobs = max(1, int(os.environ.get("TEST_JOBS", "3"))) if can_manage else 1  # one shared vhost: one at a time
    running: list[tuple[str, subprocess.Popen, Path, object]] = []

    def start(name, cwd, args, layer_env):
        report = REPORTS / f"{name}.xml"
        report.unlink(missing_ok=True)
        out_path = REPORTS / f"{name}.log"
        out = open(out_path, "w")
        log(f"layer {name} started")
        proc = subprocess.Popen([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *args],
                                cwd=cwd, env=layer_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        proc.deadline = time.monotonic() + int(os.environ.get("TEST_LAYER_TIMEOUT", LAYER_TIMEOUT.get(name, DEFAULT_LAYER_TIMEOUT)))
        return name, proc, out_path, out

    def overdue(name, proc) -> bool:
        """Past its budget: stop the layer's whole process group (pytest and the suites it started)."""
        if proc.poll() is not None or time.monotonic() < proc.deadline:
            return False
        log(f"layer {name} ran past its time budget: stopping it")
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(20)
                break
            except subprocess.TimeoutExpired:
                continue
        return True

    def finish(name, proc, out_path, out):
        nonlocal passed, failed, skipped
        while proc.poll() is None and not overdue(name, proc):
            time.sleep(0.5)
        code = proc.wait()
        out.close()
        text = out_path.read_text(errors="replace")
        print(f"----- layer {name} (exit {code}) -----", flush=True)
        print(text[-12000:] if code not in (0, 5) else "\n".join(text.splitlines()[-3:]), flush=True)
        p, f, sk = counts(REPORTS / f"{name}.xml")
        passed, failed, skipped = passed + p, failed + f, skipped + sk
        if code not in (0, 5) or (code == 5 and name != "common"):
            if p + f + sk == 0:
                failed += 1  # a layer that died before writing its report still counts as a failure
            broken.append(f"{name} (exit {code})")

    queue = list(parallel)
    while queue or running:
        while queue and len(running) < jobs:
            name, cwd, args = queue.pop(0)
            layer_env = {**env, "AMQP_URI": fresh_vhost(amqp, f"crm_test_{name.replace('-', '_')}", can_manage)}
            running.append(start(name, cwd, args, layer_env))
        time.sleep(0.5)
        for item in [r for r in running if r[1].poll() is not None or overdue(r[0], r[1])]:
            running.remove(item)
            finish(*item)
    for name, cwd, args in serial:
        finish(*start(name, cwd, args, env))
    for c in _containers:
        c.stop()
    if broken:
        log("failing layers: " + ", ".join(broken))
    print(f"{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 1 if (broken or failed or passed == 0) else 0


if __name__ == "__main__":
    sys.exit(main())
