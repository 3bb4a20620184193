"""Import a registry's bulk file into the local index.

    python -m registry_lookup.importer <source> <file> [--database-url URL]

Sources and their files (the registries' real formats):

    brreg-enheter        enheter_alle.json.gz       (GET /enhetsregisteret/api/enheter/lastned)
    brreg-underenheter   underenheter_alle.json.gz  (GET /enhetsregisteret/api/underenheter/lastned)
    brreg                either of the two, told apart by the file name
    companies-house      BasicCompanyDataAsOneFile-YYYY-MM-01.zip (or a part file / bare .csv)
    cvr                  cvr-dump.jsonl.gz: an ES scroll over virksomhed + produktionsenhed, one hit per line
    bolagsverket         bolagsverket_bulkfil.zip (or the bare .txt)

Several files at once: ``python -m registry_lookup.importer all DIR`` imports a
folder laid out as ``devdata`` writes it (or the registries' files under the
same names); ``<source> FILE [FILE ...]`` imports several files of one source.

The database is ``REGISTRY_DATABASE_URL`` (else the SQLite file under
``$CRM_DATA_DIR``); it is migrated first. Rows are upserted by (country,
organisation number); the file is streamed in batches, so memory stays flat.
Big files are parsed in a worker process while this one writes. Into an empty
SQLite index the load is a *fresh load*: the name and parent btrees and the FTS
tables are built once at the end (sorted) rather than row by row.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Iterable

# nameko (imported by service_common) pulls in eventlet, which warns that it is deprecated: known, on purpose.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

from service_common.db import database_url, make_engine
from service_common.migrate import upgrade

from .bulk import READERS, read_batches
from .index import Index

log = logging.getLogger(__name__)

SOURCES = (*READERS, "brreg")
# where devdata (and this README) put each source's files under one folder
LAYOUT = {
    "brreg-enheter": "brreg/enheter_alle.json.gz",
    "brreg-underenheter": "brreg/underenheter_alle.json.gz",
    "companies-house": "companies-house/BasicCompanyData*.zip",
    "cvr": "cvr/cvr-dump.jsonl.gz",
    "bolagsverket": "bolagsverket/bolagsverket_bulkfil.zip",
}
FEED_START = "brreg:enheter"


def resolve(source: str, path: Path) -> str:
    if source == "brreg":
        return "brreg-underenheter" if "underenhet" in path.name.lower() else "brreg-enheter"
    if source not in READERS:
        raise ValueError(f"Unknown source {source!r}; one of: {', '.join(SOURCES)}")
    return source


def import_file(index: Index, source: str, path, batch_size: int = 5000, on_batch=None,
                parallel: bool | None = None, deferred: bool = False) -> int:
    """Stream ``path`` into ``index``; returns the number of entities imported.
    ``parallel``: parse in a worker process (default: for big files).
    ``deferred``: part of a fresh load (see ``import_files``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    source = resolve(source, path)
    if not deferred:
        index.recover()
    count = index.load_rows(read_batches(source, path, batch_size, parallel), on_batch=on_batch, deferred=deferred)
    if source == "brreg-enheter" and index.cursor(FEED_START) is None:
        # Brønnøysund's nightly file: follow the update feed from the day the file was made.
        made = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc) - dt.timedelta(days=1)
        index.set_cursor(FEED_START, "dato:" + made.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    return count


def import_files(index: Index, files: Iterable[tuple[str, Path]], batch_size: int = 5000, on_batch=None,
                 parallel: bool | None = None, on_file=None) -> int:
    """Import several ``(source, path)`` files; returns the number of entities imported.
    Into an empty SQLite index this is one fresh load: secondary btrees and FTS tables
    are built once at the end. ``on_file(source, path, count, seconds)`` after each file;
    ``on_file("index", None, 0, seconds)`` after the final build, if there was one."""
    files = [(resolve(source, Path(path)), Path(path)) for source, path in files]
    for _, path in files:
        if not path.is_file():
            raise FileNotFoundError(path)
    fresh = index.begin_fresh_load()
    total = 0
    try:
        for source, path in files:
            started = time.perf_counter()
            n = import_file(index, source, path, batch_size, on_batch, parallel, deferred=fresh)
            total += n
            if on_file is not None:
                on_file(source, path, n, time.perf_counter() - started)
    finally:
        if fresh:
            started = time.perf_counter()
            index.finish_fresh_load()
            if on_file is not None:
                on_file("index", None, 0, time.perf_counter() - started)
    return total


def layout_files(folder) -> list[tuple[str, Path]]:
    """The ``(source, path)`` files found in ``folder`` (laid out as ``LAYOUT``), in import order."""
    folder = Path(folder)
    found = [(source, p) for source, pattern in LAYOUT.items() for p in sorted(folder.glob(pattern))]
    if not found:
        raise FileNotFoundError(f"No bulk files under {folder} (expected e.g. {LAYOUT['brreg-enheter']})")
    return found


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", choices=(*SOURCES, "all"), help="a source, or 'all' with a folder")
    parser.add_argument("file", type=Path, nargs="+")
    parser.add_argument("--database-url", default=os.environ.get("REGISTRY_DATABASE_URL") or None)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--no-worker", dest="parallel", action="store_const", const=False, default=None,
                        help="parse in this process (default: big files are parsed in a worker process)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.source == "all":
        files = [f for folder in args.file for f in layout_files(folder)]
    else:
        files = [(args.source, f) for f in args.file]
    url = args.database_url or database_url("registry_lookup", "REGISTRY")
    upgrade("registry_lookup", url)
    engine = make_engine(url, pool_size=1)

    def report(source, path, n, took):
        if path is None:
            print(f"built the search structures in {took:.1f} s")
        else:
            print(f"imported {n} entities from {path} in {took:.1f} s ({n / max(took, 1e-9):,.0f}/s)")

    try:
        start = time.perf_counter()
        n = import_files(Index(engine), files, args.batch_size, parallel=args.parallel, on_file=report)
        took = time.perf_counter() - start
        if len(files) > 1:
            print(f"imported {n} entities from {len(files)} files in {took:.1f} s ({n / max(took, 1e-9):,.0f}/s)")
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
