"""`make run`: start the whole suite on one machine on its embedded defaults.

Checks the broker first (exits within 10 s with what to start if it is not
there), then runs every line of deploy/Procfile under a small supervisor
(honcho-style: one process group per line, output prefixed with the line's
name), waits until the gateway reports every service healthy, and prints the
URL and the login.

A process that dies is started again, with backoff (0.5 s, 1 s, 2 s ... 30 s;
back to 0.5 s once it has stayed up 30 s), and a line saying which one and
why (exit code or signal, and its last line of output). The other processes
keep running. Ctrl-C (or SIGTERM) stops everything: SIGTERM to every process
group, SIGKILL after 15 s.

The Procfile stays the one list of processes: every ``name: command`` line is
handled the same way (``${VAR:-default}`` expanded by the shell). Each
process's pid is written to ``$CRM_DATA_DIR/run/<name>.pid`` (the fault tests
use it to kill -9 one of them).
"""
from __future__ import annotations

import collections
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
PROCFILE = ROOT / "deploy" / "Procfile"
BACKOFF_FIRST, BACKOFF_MAX, STABLE_AFTER = 0.5, 30.0, 30.0
STOP_GRACE = 15.0


def broker_reachable(uri: str, timeout: float = 8.0) -> str | None:
    """None when RabbitMQ accepts an AMQP login, else the reason."""
    import pika

    params = pika.URLParameters(uri)
    params.socket_timeout = params.stack_timeout = params.blocked_connection_timeout = timeout
    params.connection_attempts = 1
    try:
        pika.BlockingConnection(params).close()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"


ISSUERS = ("gateway", "crm", "registry_lookup", "credit_monitor", "mailer", "export")


def make_keys(directory: Path) -> None:
    """Caller-token keys for one machine (kept across runs): the gateway's signing key and
    each service's identity. In production each process gets only its own .key (deploy/README.md)."""
    from service_common.auth import generate

    for issuer in ISSUERS:
        generate(directory, issuer)


