"""nameko dependency provider: a thin shell building the Creditsafe clients
(token cache, circuit breakers, HTTP sessions shared by every worker)."""
from __future__ import annotations

from nameko.extensions import DependencyProvider

from .config import Settings
from .monitor import Clients


class Creditsafe(DependencyProvider):
    def setup(self):
        self.clients = Clients(Settings.load(self.container.config))

    def get_dependency(self, worker_ctx) -> Clients:
        return self.clients
