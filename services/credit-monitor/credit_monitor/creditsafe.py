"""A client for the Creditsafe Connect API v1. Plain module: no nameko here.

- ``POST /authenticate`` once per credential; the token is cached (shared by
  every client of the process through :class:`TokenCache`) and renewed before
  its hour runs out. A 401 on a call renews the token once and repeats the call.
- Timeouts on every request, retries with exponential backoff (and
  ``Retry-After``) on 429/5xx and connection errors, a circuit breaker per
  base URL: when Creditsafe is down, calls fail at once with
  :class:`CreditsafeUnavailable` instead of piling up.
- Monitoring pages are 0-based; every page is read (``paging.next`` until null).
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import json as _json
from urllib.parse import urlencode
from urllib.request import getproxies, proxy_bypass

import urllib3
from urllib3.exceptions import HTTPError as _Urllib3Error
from urllib3.exceptions import NewConnectionError, TimeoutError as _Urllib3Timeout

log = logging.getLogger(__name__)
RETRY_STATUS = {429, 500, 502, 503, 504}
TOKEN_LIFETIME = 3600.0  # Creditsafe: tokens live one hour
RENEW_MARGIN = 300.0  # renew five minutes before the hour ends
MAX_RETRY_AFTER = 2.0


class CreditsafeError(Exception):
    """Base of the client's errors; ``str()`` is a sentence a person can act on."""


class CreditsafeUnavailable(CreditsafeError):
    """Down, slow, answering 5xx/429 after retries, or skipped by the open circuit."""


class AuthenticationFailed(CreditsafeError):
    """Creditsafe rejected the username/password (or the token twice)."""


class RequestRejected(CreditsafeError):
    """A 4xx for our request (bad parameters, unknown connectId, missing portfolio)."""

    def __init__(self, message: str, status: int, body=None):
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass
class Rating:
    band: str | None  # common band A-E
    score: int | None  # provider score 1-100
    limit: int | None  # credit limit (whole currency units)
    currency: str | None
    description: str | None
    rated_at: str | None  # ISO date-time of the rating (change)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class CircuitBreaker:
    """Open after ``threshold`` failures in a row; after ``reset_timeout`` one
    trial call goes through (half-open) and its success closes it."""

    def __init__(self, threshold: int = 5, reset_timeout: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.threshold, self.reset_timeout, self.clock = threshold, reset_timeout, clock
        self.failures, self.opened_at, self._trial = 0, None, False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.reset_timeout else "open"

    def allow(self) -> bool:
        with self._lock:
            state = self.state
            if state == "closed":
                return True
            if state == "half-open" and not self._trial:
                self._trial = True
                return True
            return False

    def success(self) -> None:
        with self._lock:
            self.failures, self.opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            self._trial = False
            if self.opened_at is not None or self.failures >= self.threshold:
                self.opened_at = self.clock()

    def retry_in(self) -> float:
        return 0.0 if self.opened_at is None else max(0.0, self.reset_timeout - (self.clock() - self.opened_at))


class TokenCache:
    """Tokens per (base URL, username), shared by every client of the process.
    One authentication at a time per credential (others wait for its token)."""

    def __init__(self, lifetime: float = TOKEN_LIFETIME, margin: float = RENEW_MARGIN,
                 clock: Callable[[], float] = time.monotonic):
        self.lifetime, self.margin, self.clock = lifetime, margin, clock
        self._tokens: dict[tuple, tuple[str, float]] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, key: tuple) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: tuple) -> str | None:
        entry = self._tokens.get(key)
        if entry is None or self.clock() >= entry[1] - self.margin:
            return None
        return entry[0]

    def put(self, key: tuple, token: str) -> None:
        self._tokens[key] = (token, self.clock() + self.lifetime)

    def drop(self, key: tuple, token: str) -> None:
        if self._tokens.get(key, (None,))[0] == token:
            self._tokens.pop(key, None)


