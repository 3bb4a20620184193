"""What every registry client shares: a requests session with a descriptive
User-Agent, connect/read timeouts, retries with exponential backoff on
transient failures, and a circuit breaker. Every way a registry can fail
ends as ``SourceUnavailable`` with a message a person can act on."""
from __future__ import annotations

import logging
import random
import time

import requests

from .breaker import CircuitBreaker
from .exceptions import SourceUnavailable

log = logging.getLogger(__name__)
RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 2.0


class HttpSource:
    """Base of the registry clients. ``name`` is for messages ("Brønnøysundregistrene")."""

    name = "registry"
    country = ""

    def __init__(self, base_url: str, *, user_agent: str, connect_timeout: float = 2.0, timeout: float = 5.0,
                 retries: int = 2, backoff: float = 0.2, breaker: CircuitBreaker | None = None, auth=None):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, timeout)
        self.retries = retries
        self.backoff = backoff
        self.breaker = breaker or CircuitBreaker(self.name)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept"] = "application/json"
        self.session.auth = auth

    def close(self) -> None:
        self.session.close()

    def _unavailable(self, message: str) -> SourceUnavailable:
        return SourceUnavailable(f"{self.name}: {message}", country=self.country, source=self.name)

    def request_json(self, method: str, path: str, *, not_found=(404,), answers=(), **kwargs):
        """The decoded JSON body, or None when the status is in ``not_found``. A status in
        ``answers`` (Brønnøysund's 410 Gone) is an answer, not an error:
        ``{"http_status": status, "body": <JSON body or None>}``.

        Raises SourceUnavailable for connection errors, timeouts, 5xx/429 after
        retries, rejected credentials, other 4xx, and bodies that are not JSON."""
        if not self.breaker.allow():
            raise self._unavailable(
                f"skipped after repeated failures; trying again in {self.breaker.retry_in():.0f} s")
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            result = self._attempts(method, url, not_found, kwargs, answers)
        except SourceUnavailable as exc:
            if exc.details.get("count_failure", True):
                self.breaker.failure()
            exc.details.pop("count_failure", None)
            raise
        self.breaker.success()
        return result

    def _attempts(self, method, url, not_found, kwargs, answers=()):
        last, last_response = "no answer", None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, last_response))
            last_response = None
            try:
                response = self._send(method, url, **kwargs)
            except requests.Timeout:
                last = f"timed out after {self.timeout[1]:g} s"
                continue
            except requests.ConnectionError as exc:
                last = f"could not connect ({_short(exc)})"
                continue
            except requests.RequestException as exc:
                raise self._unavailable(f"request failed ({_short(exc)})") from None
            status = response.status_code
            if status in not_found:
                return None
            if status in answers:
                try:
                    body = response.json()
                except ValueError:
                    body = None
                return {"http_status": status, "body": body}
            if status in RETRY_STATUS:
                last, last_response = f"answered HTTP {status}{_detail(response)}", response
                continue
            if status in (401, 403):
                raise self._unavailable(f"rejected our credentials (HTTP {status}{_detail(response)})")
            if status >= 400:
                exc = self._unavailable(f"refused the request (HTTP {status}{_detail(response)})")
                exc.details["count_failure"] = False  # our request, not their health
                raise exc
            try:
                return response.json()
            except ValueError:
                kind = response.headers.get("Content-Type", "unknown content").split(";")[0]
                raise self._unavailable(f"sent a body that is not JSON ({kind})") from None
        raise self._unavailable(last)

    def _send(self, method, url, **kwargs) -> requests.Response:
        return self.session.request(method, url, timeout=self.timeout, **kwargs)

    def _delay(self, attempt: int, response) -> float:
        if response is not None and response.headers.get("Retry-After", "").isdigit():
            return min(float(response.headers["Retry-After"]), MAX_RETRY_AFTER)
        return self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random())


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 160 else text[:157] + "..."


def _detail(response: requests.Response) -> str:
    """The registry's own error message, when its body says one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    for key in ("detail", "feilmelding", "error", "message", "title"):
        value = body.get(key)
        if isinstance(value, dict):
            value = value.get("reason") or value.get("type")
        if value:
            return f": {_short(str(value))}"
    return ""
