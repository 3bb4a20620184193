"""The credit_monitor service over real RabbitMQ and a real database, against the stand-in."""

import pytest
from nameko.events import event_handler
from nameko.exceptions import RemoteError
from sqlalchemy import func, select

from credit_monitor.models import MonitoredCompany, ProcessedEvent, RatingHistory, TenantSettings
from conftest import wait_for
from helpers import known_numbers, unknown_number

RECEIVED = []


class RatingCollector:
    """Stands where the crm listens for rating_changed."""

    name = "credit_test_collector"

    @event_handler("credit_monitor", "rating_changed")
    def on_rating(self, payload):
        RECEIVED.append(payload)


@pytest.fixture
def collector(container_factory_real, rabbit_uri):
    from kombu import Connection

    with Connection(rabbit_uri) as conn:  # events left from an earlier test's services
        try:
            conn.default_channel.queue_purge("evt-credit_monitor-rating_changed--credit_test_collector.on_rating")
        except Exception:
            pass
    RECEIVED.clear()
    container = container_factory_real(RatingCollector)
    container.start()
    return RECEIVED


def card(rpc_factory, tenant_id, company_id):
    return rpc_factory(tenant_id=tenant_id, user_id=1).credit_monitor.get_company(company_id)


def active(rpc_factory, tenant_id, company_id):
    view = card(rpc_factory, tenant_id, company_id)
    return view if view["status"] == "active" else None


def test_an_identified_company_is_enrolled_with_its_first_rating(credit_service, collector, identify, rpc_factory,
                                                                creditsafe):
    credit_service()
    reg = known_numbers("NO", 1)[0]
    identify(1, 101, "NO", reg)
    view = wait_for(lambda: active(rpc_factory, 1, 101))
    c = creditsafe.state.company("NO", reg)
    assert view["connect_id"] == f"NO-X-{reg}"
    assert view["rating"]["band"] == c.band and view["rating"]["score"] == c.score
    assert view["rating"]["currency"] == "NOK" and view["rating"]["description"]
    assert [h["score"] for h in view["history"]] == [c.score]
    stats = creditsafe.control("stats")
    assert stats["portfolios"] and list(stats["portfolios"].values()) == [1]
    first = wait_for(lambda: RECEIVED[:1])[0]
    assert first["tenant_id"] == 1 and first["company_id"] == 101 and first["changed"] is False
    assert first["band"] == c.band and first["event_id"]


def test_enrolment_is_idempotent_under_redelivery(credit_service, identify, rpc_factory, creditsafe, engine):
    credit_service()
    reg = known_numbers("SE", 1)[0]
    payload = identify(1, 7, "SE", reg)
    wait_for(lambda: active(rpc_factory, 1, 7))
    identify(1, 7, "SE", reg, event_id=payload["event_id"])  # the same event again
    identify(1, 7, "SE", reg)  # and a new event with the same facts
    rpc_factory(tenant_id=1, user_id=1).credit_monitor.health()
    wait_for(lambda: creditsafe.control("stats")["requests"].get("GET /v1/companies") == 1, timeout=3)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(MonitoredCompany)) == 1
        assert conn.scalar(select(func.count()).select_from(RatingHistory)) == 1


def test_a_number_creditsafe_does_not_know_says_so(credit_service, identify, rpc_factory):
    credit_service()
    identify(1, 9, "NO", unknown_number("NO"))
    view = wait_for(lambda: (v := card(rpc_factory, 1, 9))["status"] == "unknown" and v)
    assert "does not know" in view["status_text"] and view["rating"] is None


def test_rating_changes_are_polled_every_page_and_each_event_handled_once(credit_service, collector, identify,
                                                                          rpc_factory, creditsafe, engine):
    credit_service()
    regs = known_numbers("DK", 4)
    for i, reg in enumerate(regs, start=1):
        identify(1, i, "DK", reg)
    for i in range(1, 5):
        wait_for(lambda: active(rpc_factory, 1, i))
    wait_for(lambda: len(RECEIVED) >= 4)
    creditsafe.control("ratings", {"changes": [{"country": "DK", "regNo": r, "score": 12 + n}
                                               for n, r in enumerate(regs)]})
    proxy = rpc_factory(tenant_id=1, user_id=1).credit_monitor
    result = proxy.poll_now()
    assert result["new"] == result["events"] >= 4 and result["changed"] == 4
    pages = creditsafe.control("stats")["requests"]["GET /v1/monitoring/portfolios/{id}/notificationEvents"]
    assert pages == -(-result["events"] // 7)  # page size 7 in the tests: every page read
    view = proxy.get_company(1)
    assert view["rating"]["score"] == 12 and view["rating"]["band"] == "E"
    assert [h["score"] for h in view["history"]][-1] == 12 and len(view["history"]) == 2
    wait_for(lambda: {p["company_id"] for p in RECEIVED if p["changed"]} == {1, 2, 3, 4})
    changed = [p for p in RECEIVED if p["changed"]]
    assert len({p["event_id"] for p in changed}) == 4
    assert all(p["previous"]["score"] is not None and p["creditsafe_event_ids"] for p in changed)
    # the same events read again (checkpoint is inclusive; and a forgotten checkpoint) are not handled twice
    assert proxy.poll_now()["new"] == 0
    with engine.begin() as conn:
        conn.execute(TenantSettings.__table__.update().values(checkpoint=None))
    again = proxy.poll_now()
    assert again["events"] >= 4 and again["new"] == 0 and again["changed"] == 0
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(RatingHistory)) == 8
        assert conn.scalar(select(func.count()).select_from(ProcessedEvent)) == result["events"]