class CreditsafeClient:
    """One credential against one base URL (``.../v1``)."""

    def __init__(self, base_url: str, username: str, password: str, *, tokens: TokenCache | None = None,
                 breaker: CircuitBreaker | None = None, session: urllib3.PoolManager | None = None,
                 connect_timeout: float = 2.0, timeout: float = 8.0, retries: int = 2, backoff: float = 0.3):
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.tokens = tokens or TokenCache()
        self.breaker = breaker or CircuitBreaker()
        self.session = session or _session(self.base_url)
        self.timeout = (connect_timeout, timeout)
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=timeout)
        self.retries, self.backoff = retries, backoff
        self.key = (self.base_url, username)

    # -- transport ---------------------------------------------------------
    def token(self) -> str:
        token = self.tokens.get(self.key)
        if token:
            return token
        with self.tokens.lock(self.key):
            token = self.tokens.get(self.key)  # someone else may have just renewed it
            if token:
                return token
            body = self._call("POST", "/authenticate", json={"username": self.username, "password": self.password},
                              auth=False)
            token = body.get("token") if isinstance(body, dict) else None
            if not token:
                raise CreditsafeUnavailable("Creditsafe's /authenticate answered without a token")
            self.tokens.put(self.key, token)
            return token

    def request(self, method: str, path: str, *, params=None, json=None, files=None, ok_statuses=()):
        """The decoded body. A 401 renews the token once. ``ok_statuses`` are
        4xx statuses returned as ``(status, body)`` instead of raised."""
        token = self.token()
        try:
            return self._call(method, path, params=params, json=json, files=files, token=token,
                              ok_statuses=ok_statuses)
        except _TokenRejected:
            self.tokens.drop(self.key, token)
            try:
                return self._call(method, path, params=params, json=json, files=files, token=self.token(),
                                  ok_statuses=ok_statuses)
            except _TokenRejected:
                raise AuthenticationFailed("Creditsafe rejected a fresh token twice") from None

    @property
    def circuit_open(self) -> bool:
        """True while the breaker skips calls (Creditsafe was failing): batch work waits instead of trying."""
        return self.breaker.state == "open"

    def _call(self, method, path, *, params=None, json=None, files=None, token=None, auth=True, ok_statuses=()):
        if not self.breaker.allow():
            raise CreditsafeUnavailable(
                f"Creditsafe is not answering; skipped, trying again in {self.breaker.retry_in():.0f} s")
        try:
            result = self._attempts(method, path, params, json, files, token, auth, ok_statuses)
        except CreditsafeUnavailable:
            self.breaker.failure()
            raise
        self.breaker.success()
        return result

    def _attempts(self, method, path, params, json, files, token, auth, ok_statuses):
        url = f"{self.base_url}{path}"
        if params:
            url += "?" + urlencode(params)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if json is not None:
            data = _json.dumps(json).encode()
            headers["Content-Type"] = "application/json"
        elif files:
            data, headers["Content-Type"] = urllib3.encode_multipart_formdata(files)
        last, last_response = "no answer", None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, last_response))
            last_response = None
            try:
                response = self.session.request(method, url, body=data, headers=headers, timeout=self._timeout,
                                                retries=False, redirect=False)
            except NewConnectionError:
                last = "could not be reached"
                continue
            except _Urllib3Timeout:
                last = f"timed out after {self.timeout[1]:g} s"
                continue
            except (_Urllib3Error, OSError):
                last = "could not be reached"
                continue
            status = response.status
            if status in RETRY_STATUS:
                last, last_response = f"answered HTTP {status}", response
                continue
            body = _body(response)
            if status == 401:
                if not auth:
                    raise AuthenticationFailed("Creditsafe rejected the username or password"
                                               + _detail(body))
                raise _TokenRejected()
            if status in ok_statuses:
                return status, body
            if status >= 400:
                raise RequestRejected(f"Creditsafe refused the request (HTTP {status}{_detail(body)})", status, body)
            if body is None:
                raise CreditsafeUnavailable("Creditsafe sent a body that is not JSON")
            return (status, body) if ok_statuses else body
        raise CreditsafeUnavailable(f"Creditsafe {last}")

    def _delay(self, attempt: int, response) -> float:
        if response is not None and response.headers.get("Retry-After", "").isdigit():
            return min(float(response.headers["Retry-After"]), MAX_RETRY_AFTER)
        return self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random())

    # -- companies -----------------------------------------------------------
    def find_company(self, country: str, reg_no: str) -> dict | None:
        """The company with this registration number, or None (NoResults)."""
        body = self.request("GET", "/companies", params={"countries": country, "regNo": reg_no, "pageSize": 5})
        companies = body.get("companies") if isinstance(body, dict) else None
        if not isinstance(companies, list):
            return None  # the NoResults shape: "companies": {}
        for company in companies:
            if company.get("id") and (company.get("country") or country).upper() == country.upper():
                return company
        return None

    def import_companies(self, portfolio_id: int, safe_numbers: list[str]) -> str:
        """``POST /monitoring/portfolios/{id}/import``: one CSV file adds many companies (duplicates are
        ignored by Creditsafe, so sending a file again is harmless). Creditsafe queues the file: the
        companies appear in the portfolio listing when it has been processed. Returns its status text
        (``"Accepted for processing. Import Id 339523"``)."""
        lines = ["Safe Number"] + [str(n).replace(",", "").replace('"', "") for n in safe_numbers]
        content = ("\r\n".join(lines) + "\r\n").encode()
        body = self.request("POST", f"/monitoring/portfolios/{portfolio_id}/import",
                            files={"importCsv": ("crm-import.csv", content, "text/csv")})
        return str((body or {}).get("status") or "") if isinstance(body, dict) else ""

    def credit_report(self, connect_id: str) -> Rating:
        """Orders a credit report (may be chargeable) and returns its current rating."""
        body = self.request("GET", f"/companies/{connect_id}", params={"language": "en"})
        report = (body or {}).get("report") or {}
        score_box = report.get("creditScore") or {}
        current = score_box.get("currentCreditRating") or (report.get("companySummary") or {}).get("creditRating") or {}
        limit_box = current.get("creditLimit") or {}
        provider = current.get("providerValue") or {}
        return Rating(
            band=_band(current.get("commonValue")),
            score=_number(provider.get("value")),
            limit=_number(limit_box.get("value")),
            currency=limit_box.get("currency"),
            description=current.get("commonDescription") or current.get("providerDescription"),
            rated_at=score_box.get("latestRatingChangeDate") or body.get("dateOfOrder"),
        )

    # -- portfolios ------------------------------------------------------------
    def find_portfolio(self, name: str) -> int | None:
        """The portfolio with this name (the oldest, should two have been made at once)."""
        ids = [int(p["portfolioId"]) for page in self._pages("/monitoring/portfolios", {"searchQuery": name}, 100)
               for p in ((page.get("data") or {}).get("portfolios") or []) if p.get("name") == name]
        return min(ids) if ids else None

    def create_portfolio(self, name: str) -> int:
        body = self.request("POST", "/monitoring/portfolios", json={
            "name": name, "isDefault": False, "emails": [], "emailSubject": None, "emailLanguage": "en",
            "frequency": None})
        return int(body["portfolioId"])

    def ensure_portfolio(self, name: str) -> int:
        found = self.find_portfolio(name)
        if found is not None:
            return found
        self.create_portfolio(name)
        return self.find_portfolio(name)  # two processes racing agree on the oldest

    def add_company(self, portfolio_id: int, connect_id: str, reference: str = "") -> bool:
        """True when added, False when it was there already (409). Unknown ids raise RequestRejected(404)."""
        status, _body = self.request("POST", f"/monitoring/portfolios/{portfolio_id}/companies",
                                     json={"id": connect_id, "personalReference": reference, "freeText": "",
                                           "personalLimit": ""}, ok_statuses=(409,))
        return status != 409

    def remove_company(self, portfolio_id: int, connect_id: str) -> bool:
        """True when removed, False when it was not in the portfolio."""
        status, _body = self.request("DELETE", f"/monitoring/portfolios/{portfolio_id}/companies/{connect_id}",
                                     ok_statuses=(404,))
        return status != 404

    def portfolio_company(self, portfolio_id: int, connect_id: str) -> Rating | None:
        status, body = self.request("GET", f"/monitoring/portfolios/{portfolio_id}/companies/{connect_id}",
                                    ok_statuses=(404,))
        return None if status == 404 else monitored_rating(body)

    def portfolio_companies(self, portfolio_id: int, page_size: int = 1000) -> Iterator[dict]:
        for page in self._pages(f"/monitoring/portfolios/{portfolio_id}/companies", {}, page_size):
            yield from page.get("data") or []

    def notification_events(self, portfolio_id: int, start_date: str | None = None,
                            page_size: int = 100) -> Iterator[list[dict]]:
        """Pages of the portfolio's notification events, oldest first, from ``start_date`` (inclusive)."""
        params = {"sortBy": "eventDate", "sortDir": "asc"}
        if start_date:
            params["startDate"] = start_date
        for page in self._pages(f"/monitoring/portfolios/{portfolio_id}/notificationEvents", params, page_size):
            yield page.get("data") or []

    def _pages(self, path: str, params: dict, page_size: int) -> Iterator[dict]:
        page, seen = 0, 0
        while True:
            body = self.request("GET", path, params={**params, "page": page, "pageSize": page_size})
            yield body
            nxt = (body.get("paging") or {}).get("next")
            seen += 1
            if nxt is None or int(nxt) <= page or seen > 100_000:
                return
            page = int(nxt)


