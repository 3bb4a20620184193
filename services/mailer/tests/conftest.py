"""Interface tests of the mailer service.

Real: RabbitMQ (AMQP_URI), the service container, SQLite and PostgreSQL.
Faked: nothing.
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - services run eventlet-patched

import pytest

from mailer.service import DATABASE, MIGRATIONS, MailerService

pytest_plugins = ["service_common.testing"]


@pytest.fixture
def service_spec():
    return (MailerService, MIGRATIONS, *DATABASE)
