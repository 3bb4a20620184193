"""Benchmark: bulk import throughput and in-service typeahead latency.

    python -m registry_lookup.bench [--entities 100000] [--queries 2000]

``run(entities, queries)`` writes dev bulk files for ``entities`` companies
across the four countries (plus their sub-units), imports them into a fresh
SQLite index in a temporary directory and times:

* ``registry_import``: per-batch latency (5000 rows) and ``rps`` = rows
  imported per second (companies + sub-units; file reading and parsing included);
* ``registry_typeahead_service``: ``lookup.search`` over the index (no RPC
  hop, no registry calls) for realistic 2+ character queries: word prefixes
  of place, trade and family names, two-word prefixes and organisation numbers.
"""
from __future__ import annotations

import argparse
import json
import random
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


def run(entities: int, queries: int) -> list[dict]:
    from service_common.db import make_engine
    from service_common.migrate import upgrade

    from . import clients, devdata, importer, lookup
    from .config import Settings
    from .index import Index
    from .schemas import SearchIn

    per_country = max(1, entities // 4)
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        tmp = Path(tmp)
        gen_started = time.perf_counter()
        files = devdata.write_all(tmp / "files", per_country)
        generate_s = time.perf_counter() - gen_started
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        upgrade("registry_lookup", url)
        engine = make_engine(url, pool_size=2)
        index = Index(engine)
        batches: list[float] = []
        rows = 0

        def on_batch(n, seconds):
            batches.append(seconds * 1000)

        started = time.perf_counter()
        for source, paths in files.items():
            for path in paths:
                rows += importer.import_file(index, source, path, on_batch=on_batch)
        import_s = time.perf_counter() - started
        db_mb = sum(p.stat().st_size for p in tmp.glob("bench.sqlite3*")) / 1e6
        result = [_stats("registry_import", entities, batches, rows / import_s, rows=rows, seconds=round(import_s, 1),
                         generate_seconds=round(generate_s, 1), db_mb=round(db_mb, 1))]

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
                             empty_results=empty))
        registries.close()
        engine.dispose()
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args(argv)
    for line in run(args.entities, args.queries):
        print(json.dumps(line))


if __name__ == "__main__":
    main()
