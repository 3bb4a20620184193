"""Clients of the four registries' real APIs. Each turns answers into entity
dicts (see ``records``); ``None`` means the registry does not know the number."""
from __future__ import annotations

import threading
import time

import requests

from . import orgnr
from .breaker import CircuitBreaker
from .exceptions import SourceUnavailable
from .http import HttpSource
from .sources import bolagsverket, brreg, companies_house, cvr

BRREG_ENHET = "application/vnd.brreg.enhetsregisteret.enhet.v2+json;charset=UTF-8"
BRREG_UNDERENHET = "application/vnd.brreg.enhetsregisteret.underenhet.v2+json;charset=UTF-8"


class BrregClient(HttpSource):
    """Brønnøysundregistrene, Enhetsregisteret (open, no key)."""

    name = "Brønnøysundregistrene"
    country = "NO"

    def search(self, q: str, limit: int) -> list[dict]:
        doc = self.request_json("GET", "/enheter", params={"navn": q, "navnMetodeForSoek": "FORTLOEPENDE",
                                                            "size": limit}, headers={"Accept": BRREG_ENHET})
        return brreg.parse_search(doc or {}, "enheter")

    def get(self, org_number: str) -> dict | None:
        doc = self.request_json("GET", f"/enheter/{org_number}", answers=(410,), headers={"Accept": BRREG_ENHET})
        if doc and doc.get("http_status") == 410:  # removed from the register: deleted, not "not found"
            return brreg.parse_gone(doc.get("body"), org_number, "enheter")
        return brreg.parse_enhet(doc) if doc else None

    def get_underenhet(self, org_number: str) -> dict | None:
        doc = self.request_json("GET", f"/underenheter/{org_number}", answers=(410,),
                                headers={"Accept": BRREG_UNDERENHET})
        if doc and doc.get("http_status") == 410:
            return brreg.parse_gone(doc.get("body"), org_number, "underenheter")
        return brreg.parse_underenhet(doc) if doc else None

    def subunits(self, org_number: str, max_pages: int = 10) -> list[dict]:
        out: list[dict] = []
        for page in range(max_pages):
            doc = self.request_json("GET", "/underenheter", params={"overordnetEnhet": org_number, "size": 100,
                                                                     "page": page}, headers={"Accept": BRREG_UNDERENHET})
            out += brreg.parse_search(doc or {}, "underenheter")
            if page + 1 >= ((doc or {}).get("page") or {}).get("totalPages", 0):
                break
        return out

    def updates(self, cursor: str, kind: str = "enheter", size: int = 500) -> list[dict]:
        """One page of the update feed. ``cursor`` is ``"id:<oppdateringsid>"`` (the
        next id to read) or ``"dato:<ISO time>"``."""
        key, _, value = cursor.partition(":")
        params = {"size": size, ("oppdateringsid" if key == "id" else "dato"): value}
        doc = self.request_json("GET", f"/oppdateringer/{kind}", params=params)
        return brreg.parse_updates(doc or {}, kind)


class CompaniesHouseClient(HttpSource):
    """Companies House Public Data API (API key as the HTTP Basic user name)."""

    name = "Companies House"
    country = "GB"

    def __init__(self, base_url: str, api_key: str, **kwargs):
        super().__init__(base_url, auth=(api_key, ""), **kwargs)

    def search(self, q: str, limit: int) -> list[dict]:
        doc = self.request_json("GET", "/search/companies", params={"q": q, "items_per_page": max(limit, 2)})
        return companies_house.parse_search(doc or {})[:limit]

    def get(self, company_number: str) -> dict | None:
        doc = self.request_json("GET", f"/company/{company_number}")
        return companies_house.parse_profile(doc) if doc else None

    def subunits(self, company_number: str) -> list[dict]:
        doc = self.request_json("GET", f"/company/{company_number}/uk-establishments")
        return companies_house.parse_establishments(doc, company_number) if doc else []


class CvrClient(HttpSource):
    """CVR, Virk's distribution Elasticsearch (HTTP Basic user and password)."""

    name = "CVR (Virk)"
    country = "DK"

    def __init__(self, base_url: str, user: str, password: str, **kwargs):
        super().__init__(base_url, auth=(user, password), **kwargs)

    def search(self, q: str, limit: int) -> list[dict]:
        doc = self.request_json("POST", "/virksomhed/_search", json=cvr.query_by_name(q, limit))
        return [e for e in cvr.parse_search(doc or {}) if e["kind"] == "main"]

    def get(self, cvr_number: str) -> dict | None:
        found = cvr.parse_search(self.request_json("POST", "/virksomhed/_search", json=cvr.query_by_cvr(cvr_number)) or {})
        return found[0] if found else None

    def subunits(self, cvr_number: str) -> list[dict]:
        doc = self.request_json("POST", "/produktionsenhed/_search", json=cvr.query_units(cvr_number, 500))
        return [e for e in cvr.parse_search(doc or {}) if e["kind"] == "sub"]


