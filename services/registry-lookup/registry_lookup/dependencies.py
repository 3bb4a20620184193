"""nameko dependency provider of the registry_lookup service: a thin shell
that builds the registry clients from the container's config."""
from __future__ import annotations

from nameko.extensions import DependencyProvider

from .clients import Registries, build
from .config import Settings


class RegistryClients(DependencyProvider):
    """The four registries' API clients (shared by all workers: sessions,
    breakers and the OAuth token live for the container's lifetime)."""

    def setup(self):
        self.settings = Settings.load(self.container.config)
        self.registries: Registries = build(self.settings)

    def stop(self):
        self.registries.close()

    def kill(self):  # pragma: no cover
        self.stop()

    def get_dependency(self, worker_ctx) -> Registries:
        """Domain methods search/get/subunits per country; ``.settings`` is the Settings."""
        return self.registries

