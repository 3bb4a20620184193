"""Configuration from the environment. Fails fast when a required value is missing."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta


class ConfigError(RuntimeError):
    pass


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def from_env() -> dict:
    secret = os.environ.get("GATEWAY_SECRET_KEY", "")
    dev = _bool("GATEWAY_DEV", False)
    if not secret:
        if not dev:
            raise ConfigError("GATEWAY_SECRET_KEY is required (set GATEWAY_DEV=1 for a throw-away dev key)")
        secret = secrets.token_hex(32)
    key_file = os.environ.get("GATEWAY_SIGNING_KEY_FILE") or (
        os.path.join(os.environ["AUTH_KEYS_DIR"], "gateway.key") if os.environ.get("AUTH_KEYS_DIR") else "")
    if not key_file or not os.path.exists(key_file):
        raise ConfigError("GATEWAY_SIGNING_KEY_FILE (or AUTH_KEYS_DIR with gateway.key) is required: the gateway "
                          "signs every service call (python -m service_common.auth keygen DIR gateway)")
    return {
        "SECRET_KEY": secret,
        "SIGNING_KEY_FILE": key_file,
        "AMQP_URI": os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
        "RPC_TIMEOUT": float(os.environ.get("GATEWAY_RPC_TIMEOUT", "1.8")),
        # registry_lookup may ask a national registry's live API: allow it longer than the crm
        "REGISTRY_RPC_TIMEOUT": float(os.environ.get("GATEWAY_REGISTRY_RPC_TIMEOUT", "4.0")),
        "SESSION_COOKIE_NAME": "crm_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("GATEWAY_COOKIE_SECURE", True),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(os.environ.get("GATEWAY_SESSION_HOURS", "12"))),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_CSRF_SSL_STRICT": _bool("GATEWAY_COOKIE_SECURE", True),
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "PROXY_COUNT": int(os.environ.get("GATEWAY_PROXY_COUNT", "0")),
        "PAGE_SIZE": 50,
        # how long a checked session version is trusted per gateway process (issue 11): revocation delay
        "SESSION_CHECK_SECONDS": float(os.environ.get("GATEWAY_SESSION_CHECK_SECONDS", "3")),
        "TIMEZONE": os.environ.get("GATEWAY_TIMEZONE", "Europe/Oslo"),  # how times are shown and entered
    }