def environment() -> dict:
    env = dict(os.environ)
    data = Path(env.setdefault("CRM_DATA_DIR", str(ROOT / "var"))).resolve()
    data.mkdir(parents=True, exist_ok=True)
    env["CRM_DATA_DIR"] = str(data)
    env.setdefault("AMQP_URI", DEFAULT_AMQP)
    env.setdefault("GATEWAY_COOKIE_SECURE", "0")  # plain http on loopback; set 1 behind TLS
    key_file = data / "gateway-secret-key"
    if "GATEWAY_SECRET_KEY" not in env:
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        env["GATEWAY_SECRET_KEY"] = key_file.read_text().strip()
    keys = Path(env.setdefault("AUTH_KEYS_DIR", str(data / "keys")))
    make_keys(keys)
    env.setdefault("CRM_ADMIN_EMAIL", "admin@example.com")
    env.setdefault("CRM_ADMIN_PASSWORD", "change-me-now")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def procfile(path: Path = PROCFILE) -> dict[str, str]:
    """``name: command`` lines, in order; comments and blank lines skipped."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#") or ":" not in line:
            continue
        name, command = line.split(":", 1)
        out[name.strip()] = command.strip()
    return out


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class Process:
    def __init__(self, name: str, command: str):
        self.name, self.command = name, command
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self.restarts = 0
        self.failures = 0  # consecutive short-lived runs (drives the backoff)
        self.next_start = 0.0
        self.last_lines: collections.deque[str] = collections.deque(maxlen=3)


class Supervisor:
    """Runs every Procfile line; restarts the ones that die; stops all on request."""

    def __init__(self, commands: dict[str, str], env: dict, cwd: Path = ROOT, out=None):
        width = max((len(n) for n in commands), default=4)
        self.width = max(width, 3)
        self.procs = {name: Process(name, cmd) for name, cmd in commands.items()}
        self.env, self.cwd = env, cwd
        self.out = out or sys.stdout
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.piddir = Path(env.get("CRM_DATA_DIR", ROOT / "var")) / "run"
        self.piddir.mkdir(parents=True, exist_ok=True)

    def say(self, name: str, line: str) -> None:
        with self.lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {line}\n")
            self.out.flush()

    def _pump(self, p: Process, proc: subprocess.Popen) -> None:
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            if line.strip():
                p.last_lines.append(line.strip()[:300])
            self.say(p.name, line)
        proc.stdout.close()

    def start(self, p: Process) -> None:
        p.proc = subprocess.Popen(
            ["/bin/sh", "-c", "exec " + p.command], cwd=self.cwd, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        p.started = time.monotonic()
        (self.piddir / f"{p.name}.pid").write_text(str(p.proc.pid))
        threading.Thread(target=self._pump, args=(p, p.proc), daemon=True, name=f"out-{p.name}").start()
        self.say("run", f"started {p.name} (pid {p.proc.pid})")

    def _reap(self, p: Process, code: int) -> None:
        """One process died: clean its group, schedule a restart with backoff, say why."""
        try:
            os.killpg(p.proc.pid, signal.SIGKILL)  # leftovers of its group (gunicorn workers)
        except (ProcessLookupError, PermissionError):
            pass
        lived = time.monotonic() - p.started
        p.failures = 1 if lived >= STABLE_AFTER else p.failures + 1
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (p.failures - 1))
        p.restarts += 1
        p.next_start = time.monotonic() + delay
        last = f"; last output: {p.last_lines[-1]}" if p.last_lines else ""
        self.say("run", f"{p.name} died ({describe_exit(code)}) after {lived:.1f} s{last}; "
                        f"restarting in {delay:g} s (restart {p.restarts})")
        p.proc = None

    def run(self, on_tick=None) -> int:
        for p in self.procs.values():
            self.start(p)
        while not self.stopping.is_set():
            now = time.monotonic()
            for p in self.procs.values():
                if p.proc is not None:
                    code = p.proc.poll()
                    if code is not None and not self.stopping.is_set():
                        self._reap(p, code)
                elif now >= p.next_start and not self.stopping.is_set():
                    self.start(p)
            if on_tick:
                on_tick()
            self.stopping.wait(0.2)
        return self.stop_all()

    def stop(self, *_args) -> None:
        self.stopping.set()

    def stop_all(self) -> int:
        alive = [p for p in self.procs.values() if p.proc is not None and p.proc.poll() is None]
        self.say("run", "stopping " + ", ".join(p.name for p in alive) if alive else "stopping")
        for p in alive:
            try:
                os.killpg(p.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE
        for p in alive:
            try:
                p.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("run", f"{p.name} did not stop in {STOP_GRACE:g} s: SIGKILL")
            try:
                os.killpg(p.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            p.proc.wait()
        for p in self.procs.values():
            (self.piddir / f"{p.name}.pid").unlink(missing_ok=True)
        return 0


def healthy(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
            return json.load(resp).get("status") == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main() -> int:
    env = environment()
    uri = env["AMQP_URI"]
    reason = broker_reachable(uri)
    if reason:
        host = urlsplit(uri).hostname
        print(f"\nRabbitMQ is not reachable at {host} ({reason}).\n"
              "Start it (on this machine: `rabbitmq-server -detached`) or point AMQP_URI at a running broker,\n"
              "then run `make run` again.\n", file=sys.stderr)
        return 2
    port = env.setdefault("GATEWAY_PORT", "8000")
    supervisor = Supervisor(procfile(), env)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    announced = {"done": False, "next": time.monotonic() + 2}

    def announce():
        if announced["done"] or time.monotonic() < announced["next"]:
            return
        announced["next"] = time.monotonic() + 1
        if healthy(port):
            announced["done"] = True
            login = '(CRM_ADMIN_PASSWORD)' if 'CRM_ADMIN_PASSWORD' in os.environ else env['CRM_ADMIN_PASSWORD']
            print(f"\n  CRM is up:  http://127.0.0.1:{port}/\n"
                  f"  Log in as:  {env['CRM_ADMIN_EMAIL']} / {login}\n"
                  "  Ctrl-C stops everything.\n", flush=True)

    # the health probe runs on its own thread so that a slow /healthz never delays a restart
    def prober():
        while not supervisor.stopping.is_set() and not announced["done"]:
            announce()
            supervisor.stopping.wait(1)

    threading.Thread(target=prober, daemon=True).start()
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
