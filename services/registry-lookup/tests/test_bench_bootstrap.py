"""The benchmark's contract and the first-start bootstrap (real files, real database)."""
from registry_lookup import bench
from registry_lookup.index import Index
from registry_lookup.service import bootstrap
from service_common.db import make_engine


def test_bench_reports_import_and_typeahead_figures():
    out = bench.run(entities=400, queries=60)
    assert [r["name"] for r in out] == ["registry_import", "registry_typeahead_service"]
    imp, typeahead = out
    assert imp["n"] == 400 and imp["rows"] >= 400 and imp["rps"] > 0
    assert typeahead["n"] == 60 and 0 < typeahead["p50_ms"] <= typeahead["p95_ms"] <= typeahead["p99_ms"]
    assert typeahead["empty_results"] < 60


def test_bootstrap_fills_an_empty_index_once(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REGISTRY_DEV_ENTITIES", "50")
    monkeypatch.delenv("REGISTRY_BOOTSTRAP", raising=False)
    bootstrap(database_url)
    engine = make_engine(database_url, pool_size=1)
    index = Index(engine)
    try:
        assert [index.count(c) for c in ("NO", "SE", "DK", "GB")] == [50, 50, 50, 50]
        assert (tmp_path / "registry" / "brreg" / "enheter_alle.json.gz").is_file()
        total = index.count(kind=None)
        bootstrap(database_url)  # not empty any more: nothing happens
        assert index.count(kind=None) == total
    finally:
        engine.dispose()


def test_bootstrap_can_be_turned_off(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REGISTRY_BOOTSTRAP", "0")
    bootstrap(database_url)
    engine = make_engine(database_url, pool_size=1)
    try:
        assert Index(engine).count(kind=None) == 0
    finally:
        engine.dispose()
