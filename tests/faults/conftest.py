"""The fault layer's own world (issue 12): its own RabbitMQ node and its own suite.

``broker``: a RabbitMQ node of this layer alone, on free ports, with its data and
logs in a temp dir and no plugins (RABBITMQ_NODENAME=fault-<rand>@localhost,
RABBITMQ_NODE_PORT, RABBITMQ_DIST_PORT, RABBITMQ_MNESIA_BASE, RABBITMQ_LOG_BASE,
an empty RABBITMQ_ENABLED_PLUGINS_FILE). The tests stop and start it at will; the
machine's broker on 5672 is never touched.

``fault_suite``: every line of deploy/Procfile run by ``deploy/run.py`` (the
supervisor `make run` uses), on that broker, with the suite's Suite class
(tests/conftest.py): so a process killed with SIGKILL is started again by the
supervisor, exactly as under `make run`.

The figures each test measures are printed at the end of the run.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, Suite, free_port

FIGURES: list[tuple[str, dict]] = []
SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # Debian's wrapper in /usr/sbin would su to the rabbitmq user
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


def record(name: str, figures: dict) -> None:
    FIGURES.append((name, figures))


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("fault figures")
    for name, figures in FIGURES:
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def fixed_port() -> int:
    import random

    low = 20000
    try:
        low_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low_ephemeral = 32768
    for _ in range(200):
        port = random.randrange(low, max(low + 100, low_ephemeral - 1))
        if port in (25672, 15672, 4369):
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    return free_port()


class Broker:
    def __init__(self, tmp: Path):
        self.dir = tmp
        # below the ephemeral range: between a stop and a start nobody's outgoing connection takes the port
        self.port, self.dist_port = fixed_port(), fixed_port()
        self.node = f"fault-{uuid.uuid4().hex[:8]}@localhost"
        (tmp / "mnesia").mkdir(parents=True, exist_ok=True)
        (tmp / "log").mkdir(parents=True, exist_ok=True)
        (tmp / "enabled_plugins").write_text("")
        (tmp / "rabbitmq.conf").write_text("loopback_users.guest = true\n")  # not /etc/rabbitmq's listeners
        self.env = {
            **os.environ,
            "HOME": str(tmp),  # the node's and the CLI's Erlang cookie live here
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(tmp / "mnesia"),
            "RABBITMQ_LOG_BASE": str(tmp / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(tmp / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(tmp / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(tmp / "rabbitmq-env.conf"),
        }
        (tmp / "rabbitmq-env.conf").write_text("")
        self.uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None

    def start(self, limit: float = 90) -> float:
        """Start the node; -> seconds until it accepts AMQP logins. A port still held by the node
        that just stopped (eaddrinuse) is waited for, a few times."""
        began = time.monotonic()
        for attempt in range(6):
            try:
                self._start(limit)
                return time.monotonic() - began
            except RuntimeError as exc:
                if "eaddrinuse" not in str(exc) or attempt == 5:
                    raise
                time.sleep(2)
        return time.monotonic() - began

    def _start(self, limit: float) -> float:
        import pika

        began = time.monotonic()
        log = open(self.dir / "server.log", "ab")
        server = SERVER if os.path.exists(SERVER) else shutil.which("rabbitmq-server")
        self.proc = subprocess.Popen([server], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = began + limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log_text = (self.dir / "server.log").read_text(errors="replace")
                raise RuntimeError(f"rabbitmq-server exited{' (eaddrinuse)' if 'eaddrinuse' in log_text[-20000:] else ''}: "
                                   f"{log_text[-2000:]}")
            if port_open(self.port):
                try:
                    pika.BlockingConnection(pika.URLParameters(self.uri + "?connection_attempts=1&socket_timeout=2")).close()
                    return time.monotonic() - began
                except Exception:  # noqa: BLE001 - still booting
                    pass
            time.sleep(0.1)
        raise RuntimeError("the fault layer's RabbitMQ did not start")

    def stop(self) -> float:
        began = time.monotonic()
        ctl = CTL if os.path.exists(CTL) else shutil.which("rabbitmqctl")
        subprocess.run([ctl, "-q", "-n", self.node, "stop"], env=self.env, capture_output=True, timeout=60)
        if self.proc is not None:
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return time.monotonic() - began


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    if not (os.path.exists(SERVER) or shutil.which("rabbitmq-server")):
        pytest.fail("the fault layer needs rabbitmq-server installed (apt-get install rabbitmq-server)")
    b = Broker(tmp_path_factory.mktemp("rabbit"))
    b.start()
    yield b
    b.stop()


class SupervisedSuite(Suite):
    """The Suite, its processes run by deploy/run.py (one process "run" in ``procs``)."""

    def pid(self, name: str) -> int:
        return int((Path(self.env["CRM_DATA_DIR"]) / "run" / f"{name}.pid").read_text())

    def kill9(self, name: str) -> int:
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        return pid

    def run_log(self) -> str:
        return (self.logs / "run.log").read_text(errors="replace")


@pytest.fixture(scope="session")
def fault_suite(broker, tmp_path_factory):
    s = SupervisedSuite(tmp_path_factory.mktemp("faults"))
    s.env.update({
        "AMQP_URI": broker.uri,
        "CRM_DEMO": "0",
        "CRM_ADMIN_MUST_CHANGE": "0",
        "REGISTRY_DEV_ENTITIES": "1000",
        "GATEWAY_WORKERS": "1",
        "REGISTRY_FEED_INTERVAL": "0",
    })
    log = open(s.logs / "run.log", "ab")
    s.procs["run"] = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "run.py")], cwd=ROOT, env=s.env,
                                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        s.wait_healthy(300)
        yield s
    finally:
        s.stop("run", wait=30)
        # the supervisor's and the processes' output, for whoever reads a failure in CI
        shutil.copytree(s.logs, ROOT / "var" / "test-reports" / "faults-logs", dirs_exist_ok=True)
