"""A circuit breaker per registry: after ``failure_threshold`` failures in a
row the source is skipped for ``reset_timeout`` seconds, then one trial call
is let through (half-open); its success closes the circuit again."""
from __future__ import annotations

import threading
import time
from typing import Callable


class CircuitBreaker:
    def __init__(self, name: str, failure_threshold: int = 5, reset_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.reset_timeout:
            return "half-open"
        return "open"

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
            self.failures = 0
            self.opened_at = None
            self._trial = False

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            self._trial = False
            if self.opened_at is not None or self.failures >= self.failure_threshold:
                self.opened_at = self.clock()

    def retry_in(self) -> float:
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.reset_timeout - (self.clock() - self.opened_at))
