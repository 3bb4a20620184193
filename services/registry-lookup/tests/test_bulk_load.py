"""The bulk import path: the parse worker process, the fresh load (search structures
built once at the end) and its recovery, the importer's folder mode, the benchmark's
reuse of a kept dataset. Real files, real SQLite and PostgreSQL, a real child process."""
import gzip
import json

import pytest

from registry_lookup import bench, bulk, importer
from registry_lookup.index import COUNTRIES, Index, fts_table


def _rows(source, path, parallel):
    return [r[:11] for batch in bulk.read_batches(source, path, batch_size=70, parallel=parallel) for r in batch]


@pytest.mark.parametrize("source", ["brreg-enheter", "cvr", "companies-house", "bolagsverket"])
def test_the_parse_worker_sends_the_same_rows_as_parsing_in_process(dev_files, source):
    path = dev_files[source][0]
    inline = _rows(source, path, parallel=False)
    assert inline and _rows(source, path, parallel=True) == inline
    assert bulk.PEAK_RSS["worker_mb"] > 0


def test_a_parse_error_in_the_worker_is_raised_in_the_importer(tmp_path):
    broken = tmp_path / "enheter_alle.json.gz"
    with gzip.open(broken, "wt", encoding="utf-8") as f:
        f.write('[{"organisasjonsnummer": "976030788", "navn": "A AS"}, {"organisasjonsnummer": ')
    with pytest.raises(ValueError, match="Malformed or truncated"):
        list(bulk.read_batches("brreg-enheter", broken, parallel=True))


def _bulk_workers() -> list[int]:
    """Pids of this process's live children running ``registry_lookup.bulk`` (zombies excluded)."""
    import os
    from pathlib import Path

    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # state, ppid, ...
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and "registry_lookup.bulk" in cmdline:
            found.append(int(proc.name))
    return found


def test_stopping_early_stops_the_worker(dev_files):
    before = set(_bulk_workers())
    batches = bulk.read_batches("cvr", dev_files["cvr"][0], batch_size=10, parallel=True)
    assert len(next(batches)) == 10
    started = set(_bulk_workers()) - before
    assert len(started) == 1, "the parse did not run in a worker process"
    batches.close()  # the generator's cleanup terminates and reaps the child
    pid = started.pop()
    assert pid not in _bulk_workers(), "the worker is still running (or was not reaped) after close()"


def _search_ids(index, country, ws):
    return sorted(h.item["org_number"] for h in index.search(country, ws, None, 50))


def _a_parent(index):
    with index.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT parent FROM registry_entities WHERE country = 'NO' AND kind = 'sub' "
                                    "LIMIT 1").scalar()


@pytest.fixture
def reference_index(tmp_path, dev_files):
    """The same files loaded the row-by-row way (one import_file each) into another SQLite file."""
    from service_common.db import make_engine
    from service_common.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    upgrade("registry_lookup", url)
    engine = make_engine(url, pool_size=1)
    ref = Index(engine)
    for source, paths in dev_files.items():
        for path in paths:
            importer.import_file(ref, source, path)
    yield ref
    engine.dispose()


def test_a_fresh_load_indexes_like_row_by_row_loading(index, reference_index, dev_files):
    files = [(s, p) for s, ps in dev_files.items() for p in ps]
    seen = []
    total = importer.import_files(index, files, on_file=lambda s, p, n, t: seen.append(s))
    assert total == reference_index.count(kind=None) == index.count(kind=None)
    assert seen[:5] == list(dev_files) and seen[5:] == (["index"] if index.sqlite else [])
    assert index.cursor("index:rebuild") is None
    queries = (("NO", ["ostf"]), ("SE", ["bygg"]), ("DK", ["aps"]), ("GB", ["limited"]), ("GB", ["lon", "s"]))
    for country, ws in queries:
        found = _search_ids(index, country, ws)
        assert found
        if index.sqlite:
            assert found == _search_ids(reference_index, country, ws)
    parent = _a_parent(reference_index)
    assert sorted(u["org_number"] for u in index.subunits("NO", parent)) == \
        sorted(u["org_number"] for u in reference_index.subunits("NO", parent))
    if index.sqlite:
        with index.engine.connect() as conn:
            names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
            assert {"ix_registry_entities_name_key", "ix_registry_entities_parent"} <= names
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    # a second load is incremental: nothing doubles up
    importer.import_files(index, files[:1])
    assert index.count(kind=None) == total
    assert len(_search_ids(index, "NO", ["as"])) == len(set(_search_ids(index, "NO", ["as"])))


def test_a_fresh_load_that_stopped_half_way_is_finished_by_the_next_import(index, dev_files):
    if not index.sqlite:
        pytest.skip("fresh loads are a SQLite path")
    assert index.begin_fresh_load()
    n = index.load_rows(bulk.read_batches("brreg-enheter", dev_files["brreg-enheter"][0]), deferred=True)
    assert n == 200 and index.cursor("index:rebuild") == "pending"
    importer.import_file(index, "cvr", dev_files["cvr"][0])  # recovers first, then loads as usual
    assert index.cursor("index:rebuild") is None
    with index.engine.connect() as conn:
        keys = [r[0] for r in conn.exec_driver_sql(
            "SELECT name_key FROM registry_entities WHERE country = 'NO' AND kind = 'main'")]
        for word in {k.split()[0] for k in keys[:5]}:
            indexed = conn.exec_driver_sql(f"SELECT count(*) FROM {fts_table('NO')} WHERE {fts_table('NO')} MATCH ?",
                                           (f'"{word}"',)).scalar()
            assert indexed == sum(word in k.split() for k in keys) > 0
    assert {h.item["country"] for h in index.search("NO", ["as"], None, 5)} == {"NO"}
    assert {c: index.count(c) for c in COUNTRIES} == {c: 200 if c in ("NO", "DK") else 0 for c in COUNTRIES}


def test_importer_imports_a_whole_folder(tmp_path, dev_files, capsys):
    url = f"sqlite:///{tmp_path / 'all.sqlite3'}"
    folder = dev_files["cvr"][0].parents[1]
    importer.main(["all", str(folder), "--database-url", url, "--no-worker"])
    out = capsys.readouterr().out
    assert out.count("imported") == 6 and "built the search structures" in out


def test_bench_keeps_and_reuses_its_dataset(tmp_path):
    first = bench.run(entities=200, queries=20, data_dir=tmp_path)
    assert first[0]["peak_rss_mb"] > 0 and set(first[0]["per_source"]) == set(importer.LAYOUT)
    assert json.loads((tmp_path / "files" / "dataset.json").read_text())["per_country"] == 50
    again = bench.run(entities=200, queries=20, data_dir=tmp_path)
    assert again[0]["reused"] is True and again[0]["rows"] == first[0]["rows"]
    assert again[1]["n"] == 20
