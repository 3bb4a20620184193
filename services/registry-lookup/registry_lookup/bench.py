"""Benchmark: bulk import throughput and in-service typeahead latency.

    python -m registry_lookup.bench [--entities 100000] [--queries 2000] [--data-dir DIR [--reimport]]

``run(entities, queries)`` writes dev bulk files for ``entities`` companies
across the four countries (plus their sub-units), imports them into a fresh
SQLite index and times:

* ``registry_import``: ``rps`` = entities (companies + sub-units, the index's
  rows) imported per second, file reading and parsing included, end to end
  (the final build of the search structures included); per-batch latency
  (5000 rows); per source; peak RSS of this process during the import and of
  the parse worker;
* ``registry_typeahead_service``: ``lookup.search`` over the index (no RPC
  hop, no registry calls) for realistic 2+ character queries: word prefixes
  of place, trade and family names, two-word prefixes and organisation-number
  prefixes, across one or all four countries.

Without ``--data-dir`` everything lives in a temporary directory, deleted after.
With ``--data-dir DIR`` the files (``DIR/files``) and the database
(``DIR/bench.sqlite3``) are kept and reused by the next run of the same size:
files are generated only when missing, the import is skipped when the database
holds a complete import (its figures are reported again, ``"reused": true``);
``--reimport`` imports again into a new database.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

# nameko pulls in eventlet, which warns that it is deprecated: known, on purpose.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")


def _stats(name: str, n: int, samples_ms: list[float], rps: float, **extra) -> dict:
    ordered = sorted(samples_ms)

    def pct(p):
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3) if ordered else None

    return {"name": name, "n": n, "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "mean_ms": round(statistics.fmean(ordered), 3) if ordered else None, "rps": round(rps, 1), **extra}


def queries_for(n: int, per_country: int, seed: int = 7) -> list[tuple[str, list[str]]]:
    from . import devdata
    from .text import words

    rng = random.Random(seed)
    vocab = sorted({w for c in ("NO", "SE", "DK", "GB") for w in words(" ".join(
        devdata.PLACES[c] + devdata.SURNAMES[c] + [t[1][devdata.LANG[c]] for t in devdata.TRADES])) if len(w) >= 2})
    sample = {c: list(devdata.companies(c, min(per_country, 2000))) for c in ("NO", "SE", "DK", "GB")}
    numbers = {c: [x["org_number"] for x in sample[c]] for c in sample}
    names = [words(x["name"]) for c in sample for x in sample[c]]
    out = []
    for _ in range(n):
        roll = rng.random()
        countries = ["NO", "SE", "DK", "GB"] if rng.random() < 0.7 else [rng.choice(["NO", "SE", "DK", "GB"])]
        if roll < 0.55:
            w = rng.choice(vocab)
            q = w[:rng.randint(2, max(2, min(6, len(w))))]
        elif roll < 0.85:  # a name's first word and the start of another: "ostfold byg"
            ws = rng.choice([n for n in rng.sample(names, 5) if len(n) > 1] or [["bygg", "as"]])
            a, b = ws[0], rng.choice(ws[1:])
            q = f"{a} {b[:rng.randint(1, max(1, min(4, len(b))))]}"
        else:
            c = rng.choice(countries)
            number = rng.choice(numbers[c])
            q = number[:rng.randint(4, len(number))]
        out.append((q, countries))
    return out


def _dataset(folder: Path, per_country: int, seed: int, workers: int) -> tuple[dict[str, list[Path]], float | None]:
    """The dev files for ``per_country`` under ``folder``: reused when its manifest matches."""
    from . import devdata

    manifest = folder / "dataset.json"
    want = {"per_country": per_country, "seed": seed}
    if manifest.is_file():
        meta = json.loads(manifest.read_text())
        files = {source: [Path(p) for p in paths] for source, paths in meta.get("files", {}).items()}
        if {k: meta.get(k) for k in want} == want and files and all(p.is_file() for ps in files.values() for p in ps):
            return files, None
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    files = devdata.write_all(folder, per_country, seed, workers=workers)
    took = time.perf_counter() - started
    manifest.write_text(json.dumps({**want, "generate_seconds": round(took, 1),
                                    "files": {s: [str(p) for p in ps] for s, ps in files.items()}}))
    return files, took


def _import(index, files: dict[str, list[Path]]) -> dict:
    from . import bulk, importer

    batches: list[float] = []
    per_source: dict[str, dict] = {}

    def on_batch(n, seconds):
        batches.append(seconds * 1000)

    def on_file(source, path, n, seconds):
        if path is None:
            per_source["index_build_seconds"] = round(seconds, 1)
            return
        per_source[source] = {"rows": n, "seconds": round(seconds, 1), "rps": round(n / max(seconds, 1e-9), 1)}

    bulk.PEAK_RSS.clear()
    bulk.peak_rss_mb(reset=True)
    started = time.perf_counter()
    rows = importer.import_files(index, [(s, p) for s, ps in files.items() for p in ps], on_batch=on_batch,
                                 on_file=on_file)
    seconds = time.perf_counter() - started
    build = per_source.pop("index_build_seconds", None)
    return {"rows": rows, "seconds": seconds, "batches": batches, "per_source": per_source,
            "index_build_seconds": build, "peak_rss_mb": round(bulk.peak_rss_mb(), 1),
            "worker_peak_rss_mb": bulk.PEAK_RSS.get("worker_mb")}


def run(entities: int, queries: int, data_dir: str | Path | None = None, reimport: bool = False,
        seed: int = 1, workers: int = 2) -> list[dict]:
    """[registry_import, registry_typeahead_service] figures (see the module doc)."""
    from service_common.db import make_engine
    from service_common.migrate import upgrade

    from . import clients, lookup
    from .config import Settings
    from .index import Index
    from .schemas import SearchIn

    per_country = max(1, entities // 4)
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="registry-bench-")
        data_dir = tmp.name
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        files, generate_s = _dataset(folder / "files", per_country, seed, workers)
        db = folder / "bench.sqlite3"
        done = folder / "import.json"
        url = f"sqlite:///{db}"
        reuse = not reimport and done.is_file() and db.is_file() and \
            json.loads(done.read_text()).get("per_country") == per_country
        if reuse:
            imported = json.loads(done.read_text())["result"]
            imported["reused"] = True
        else:
            done.unlink(missing_ok=True)
            for p in folder.glob("bench.sqlite3*"):
                p.unlink()
            upgrade("registry_lookup", url)
        engine = make_engine(url, pool_size=2)
        index = Index(engine)
        try:
            if not reuse:
                r = _import(index, files)
                db_mb = sum(p.stat().st_size for p in folder.glob("bench.sqlite3*")) / 1e6
                imported = _stats("registry_import", entities, r["batches"], r["rows"] / r["seconds"],
                                  rows=r["rows"], seconds=round(r["seconds"], 1),
                                  companies_per_s=round(per_country * 4 / r["seconds"], 1),
                                  per_source=r["per_source"], index_build_seconds=r["index_build_seconds"],
                                  peak_rss_mb=r["peak_rss_mb"], worker_peak_rss_mb=r["worker_peak_rss_mb"],
                                  generate_seconds=None if generate_s is None else round(generate_s, 1),
                                  db_mb=round(db_mb, 1))
                done.write_text(json.dumps({"per_country": per_country, "result": imported}))
            result = [imported]

            registries = clients.build(Settings.load({"REGISTRY_SEARCH": "index"}, environ={}))
            qs = queries_for(queries, per_country)
            for q, countries in qs[:20]:  # warm the page cache
                lookup.search(index, registries, SearchIn(q=q, countries=countries, limit=10))
            latencies, empty = [], 0
            started = time.perf_counter()
            for q, countries in qs:
                t = time.perf_counter()
                out = lookup.search(index, registries, SearchIn(q=q, countries=countries, limit=10))
                latencies.append((time.perf_counter() - t) * 1000)
                empty += not out["items"]
            took = time.perf_counter() - started
            result.append(_stats("registry_typeahead_service", len(qs), latencies, len(qs) / took, entities=entities,
                                 empty_results=empty, max_ms=round(max(latencies), 3) if latencies else None,
                                 db_mb=round(sum(p.stat().st_size for p in folder.glob("bench.sqlite3*")) / 1e6, 1)))
            registries.close()
        finally:
            engine.dispose()
    finally:
        if tmp is not None:
            tmp.cleanup()
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100000, help="companies, across the four countries")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--data-dir", help="keep (and reuse) the files and the database here")
    parser.add_argument("--reimport", action="store_true", help="with --data-dir: import again even if done")
    parser.add_argument("--workers", type=int, default=2, help="processes writing the dev files")
    args = parser.parse_args(argv)
    for line in run(args.entities, args.queries, args.data_dir, args.reimport, workers=args.workers):
        print(json.dumps(line))


if __name__ == "__main__":
    main()