class BolagsverketClient(HttpSource):
    """Bolagsverket, Värdefulla datamängder (OAuth2 client credentials). Lookup by
    organisation number only: the API has no name search."""

    name = "Bolagsverket"
    country = "SE"
    scope = "vardefulla-datamangder:read"

    def __init__(self, base_url: str, token_url: str, client_id: str, client_secret: str, **kwargs):
        super().__init__(base_url, **kwargs)
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()

    def _access_token(self, renew: bool = False) -> str:
        with self._token_lock:
            if renew or self._token is None or self._token[1] <= time.monotonic():
                try:
                    response = self.session.post(self.token_url, timeout=self.timeout, data={
                        "grant_type": "client_credentials", "scope": self.scope,
                        "client_id": self.client_id, "client_secret": self.client_secret})
                except requests.Timeout:
                    raise self._unavailable("the token endpoint timed out") from None
                except requests.RequestException as exc:
                    raise self._unavailable(f"could not reach the token endpoint ({type(exc).__name__})") from None
                if response.status_code != 200:
                    raise self._unavailable(f"the token endpoint refused our client credentials (HTTP {response.status_code})")
                try:
                    body = response.json()
                    token = body["access_token"]
                except (ValueError, KeyError, TypeError):
                    raise self._unavailable("the token endpoint sent no access token") from None
                self._token = (token, time.monotonic() + max(30, int(body.get("expires_in", 3600)) - 60))
            return self._token[0]

    def _send(self, method, url, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Authorization"] = f"Bearer {self._access_token()}"
        response = super()._send(method, url, headers=headers, **kwargs)
        if response.status_code == 401:  # token expired or revoked: one fresh token
            headers["Authorization"] = f"Bearer {self._access_token(renew=True)}"
            response = super()._send(method, url, headers=headers, **kwargs)
        return response

    def search(self, q: str, limit: int) -> list[dict]:
        number = orgnr.parse("SE", q)
        if number is None:
            return []
        found = self.get(number)
        return [found] if found else []

    def get(self, org_number: str) -> dict | None:
        doc = self.request_json("POST", "/organisationer", json={"identitetsbeteckning": org_number})
        if not doc:
            return None
        found = bolagsverket.parse_organisationer(doc, asked=org_number)
        if found:
            return found[0]  # possibly partial: ``missing`` names what a failed data producer left out
        problems = [p for org in doc.get("organisationer") or [] for p in bolagsverket.errors(org)]
        if problems:
            raise SourceUnavailable(f"{self.name}: {problems[0]}", country=self.country, source=self.name)
        return None

    def subunits(self, org_number: str) -> list[dict]:
        return []


COUNTRY_NAMES = {"NO": "Norway", "SE": "Sweden", "DK": "Denmark", "GB": "the UK"}


class LiveGate:
    """One slow registry stays one slow registry (issue 12).

    Each country's live calls get at most ``concurrency`` at once; one more is
    refused at once (SourceUnavailable "busy"), never queued, so no worker of the
    service waits behind a slow registry. A caller waits at most ``deadline``
    seconds for an answer (shorter than the gateway's timeout); the call itself
    runs on in the background until its HTTP timeout and keeps its slot until then,
    so the limit counts the requests really outstanding at the registry."""

    def __init__(self, countries, concurrency: int = 4, deadline: float = 2.5):
        self.concurrency, self.deadline = concurrency, deadline
        self.slots = {c: threading.BoundedSemaphore(concurrency) for c in countries}

    def call(self, country: str, source: str, fn, *args):
        slots = self.slots.get(country)
        if slots is None:
            return fn(*args)
        name = COUNTRY_NAMES.get(country, country)
        if not slots.acquire(blocking=False):
            raise SourceUnavailable(f"{source}: busy: {self.concurrency} calls to {name}'s registry are still "
                                    "waiting for an answer", country=country, source=source, reason="busy")
        done, box = threading.Event(), {}

        def run():
            try:
                box["result"] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box["error"] = exc
            finally:
                slots.release()
                done.set()

        threading.Thread(target=run, daemon=True, name=f"live-{country}").start()
        if not done.wait(self.deadline):
            raise SourceUnavailable(f"{source}: no answer within {self.deadline:g} s", country=country,
                                    source=source, reason="deadline")
        if "error" in box:
            raise box["error"]
        return box["result"]


class Registries:
    """The domain face of the four clients: ``registries.search("NO", "ostf", 10)``.
    Every live call goes through the ``LiveGate`` (per-country limit and deadline)."""

    def __init__(self, clients: dict[str, HttpSource], settings=None):
        self.clients = clients
        self.settings = settings
        self.gate = LiveGate(clients, getattr(settings, "live_concurrency", 4), getattr(settings, "live_deadline", 2.5))

    def client(self, country: str) -> HttpSource:
        return self.clients[country]

    def _live(self, country: str, fn, *args):
        return self.gate.call(country, getattr(self.clients[country], "name", country), fn, *args)

    def search(self, country: str, q: str, limit: int) -> list[dict]:
        return self._live(country, self.clients[country].search, q, limit)

    def get(self, country: str, org_number: str) -> dict | None:
        if country == "DK" and len(org_number) == 10:
            return None  # a P-number: production units are read through subunits()
        return self._live(country, self._get, country, org_number)

    def _get(self, country: str, org_number: str) -> dict | None:
        client = self.clients[country]
        found = client.get(org_number)
        if found is None and country == "NO":
            found = client.get_underenhet(org_number)
        return found

    def subunits(self, country: str, org_number: str) -> list[dict]:
        return self._live(country, self.clients[country].subunits, org_number)

    def close(self) -> None:
        for c in self.clients.values():
            c.close()


def build(settings) -> Registries:
    common = dict(user_agent=settings.user_agent, connect_timeout=settings.connect_timeout,
                  timeout=settings.timeout, retries=settings.retries)

    def breaker(name):
        return CircuitBreaker(name, settings.breaker_failures, settings.breaker_reset)

    return Registries({
        "NO": BrregClient(settings.brreg_url, breaker=breaker("NO"), **common),
        "GB": CompaniesHouseClient(settings.ch_url, settings.ch_api_key, breaker=breaker("GB"), **common),
        "DK": CvrClient(settings.cvr_url, settings.cvr_user, settings.cvr_password, breaker=breaker("DK"), **common),
        "SE": BolagsverketClient(settings.bolagsverket_url, settings.bolagsverket_token_url,
                                 settings.bolagsverket_client_id, settings.bolagsverket_client_secret,
                                 breaker=breaker("SE"), **common),
    }, settings)
