"""Interface tests of the export service.

Real: RabbitMQ (AMQP_URI), the service container, SQLite and PostgreSQL.
Faked: nothing.
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - services run eventlet-patched

import pytest

from export.service import DATABASE, MIGRATIONS, ExportService

pytest_plugins = ["service_common.testing"]


@pytest.fixture
def service_spec():
    return (ExportService, MIGRATIONS, *DATABASE)
