"""Tests of the registry_lookup service.

Real: RabbitMQ (AMQP_URI), the service container, SQLite and PostgreSQL, the
parsers on the registries' published samples (REGISTRY_SAMPLES, default
/work/shared/reference/registry-samples), and real HTTP: the clients talk to
the stand-ins (``registry_lookup.standins``), a threaded werkzeug server
started in this process on a free port, which speaks each registry's API and
misbehaves when a path asks it to (``/_fault/<mode>/...``).
Faked: nothing. (The stand-ins stand in for the registries themselves.)
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - services run eventlet-patched

import os
from pathlib import Path

import pytest

from registry_lookup import clients, standins
from registry_lookup.config import Settings
from registry_lookup.index import Index
from registry_lookup.service import DATABASE, MIGRATIONS, RegistryLookupService
from service_common.db import make_engine

pytest_plugins = ["service_common.testing"]

STANDIN_COMPANIES = 300  # per country; the dev index in these tests holds the first 200


@pytest.fixture
def service_spec():
    return (RegistryLookupService, MIGRATIONS, *DATABASE)


@pytest.fixture(scope="session")
def samples() -> Path:
    # shared/ lies beside the checkout (developers and CI alike)
    beside = Path(__file__).resolve().parents[4] / "shared" / "reference" / "registry-samples"
    path = Path(os.environ.get("REGISTRY_SAMPLES") or beside)
    if not path.is_dir():  # a missing checkout of shared/ is a broken CI setup, not a reason to skip
        pytest.fail(f"registry samples not found at {path}: check out shared/ beside this repository "
                    "or set REGISTRY_SAMPLES")
    return path


@pytest.fixture(scope="session")
def standin_data():
    return standins.Data(STANDIN_COMPANIES, seed=1)


@pytest.fixture(scope="session")
def standin_server(standin_data):
    app = standins.Standins(standin_data)
    server = standins.serve(app)
    server.app_ = app
    yield server
    server.shutdown()


@pytest.fixture
def standin_app(standin_server):
    standin_server.app_.requests.clear()
    return standin_server.app_


def standin_config(server, faults: dict | None = None, **extra) -> dict:
    """Container config / settings mapping pointing each registry at the stand-ins;
    ``faults={"DK": "500"}`` makes that registry misbehave."""
    base = f"http://127.0.0.1:{server.port}"
    faults = faults or {}

    def url(country, path):
        return base + (f"/_fault/{faults[country]}" if country in faults else "") + path

    return {
        "REGISTRY_BRREG_URL": url("NO", "/brreg/enhetsregisteret/api"),
        "REGISTRY_CH_URL": url("GB", "/ch"),
        "REGISTRY_CVR_URL": url("DK", "/cvr/cvr-permanent"),
        "REGISTRY_BOLAGSVERKET_URL": url("SE", "/bolagsverket/vardefulla-datamangder/v1"),
        "REGISTRY_BOLAGSVERKET_TOKEN_URL": base + "/bolagsverket/oauth2/token",
        "REGISTRY_HTTP_TIMEOUT": "1",
        "REGISTRY_HTTP_RETRIES": "1",
        **extra,
    }


@pytest.fixture
def make_registries(standin_server):
    made = []

    def make(faults=None, **extra):
        settings = Settings.load(standin_config(standin_server, faults, **extra), environ={})
        registries = clients.build(settings)
        made.append(registries)
        return registries

    yield make
    for r in made:
        r.close()


@pytest.fixture
def index(database_url):
    engine = make_engine(database_url, pool_size=4)
    yield Index(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def dev_files(tmp_path_factory):
    from registry_lookup import devdata

    return devdata.write_all(tmp_path_factory.mktemp("devdata"), per_country=200, seed=1)


@pytest.fixture
def loaded_index(index, dev_files):
    from registry_lookup import importer

    for source, paths in dev_files.items():
        for path in paths:
            importer.import_file(index, source, path)
    return index
