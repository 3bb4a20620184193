"""Import a registry's bulk file into the local index.

    python -m registry_lookup.importer <source> <file> [--database-url URL]

Sources and their files (the registries' real formats):

    brreg-enheter        enheter_alle.json.gz       (GET /enhetsregisteret/api/enheter/lastned)
    brreg-underenheter   underenheter_alle.json.gz  (GET /enhetsregisteret/api/underenheter/lastned)
    brreg                either of the two, told apart by the file name
    companies-house      BasicCompanyDataAsOneFile-YYYY-MM-01.zip (or a part file / bare .csv)
    cvr                  cvr-dump.jsonl.gz: an ES scroll over virksomhed + produktionsenhed, one hit per line
    bolagsverket         bolagsverket_bulkfil.zip (or the bare .txt)

The database is ``REGISTRY_DATABASE_URL`` (else the SQLite file under
``$CRM_DATA_DIR``); it is migrated first. Rows are upserted by (country,
organisation number); the file is streamed in batches, so memory stays flat.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Callable, Iterator

# nameko (imported by service_common) pulls in eventlet, which warns that it is deprecated: known, on purpose.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

from service_common.db import database_url, make_engine
from service_common.migrate import upgrade

from .index import Index
from .sources import bolagsverket, brreg, companies_house, cvr

log = logging.getLogger(__name__)

READERS: dict[str, Callable[[Path], Iterator[dict]]] = {
    "brreg-enheter": lambda p: brreg.iter_bulk(p, "enheter"),
    "brreg-underenheter": lambda p: brreg.iter_bulk(p, "underenheter"),
    "companies-house": companies_house.iter_bulk,
    "cvr": cvr.iter_bulk,
    "bolagsverket": bolagsverket.iter_bulk,
}
SOURCES = (*READERS, "brreg")
FEED_START = "brreg:enheter"


def resolve(source: str, path: Path) -> str:
    if source == "brreg":
        return "brreg-underenheter" if "underenhet" in path.name.lower() else "brreg-enheter"
    if source not in READERS:
        raise ValueError(f"Unknown source {source!r}; one of: {', '.join(SOURCES)}")
    return source


def import_file(index: Index, source: str, path, batch_size: int = 5000, on_batch=None) -> int:
    """Stream ``path`` into ``index``; returns the number of entities imported."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    source = resolve(source, path)
    count = index.load(READERS[source](path), source="bulk", batch_size=batch_size, on_batch=on_batch)
    if source == "brreg-enheter" and index.cursor(FEED_START) is None:
        # Brønnøysund's nightly file: follow the update feed from the day the file was made.
        made = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc) - dt.timedelta(days=1)
        index.set_cursor(FEED_START, "dato:" + made.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    return count


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", choices=SOURCES)
    parser.add_argument("file", type=Path)
    parser.add_argument("--database-url", default=os.environ.get("REGISTRY_DATABASE_URL") or None)
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    url = args.database_url or database_url("registry_lookup", "REGISTRY")
    upgrade("registry_lookup", url)
    engine = make_engine(url, pool_size=1)
    try:
        start = time.perf_counter()
        n = import_file(Index(engine), args.source, args.file, args.batch_size)
        took = time.perf_counter() - start
        print(f"imported {n} entities from {args.file} in {took:.1f} s ({n / max(took, 1e-9):,.0f}/s)")
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
