"""Interface tests of the credit_monitor service.

Real: RabbitMQ (AMQP_URI), the service container, SQLite and PostgreSQL.
Faked: nothing.
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - services run eventlet-patched

import pytest

from credit_monitor.service import DATABASE, MIGRATIONS, CreditMonitorService

pytest_plugins = ["service_common.testing"]


@pytest.fixture
def service_spec():
    return (CreditMonitorService, MIGRATIONS, *DATABASE)
