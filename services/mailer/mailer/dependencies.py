"""Dependency providers of the mailer (thin shells over plain objects)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from nameko.extensions import DependencyProvider

from .campaigns import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    amqp_uri: str
    instance_id: str  # this container; claims name it, heartbeats keep it alive
    crm_timeout: float


class RuntimeProvider(DependencyProvider):
    def setup(self):
        cfg = self.container.config
        self.runtime = Runtime(settings=Settings.from_mapping(cfg), amqp_uri=cfg["AMQP_URI"],
                               instance_id=uuid.uuid4().hex, crm_timeout=float(cfg.get("MAILER_CRM_TIMEOUT") or 10.0))

    def get_dependency(self, worker_ctx):
        return self.runtime
