"""Interface tests of the registry_lookup service.

Real: RabbitMQ (AMQP_URI), the service container, SQLite and PostgreSQL.
Faked: nothing.
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - services run eventlet-patched

import pytest

from registry_lookup.service import DATABASE, MIGRATIONS, RegistryLookupService

pytest_plugins = ["service_common.testing"]


@pytest.fixture
def service_spec():
    return (RegistryLookupService, MIGRATIONS, *DATABASE)
