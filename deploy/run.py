"""`make run`: start the whole suite on one machine on its embedded defaults.

Checks the broker first (exits within 10 s with what to start if it is not
there), then runs every line of deploy/Procfile with honcho, waits until the
gateway reports every service healthy, and prints the URL and the login.
Ctrl-C stops everything.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"


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


def wait_healthy(port: str, proc: subprocess.Popen, limit: float = 300) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
                if json.load(resp).get("status") == "ok":
                    return True
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(1)
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
    proc = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "deploy" / "Procfile"), "-d", str(ROOT)],
        env=env, cwd=ROOT,
    )

    def stop(*_):
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, stop)
    try:
        if wait_healthy(port, proc):
            print(f"\n  CRM is up:  http://127.0.0.1:{port}/\n"
                  f"  Log in as:  {env['CRM_ADMIN_EMAIL']} / "
                  f"{'(CRM_ADMIN_PASSWORD)' if 'CRM_ADMIN_PASSWORD' in os.environ else env['CRM_ADMIN_PASSWORD']}\n"
                  "  Ctrl-C stops everything.\n", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        stop()
        try:
            return proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            return 1


if __name__ == "__main__":
    sys.exit(main())
