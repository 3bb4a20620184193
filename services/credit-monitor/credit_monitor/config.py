"""Settings of the credit_monitor service, from the nameko config (which reads
the environment, see config.yml). Credentials per tenant live in the database
(password encrypted with ``CREDIT_SECRET_KEY``); these are the defaults."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from service_common.db import data_dir

from .standin import DEV_PASSWORD, DEV_USERNAME

log = logging.getLogger(__name__)
DEFAULT_URL = "http://127.0.0.1:8791/v1"  # the local stand-in (make run)


def _get(config: dict, key: str, default):
    value = config.get(key)
    if value in (None, ""):
        value = os.environ.get(key, default)
    return default if value in (None, "") else value


@dataclass(frozen=True)
class Settings:
    base_url: str
    username: str
    password: str
    default_enabled: bool
    secret_key: str
    events_page_size: int
    enrol_batch: int
    import_from: int
    search_concurrency: int
    import_timeout: float
    connect_timeout: float
    timeout: float
    interactive_timeout: float
    retries: int

    @classmethod
    def load(cls, config: dict | None = None) -> "Settings":
        config = config or {}
        port = os.environ.get("CREDITSAFE_STANDIN_PORT", "").strip()
        url = str(_get(config, "CREDITSAFE_URL", f"http://127.0.0.1:{port}/v1" if port else DEFAULT_URL))
        standin = url.startswith("http://127.0.0.1")
        return cls(
            base_url=url.rstrip("/"),
            username=str(_get(config, "CREDITSAFE_USERNAME", DEV_USERNAME if standin else "")),
            password=str(_get(config, "CREDITSAFE_PASSWORD", DEV_PASSWORD if standin else "")),
            default_enabled=str(_get(config, "CREDIT_DEFAULT_ENABLED", "1")) not in ("0", "false", "no"),
            secret_key=str(_get(config, "CREDIT_SECRET_KEY", "")),  # empty: dev_key() on first use
            events_page_size=int(_get(config, "CREDIT_EVENTS_PAGE_SIZE", 100)),
            enrol_batch=int(_get(config, "CREDIT_ENROL_BATCH", 1000)),
            import_from=int(_get(config, "CREDIT_IMPORT_FROM", 20)),
            search_concurrency=max(1, int(_get(config, "CREDIT_SEARCH_CONCURRENCY", 8))),
            import_timeout=float(_get(config, "CREDIT_IMPORT_TIMEOUT", 600)),
            connect_timeout=float(_get(config, "CREDITSAFE_CONNECT_TIMEOUT", 2.0)),
            timeout=float(_get(config, "CREDITSAFE_TIMEOUT", 8.0)),
            interactive_timeout=float(_get(config, "CREDITSAFE_INTERACTIVE_TIMEOUT", 2.5)),
            retries=int(_get(config, "CREDITSAFE_RETRIES", 2)),
        )


def dev_key() -> str:
    """Without CREDIT_SECRET_KEY (development) a key file next to the SQLite files."""
    path = Path(data_dir()) / "credit_monitor.key"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
        log.warning("CREDIT_SECRET_KEY is not set: generated %s (set the variable in production)", path)
    return path.read_text().strip()


class Secrets:
    """Fernet encryption of stored credentials."""

    def __init__(self, key: str):
        self.key = key
        self._fernet = None

    @property
    def fernet(self) -> Fernet:
        if self._fernet is None:  # lazily: a dev key file is only made when a credential is stored or read
            key = self.key or dev_key()
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        return self._fernet

    def encrypt(self, value: str) -> str:
        return self.fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        try:
            return self.fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None
