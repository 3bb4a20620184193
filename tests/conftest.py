"""Suite-level fixtures.

Real: everything. ``suite`` starts every line of deploy/Procfile (the five
services and the gateway under gunicorn, exactly what `make run` starts) on
a free port, with its own data directory (SQLite per service) and its own
RabbitMQ vhost (AMQP_URI from tests/run_all.py), then waits for /healthz.
Nothing is faked; outside registries are served by the registry stand-ins.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from service_common import auth

ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "e2e-admin-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile() -> dict[str, str]:
    lines = (ROOT / "deploy" / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


class Suite:
    def __init__(self, tmp: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = tmp
        self.logs = tmp / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.keys = tmp / "keys"
        for issuer in ("gateway", "crm", "registry_lookup", "credit_monitor", "mailer", "export"):
            auth.generate(self.keys, issuer)
        self.env = {
            **os.environ,
            "CRM_DATA_DIR": str(tmp / "data"),
            "AMQP_URI": os.environ.get("E2E_AMQP_URI") or os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
            "GATEWAY_PORT": str(self.port),
            "GATEWAY_SECRET_KEY": "e2e-secret-key-not-for-production",
            "GATEWAY_COOKIE_SECURE": "0",
            "GATEWAY_WORKERS": "1",
            "CRM_ADMIN_EMAIL": ADMIN_EMAIL,
            "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
            # the bootstrap admin normally sets a new password at first login; the suite's tests log in
            # with this one (tests/e2e/test_accounts.py and tests/browser/test_accounts.py test the forced change)
            "CRM_ADMIN_MUST_CHANGE": "0",
            "CRM_DEMO": "1",
            "REGISTRY_DEV_ENTITIES": os.environ.get("REGISTRY_DEV_ENTITIES", "2000"),
            "REGISTRY_STANDINS_PORT": str(standins_port := free_port()),
            "REGISTRY_STANDINS_URL": f"http://127.0.0.1:{standins_port}",
            "AUTH_KEYS_DIR": str(self.keys),
            "MAILER_SMTP_PORT": str(free_port()),  # the suite's own dev SMTP server (issue 9)
            "CREDITSAFE_STANDIN_PORT": str(free_port()),  # the suite's own Creditsafe stand-in (issue 10)
            "CREDIT_POLL_INTERVAL": "1",
            "MAILER_PUBLIC_URL": self.url,  # unsubscribe links point at this gateway
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        for key in [k for k in self.env if k.endswith("_DATABASE_URL")]:
            del self.env[key]  # embedded defaults: SQLite per service
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        command = "exec " + procfile()[name].strip()
        log = open(self.logs / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            command, shell=True, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self, name: str, sig=signal.SIGTERM, wait: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def health(self) -> dict | None:
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).json()
        except (requests.RequestException, ValueError):
            return None

    def wait_healthy(self, limit: float = 240) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            health = self.health()
            if health and health.get("status") == "ok":
                return
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited: {self.tail(name)}")
            time.sleep(0.5)
        raise RuntimeError(f"suite not healthy in {limit}s: {self.health()}\n" + "\n".join(self.tail(n) for n in self.procs))

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {name} ---\n" + "\n".join(text.splitlines()[-lines:])

    def token(self, tenant_id=None, user_id=None, typ=None, ttl=300, issuer="gateway", **claims) -> str:
        """A caller token as the gateway (or ``issuer``) mints it, for calls straight over RPC."""
        typ = typ or ("user" if user_id is not None else "gateway")
        return auth.Signer.from_dir(self.keys, issuer).mint(
            audience=("crm", "registry_lookup", "credit_monitor", "mailer", "export"), typ=typ, ttl=ttl,
            tenant_id=tenant_id, user_id=user_id, role=claims.pop("role", "admin" if typ == "user" else None),
            **claims)

    def login(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> requests.Session:
        s = requests.Session()
        token = csrf_token(s.get(f"{self.url}/login").text)
        r = s.post(f"{self.url}/login", data={"csrf_token": token, "email": email, "password": password},
                   allow_redirects=False)
        assert r.status_code == 303, r.text[:500]
        s.headers["X-CSRFToken"] = csrf_token(s.get(f"{self.url}/companies").text)
        return s


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture(scope="session")
def suite(tmp_path_factory):
    s = Suite(tmp_path_factory.mktemp("suite"))
    for name in procfile():
        s.start(name)
    try:
        s.wait_healthy()
        yield s
    finally:
        for name in list(s.procs):
            s.stop(name)


@pytest.fixture
def admin(suite) -> requests.Session:
    return suite.login()