class _TokenRejected(Exception):
    pass


def monitored_rating(entry: dict) -> Rating:
    """The rating a portfolio listing shows for a company (no report bought)."""
    limit = entry.get("creditLimit")
    return Rating(band=_band(entry.get("ratingCommon")), score=_number(entry.get("ratingLocal")),
                  limit=_number(limit), currency=None, description=None, rated_at=entry.get("dateLastEvent"))


def _band(value) -> str | None:
    value = (value or "").strip().upper() if isinstance(value, str) else None
    return value if value in ("A", "B", "C", "D", "E") else None


def _number(value) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip().replace(" ", "").replace(",", "")
    try:
        return int(float(text))
    except ValueError:
        return None  # "Not Rated", "Credit Limit not applicable"


def _body(response):
    try:
        return _json.loads(response.data) if response.data else None
    except ValueError:
        return None


def _detail(body) -> str:
    if isinstance(body, str):
        return f": {body[:160]}"
    if isinstance(body, dict):
        for key in ("details", "message", "error"):
            if body.get(key):
                return f": {str(body[key])[:160]}"
    return ""


USER_AGENT = "crm-credit-monitor/0.1"


def _session(base_url: str | None = None) -> urllib3.PoolManager:
    """The connection pool (keep-alive) for a base URL: plain urllib3, about half
    the CPU time per call of ``requests``. An ``https_proxy``/``http_proxy`` from
    the environment is honoured (unless ``no_proxy`` covers the host)."""
    ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    kw = {"num_pools": 4, "maxsize": 32, "block": False}
    if ca:
        kw["ca_certs"] = ca
    if base_url:
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        proxy = getproxies().get(parts.scheme)
        if proxy and not proxy_bypass(parts.hostname or ""):
            return urllib3.ProxyManager(proxy, **kw)
    return urllib3.PoolManager(**kw)
