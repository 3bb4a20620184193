"""The registry_lookup nameko service: RPC entrypoints, each a few lines.
The API (request and response of every method, errors) is in the README."""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from nameko.rpc import rpc
from nameko.timer import timer

from service_common.context import CallerProvider
from service_common.db import Database, data_dir, make_engine, ping
from service_common.validation import validate

from . import lookup
from .dependencies import RegistryClients
from .exceptions import EXPECTED, SourceUnavailable
from .index import Index
from .schemas import CompanyRef, ParentRef, SearchIn

DATABASE = ("registry_lookup", "REGISTRY")
MIGRATIONS = "registry_lookup"
FEED_INTERVAL = float(os.environ.get("REGISTRY_FEED_INTERVAL", "900"))  # seconds; 0 turns the feed off
log = logging.getLogger(__name__)


def bootstrap(url: str) -> None:
    """First start with an empty index: write dev bulk files (REGISTRY_DEV_ENTITIES
    per country, default 20000) under $CRM_DATA_DIR/registry and import them.
    REGISTRY_BOOTSTRAP=0 skips this."""
    if os.environ.get("REGISTRY_BOOTSTRAP", "1") == "0":
        return
    from . import devdata, importer

    engine = make_engine(url, pool_size=1)
    try:
        index = Index(engine)
        if index.count(kind=None) > 0:
            return
        per_country = int(os.environ.get("REGISTRY_DEV_ENTITIES", "20000"))
        start = time.perf_counter()
        files = devdata.write_all(Path(data_dir()) / "registry", per_country)
        total = importer.import_files(index, [(source, path) for source, paths in files.items() for path in paths])
        log.info("registry index bootstrapped with %d dev entities in %.1f s", total, time.perf_counter() - start)
    finally:
        engine.dispose()


class RegistryLookupService:
    name = "registry_lookup"

    db = Database(*DATABASE)
    registries = RegistryClients()
    caller = CallerProvider()

    @property
    def index(self) -> Index:
        return Index(self.db.engine)

    @rpc(expected_exceptions=EXPECTED)
    def health(self):
        """-> {"status": "ok", "service": "registry_lookup", "db_ms": float}"""
        return {"status": "ok", "service": self.name, "db_ms": round(ping(self.db.engine), 3)}

    @rpc(expected_exceptions=EXPECTED)
    def search(self, query):
        self.caller.require_any()
        return lookup.search(self.index, self.registries, validate(SearchIn, query))

    @rpc(expected_exceptions=EXPECTED)
    def get(self, ref):
        self.caller.require_any()
        ref = validate(CompanyRef, ref)
        return lookup.get(self.index, self.registries, ref.country, ref.org_number)

    @rpc(expected_exceptions=EXPECTED)
    def subunits(self, ref):
        self.caller.require_any()
        ref = validate(ParentRef, ref)
        return lookup.subunits(self.index, self.registries, ref.country, ref.org_number)

    @timer(interval=FEED_INTERVAL or 10**9)
    def follow_brreg_feed(self):
        if not FEED_INTERVAL:
            return
        try:
            result = lookup.sync_brreg(self.index, self.registries)
            log.info("Brønnøysund update feed: %(applied)d units updated, cursor %(cursor)s", result)
        except SourceUnavailable as exc:
            log.warning("Brønnøysund update feed skipped: %s", exc.message)
