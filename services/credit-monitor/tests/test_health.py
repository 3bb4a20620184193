import pytest
from nameko.exceptions import RemoteError

from credit_monitor.service import CreditMonitorService


def test_health_answers_over_rabbitmq_and_touches_the_database(running_service, rpc_factory):
    reply = rpc_factory().credit_monitor.health()
    assert reply["status"] == "ok"
    assert reply["service"] == "credit_monitor"
    assert reply["db_ms"] >= 0


def test_health_reports_an_unreachable_database_as_an_error(container_factory_real, rpc_factory):
    container = container_factory_real(
        CreditMonitorService, {"CREDIT_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    )
    container.start()
    with pytest.raises(RemoteError) as info:
        rpc_factory(timeout=15).credit_monitor.health()
    # the database driver's own refusal: not just any remote failure
    assert info.value.exc_type == "OperationalError", info.value.exc_type
    assert "psycopg2.OperationalError" in info.value.value and "Connection refused" in info.value.value, info.value.value