def test_enrolment_while_the_service_is_down_is_delivered_when_it_is_back(credit_service, identify, rpc_factory):
    container = credit_service()
    container.stop()  # its durable queue stays on the broker
    reg = known_numbers("GB", 1)[0]
    identify(3, 55, "GB", reg)
    credit_service()
    view = wait_for(lambda: active(rpc_factory, 3, 55))
    assert view["connect_id"] == f"GB-0-{reg}"


def test_creditsafe_down_leaves_it_pending_and_the_timerless_poll_enrols_it_later(credit_service, identify,
                                                                                 rpc_factory, creditsafe):
    credit_service()
    creditsafe.fault("down")
    identify(1, 77, "NO", known_numbers("NO", 1)[0])
    view = wait_for(lambda: (v := card(rpc_factory, 1, 77))["last_error"] and v)
    assert view["status"] == "pending" and "503" in view["last_error"]
    creditsafe.fault(None)
    # a circuit may be open for a while; the poll retries the waiting enrolments
    wait_for(lambda: rpc_factory(tenant_id=1, user_id=1).credit_monitor.poll_now() is not None and active(rpc_factory, 1, 77),
             timeout=40, interval=1)


def test_check_now_shows_could_not_update_when_creditsafe_is_down(credit_service, identify, rpc_factory, creditsafe):
    credit_service()
    reg = known_numbers("SE", 1)[0]
    identify(1, 5, "SE", reg)
    before = wait_for(lambda: active(rpc_factory, 1, 5))
    proxy = rpc_factory(tenant_id=1, user_id=1).credit_monitor
    creditsafe.control("rating", {"country": "SE", "regNo": reg, "score": 90})
    fresh = proxy.check_now(5)
    assert fresh["rating"]["score"] == 90 and fresh["rating"]["band"] == "A" and fresh["last_error"] is None
    creditsafe.fault("slow", seconds=4)
    stale = proxy.check_now(5)
    assert stale["rating"]["score"] == 90 and stale["last_error"].startswith("Could not update")
    assert before["rating"]["score"] != 90


def test_stop_and_start_monitoring_keep_the_history(credit_service, identify, rpc_factory, creditsafe):
    credit_service()
    identify(1, 8, "NO", known_numbers("NO", 1)[0])
    wait_for(lambda: active(rpc_factory, 1, 8))
    proxy = rpc_factory(tenant_id=1, user_id=1).credit_monitor
    stopped = proxy.stop_monitoring(8)
    assert stopped["status"] == "stopped" and len(stopped["history"]) == 1
    assert list(creditsafe.control("stats")["portfolios"].values()) == [0]
    started = proxy.start_monitoring(8)
    assert started["status"] == "active" and len(started["history"]) >= 1
    assert list(creditsafe.control("stats")["portfolios"].values()) == [1]


def test_another_tenants_companies_are_never_visible(credit_service, identify, rpc_factory):
    credit_service()
    identify(1, 31, "NO", known_numbers("NO", 1)[0])
    wait_for(lambda: active(rpc_factory, 1, 31))
    other = rpc_factory(tenant_id=2, user_id=9).credit_monitor
    assert other.get_company(31)["status"] == "none" and other.get_company(31)["rating"] is None
    for method in ("check_now", "stop_monitoring", "start_monitoring"):
        with pytest.raises(RemoteError) as err:
            getattr(other, method)(31)
        assert err.value.exc_type == "NotFound"
    assert other.poll_now()["events"] == 0


def test_settings_store_credentials_encrypted_and_never_show_them(credit_service, rpc_factory, engine, identify):
    credit_service()
    with pytest.raises(RemoteError) as err:
        rpc_factory(tenant_id=4, user_id=2, role="user").credit_monitor.update_settings({"enabled": False})
    assert err.value.exc_type == "Forbidden"
    proxy = rpc_factory(tenant_id=4, user_id=1).credit_monitor
    with pytest.raises(RemoteError) as err:
        proxy.update_settings({"username": "agency-user"})
    assert err.value.exc_type == "ValidationError" and "password" in err.value.value
    out = proxy.update_settings({"username": "agency-user", "password": "s3cret-pass", "enabled": False})
    assert out == {**out, "enabled": False, "username": "agency-user", "has_password": True}
    assert "s3cret-pass" not in str(out) and "password" not in out
    with engine.connect() as conn:
        stored = conn.scalar(select(TenantSettings.password_encrypted).where(TenantSettings.tenant_id == 4))
    assert stored and "s3cret-pass" not in stored
    # off: nothing is sent to Creditsafe, the company waits as "disabled"
    identify(4, 1, "NO", known_numbers("NO", 1)[0])
    view = wait_for(lambda: (v := proxy.get_company(1))["status"] == "disabled" and v)
    assert view["connect_id"] is None
