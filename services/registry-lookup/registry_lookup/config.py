"""Settings of the registry_lookup service, from the nameko config (when
running in a container) over the environment, with defaults that point at the
local stand-ins (``python -m registry_lookup.standins``): no keys, no internet."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

# Where `python -m registry_lookup.standins` listens (deploy/Procfile: REGISTRY_STANDINS_PORT).
STANDINS = os.environ.get("REGISTRY_STANDINS_URL") or f"http://127.0.0.1:{os.environ.get('REGISTRY_STANDINS_PORT', '8790')}"
DEFAULTS = {
    "REGISTRY_BRREG_URL": f"{STANDINS}/brreg/enhetsregisteret/api",
    "REGISTRY_CH_URL": f"{STANDINS}/ch",
    "REGISTRY_CH_API_KEY": "dev-ch-key",
    "REGISTRY_CVR_URL": f"{STANDINS}/cvr/cvr-permanent",
    "REGISTRY_CVR_USER": "dev-cvr-user",
    "REGISTRY_CVR_PASSWORD": "dev-cvr-password",
    "REGISTRY_BOLAGSVERKET_URL": f"{STANDINS}/bolagsverket/vardefulla-datamangder/v1",
    "REGISTRY_BOLAGSVERKET_TOKEN_URL": f"{STANDINS}/bolagsverket/oauth2/token",
    "REGISTRY_BOLAGSVERKET_CLIENT_ID": "dev-client",
    "REGISTRY_BOLAGSVERKET_CLIENT_SECRET": "dev-secret",
    "REGISTRY_HTTP_CONNECT_TIMEOUT": "2",
    "REGISTRY_HTTP_TIMEOUT": "5",
    "REGISTRY_HTTP_RETRIES": "2",
    "REGISTRY_BREAKER_FAILURES": "5",
    "REGISTRY_BREAKER_RESET": "30",
    "REGISTRY_SEARCH": "auto",
    # live calls per country at once (more: that country is reported busy at once, never queued) and how long a
    # caller waits for one (shorter than the gateway's GATEWAY_REGISTRY_RPC_TIMEOUT, 4 s, so the answer always
    # arrives with what the other countries found)
    "REGISTRY_LIVE_CONCURRENCY": "4",
    "REGISTRY_LIVE_DEADLINE": "2.5",
    "REGISTRY_MAX_AGE_HOURS": "24",
    "REGISTRY_USER_AGENT": "crm-registry-lookup/0.1 (staffing CRM; company search and form auto-fill)",
}


@dataclass(frozen=True)
class Settings:
    brreg_url: str
    ch_url: str
    ch_api_key: str
    cvr_url: str
    cvr_user: str
    cvr_password: str
    bolagsverket_url: str
    bolagsverket_token_url: str
    bolagsverket_client_id: str
    bolagsverket_client_secret: str
    connect_timeout: float
    timeout: float
    retries: int
    breaker_failures: int
    breaker_reset: float
    search_mode: str  # auto | index | live
    live_concurrency: int
    live_deadline: float
    max_age_hours: float
    user_agent: str

    @classmethod
    def load(cls, config: Mapping | None = None, environ: Mapping | None = None) -> "Settings":
        environ = os.environ if environ is None else environ
        config = config or {}

        def get(key: str) -> str:
            value = config.get(key)
            if value in (None, ""):
                value = environ.get(key)
            if value in (None, ""):
                value = DEFAULTS[key]
            return str(value)

        mode = get("REGISTRY_SEARCH")
        if mode not in ("auto", "index", "live"):
            raise ValueError(f"REGISTRY_SEARCH must be auto, index or live, not {mode!r}")
        return cls(
            brreg_url=get("REGISTRY_BRREG_URL").rstrip("/"),
            ch_url=get("REGISTRY_CH_URL").rstrip("/"),
            ch_api_key=get("REGISTRY_CH_API_KEY"),
            cvr_url=get("REGISTRY_CVR_URL").rstrip("/"),
            cvr_user=get("REGISTRY_CVR_USER"),
            cvr_password=get("REGISTRY_CVR_PASSWORD"),
            bolagsverket_url=get("REGISTRY_BOLAGSVERKET_URL").rstrip("/"),
            bolagsverket_token_url=get("REGISTRY_BOLAGSVERKET_TOKEN_URL"),
            bolagsverket_client_id=get("REGISTRY_BOLAGSVERKET_CLIENT_ID"),
            bolagsverket_client_secret=get("REGISTRY_BOLAGSVERKET_CLIENT_SECRET"),
            connect_timeout=float(get("REGISTRY_HTTP_CONNECT_TIMEOUT")),
            timeout=float(get("REGISTRY_HTTP_TIMEOUT")),
            retries=int(get("REGISTRY_HTTP_RETRIES")),
            breaker_failures=int(get("REGISTRY_BREAKER_FAILURES")),
            breaker_reset=float(get("REGISTRY_BREAKER_RESET")),
            search_mode=mode,
            live_concurrency=max(1, int(get("REGISTRY_LIVE_CONCURRENCY"))),
            live_deadline=float(get("REGISTRY_LIVE_DEADLINE")),
            max_age_hours=float(get("REGISTRY_MAX_AGE_HOURS")),
            user_agent=get("REGISTRY_USER_AGENT"),
        )
