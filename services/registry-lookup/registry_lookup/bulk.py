"""Bulk files into index rows: the reader of each source, row building, and a
parse worker (a second process) so that parsing runs beside the database writes.

Light on purpose (no SQLAlchemy, no nameko): the worker process
(``python -m registry_lookup.bulk``) imports only this module and the parsers.
It writes pickled batches of ready row tuples to a pipe; a write blocks while
the reader is still busy with the last batch, so memory stays bounded (one
batch being built, one in the pipe, one being written).
"""
from __future__ import annotations

import os
import pickle
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

import orjson

from .records import city_of
from .sources import bolagsverket, brreg, companies_house, cvr
from .text import name_key

READERS: dict[str, Callable[[Path], Iterator[dict]]] = {
    "brreg-enheter": lambda p: brreg.iter_bulk(p, "enheter"),
    "brreg-underenheter": lambda p: brreg.iter_bulk(p, "underenheter"),
    "companies-house": companies_house.iter_bulk,
    "cvr": cvr.iter_bulk,
    "bolagsverket": bolagsverket.iter_bulk,
}
COLUMNS = ("country", "org_number", "kind", "parent", "name", "name_key", "city", "status", "legal_form",
           "detail", "source", "refreshed_at",
           # migration 0003: what a CRM filters and shows, as columns beside the detail JSON
           "org_number_display", "region", "municipality", "status_text", "legal_form_text", "marketing_protection")
_ROOT = Path(__file__).resolve().parents[1]
PEAK_RSS: dict[str, float] = {}  # {"worker_mb": the largest parse worker's peak RSS so far}, for the benchmark
# files at least this big are parsed in a worker process (below it, starting one costs more than it saves)
PARALLEL_BYTES = 4 << 20
_DEFAULTS = {"kind": "main", "parent": None, "legal_form": None, "legal_form_text": None, "status": "unknown",
             "status_text": None, "org_number_display": None, "region": None, "municipality": None,
             "marketing_protection": None, "missing": None, "missing_reason": None,
             "industry": None, "employees": None, "employees_range": None, "visiting_address": None,
             "postal_address": None, "website": None, "phone": None, "email": None, "registered_on": None}


def encode(e: dict) -> str:
    """The stored ``detail``: compact JSON without empty fields (UTF-8, not ASCII-escaped).
    ``marketing_protection: false`` is kept (the registry said no), as is ``status``."""
    return orjson.dumps({k: v for k, v in e.items() if v is not None and v != []}).decode()


def decode(detail: str | bytes) -> dict:
    e = dict(_DEFAULTS)
    e.update(orjson.loads(detail))
    return e


def row(e: dict, source: str, now: int) -> tuple:
    """One ``registry_entities`` row (``COLUMNS`` order) for entity ``e``."""
    name = e["name"] or ""
    city = city_of(e)
    form = e.get("legal_form")
    return (e["country"], e["org_number"], e["kind"], e.get("parent"), name[:300], name_key(name),
            city[:120] if city else None, e["status"], form[:64] if form else None, encode(e), source, now,
            _cut(e.get("org_number_display"), 40), _cut(e.get("region"), 80), _cut(e.get("municipality"), 80),
            _cut(e.get("status_text"), 200), _cut(e.get("legal_form_text"), 200), e.get("marketing_protection"))


def _cut(value, n: int):
    return value[:n] if isinstance(value, str) else value


def row_batches(entities: Iterable[dict], source: str, batch_size: int, now: int | None = None) -> Iterator[list[tuple]]:
    now = int(time.time()) if now is None else now
    batch = []
    for e in entities:
        batch.append(row(e, source, now))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def read_batches(source: str, path, batch_size: int = 5000, parallel: bool | None = None) -> Iterator[list[tuple]]:
    """Row batches from a bulk file of ``source`` (a key of ``READERS``).
    ``parallel``: parse in a worker process (None: when the file is big enough)."""
    path = Path(path)
    if source not in READERS:
        raise ValueError(f"Unknown source {source!r}")
    if parallel is None:
        parallel = path.stat().st_size >= PARALLEL_BYTES and (os.cpu_count() or 1) > 1
    if not parallel:
        yield from row_batches(READERS[source](path), "bulk", batch_size)
        return
    # A plain child interpreter (``python -m registry_lookup.bulk``), not multiprocessing:
    # it needs nothing from the caller's __main__, and no eventlet or open connections come along.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
    worker = subprocess.Popen([sys.executable, "-m", "registry_lookup.bulk", source, str(path), str(batch_size)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env, bufsize=1 << 20)
    try:
        while True:
            try:
                kind, payload = pickle.load(worker.stdout)
            except EOFError:
                code = worker.wait()
                raise RuntimeError(f"The parse worker for {path.name} stopped (exit code {code})") from None
            if kind == "rows":
                yield payload
            elif kind == "error":
                raise payload
            else:
                PEAK_RSS["worker_mb"] = max(PEAK_RSS.get("worker_mb", 0.0), payload.get("peak_rss_mb") or 0.0)
                break
        worker.wait()
    finally:
        worker.stdout.close()
        if worker.poll() is None:  # the consumer gave up early: stop the worker we started
            worker.terminate()
            worker.wait()


def peak_rss_mb(reset: bool = False) -> float:
    """This process's peak resident memory (MB) since it started or since the last reset
    (Linux ``VmHWM``; elsewhere ``ru_maxrss``, which cannot be reset)."""
    try:
        if reset:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 1 << 20)


def _produce(source: str, path: str, batch_size: int, out) -> None:
    """Worker process: parse ``path``, write pickled ("rows", batch) messages to ``out``, then
    ("done", {"peak_rss_mb"}) (or ("error", exception))."""
    dump = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        for batch in row_batches(READERS[source](Path(path)), "bulk", batch_size):
            dump.dump(("rows", batch))
            dump.clear_memo()
            out.flush()
        dump.dump(("done", {"peak_rss_mb": round(peak_rss_mb(), 1)}))
    except (BrokenPipeError, KeyboardInterrupt):
        return
    except Exception as exc:  # noqa: BLE001 - handed to the reader, which raises it
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - unpicklable: send its text
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        dump.dump(("error", exc))
    try:
        out.flush()
    except BrokenPipeError:
        pass


if __name__ == "__main__":  # the parse worker: python -m registry_lookup.bulk SOURCE PATH BATCH_SIZE
    _produce(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.stdout.buffer)
