"""Credit rating on the crm side (issue 10): the enrolment outbox, the
rating_changed handler, the overview column, notifications. Real broker, real DBs."""
import uuid

import pytest
from nameko.events import event_handler
from nameko.standalone.events import event_dispatcher
from sqlalchemy import func, select, text

from crm.models import CrmOutbox, Notification
from conftest import remote_error

IDENTIFIED = []


class CreditMonitorStandIn:
    """Where the credit monitor listens for company_identified."""

    name = "credit_test_listener"

    @event_handler("crm", "company_identified")
    def on_identified(self, payload):
        IDENTIFIED.append(payload)


def wait_for(check, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def listener(container_factory_real, rabbit_uri):
    from kombu import Connection

    for queue in ("evt-crm-company_identified--credit_test_listener.on_identified",
                  "evt-crm-company_identified--credit_monitor.on_company_identified"):
        with Connection(rabbit_uri) as conn:  # this test vhost only: no consumer bound before the test says so
            try:
                conn.default_channel.queue_delete(queue)
            except Exception:
                pass
    IDENTIFIED.clear()

    def start():
        container = container_factory_real(CreditMonitorStandIn)
        container.start()
        return container
    return start


@pytest.fixture
def rating(rabbit_uri):
    dispatch = event_dispatcher({"AMQP_URI": rabbit_uri})

    def send(tenant_id, company_id, band, score, changed=True, event_id=None, rated_at=None, **extra):
        payload = {"event_id": event_id or str(uuid.uuid4()), "tenant_id": tenant_id, "company_id": company_id,
                   "band": band, "score": score, "limit": 250000, "currency": "NOK",
                   "description": "Low Risk", "rated_at": rated_at or "2026-12-01T10:00:00+00:00",
                   "previous": {"band": "A", "score": 80} if changed else None, "changed": changed,
                   "source": "monitoring", **extra}
        dispatch("credit_monitor", "rating_changed", payload)
        return payload
    return send


def pending(engine):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(CrmOutbox).where(CrmOutbox.published_at.is_(None)))


def test_a_new_company_with_a_number_is_published_once_a_consumer_is_there(clients, listener, engine, world):
    # no consumer bound yet: the event is refused by the broker (mandatory) and waits in the outbox
    with engine.connect() as conn:
        conn.execute(text("DELETE FROM crm_outbox"))
        conn.commit()
    created = clients["admin"].create_company({"name": "Rating Test AS", "country": "NO", "org_number": "976030788"})
    clients["admin"].create_company({"name": "No Number AS", "country": "NO"})
    import time

    time.sleep(1.2)  # a few relay ticks
    assert pending(engine) == 1
    listener()  # the credit monitor comes (back)
    got = wait_for(lambda: [p for p in IDENTIFIED if p["company_id"] == created["id"]])
    assert got[0] == {**got[0], "tenant_id": world["a"], "country": "NO", "org_number": "976030788",
                      "name": "Rating Test AS"}
    assert got[0]["event_id"]
    wait_for(lambda: pending(engine) == 0)


def test_a_number_given_later_is_published(clients, listener, engine):
    listener()
    c = clients["admin"].create_company({"name": "Later AS", "country": "SE"})
    clients["admin"].update_company(c["id"], {"org_number": "5560360793"})
    got = wait_for(lambda: [p for p in IDENTIFIED if p["company_id"] == c["id"]])
    assert got[0]["org_number"] == "5560360793" and got[0]["country"] == "SE"


def test_existing_companies_are_queued_by_an_admin(clients, engine, world):
    with engine.connect() as conn:
        conn.execute(text("DELETE FROM crm_outbox"))
        conn.commit()
        expected = conn.execute(text("SELECT count(*) FROM companies WHERE tenant_id = :t AND org_number IS NOT NULL"
                                     " AND country IN ('NO','SE','DK','GB')"), {"t": world["a"]}).scalar()
    assert clients["admin"].credit_enrol_existing() == {"queued": expected}
    assert remote_error(clients["kari"].credit_enrol_existing).exc_type == "Forbidden"


def test_a_rating_change_sets_the_columns_timeline_and_notifies_every_owner(clients, rating, world, engine):
    admin = clients["admin"]
    c = admin.create_company({"name": "Owned AS", "country": "NO", "org_number": "923609016",
                              "owner_ids": [world["admin"], world["kari"]]})
    first = rating(world["a"], c["id"], "B", 62, changed=False, rated_at="2026-11-01T00:00:00+00:00")
    wait_for(lambda: admin.get_company(c["id"])["credit"])
    assert admin.count_unread_notifications() == {"unread": 0}  # the first rating is no change
    event = rating(world["a"], c["id"], "D", 24)
    card = wait_for(lambda: (x := admin.get_company(c["id"]))["credit"]["score"] == 24 and x)
    assert card["credit"] == {**card["credit"], "band": "D", "limit": 250000, "currency": "NOK"}
    rating(world["a"], c["id"], "D", 24, event_id=event["event_id"])  # redelivered
    rating(world["a"], c["id"], "A", 90, event_id=first["event_id"])  # an old event again
    admin.health()
    wait_for(lambda: admin.count_unread_notifications()["unread"] == 1)
    for who in ("admin", "kari"):
        items = clients[who].list_notifications()["items"]
        assert [i["company_id"] for i in items] == [c["id"]]
        assert "B (62) → D (24)" in items[0]["title"] and items[0]["company_name"] == "Owned AS"
        assert items[0]["params"] == {"company": "Owned AS", "old": "B (62)", "new": "D (24)"}  # issue 14
    timeline = admin.company_timeline(c["id"])
    entries = [t for t in timeline if "credit rating" in t["title"].lower()]
    assert len(entries) == 2, timeline
    assert "B (62)" in entries[0]["detail"] and "D (24)" in entries[0]["detail"]
    assert "B (62)" in entries[1]["detail"] and "D (24)" not in entries[1]["detail"]
    assert entries[0]["params"]["changes"] == [{"entity": "credit", "field": "rating", "old": "B (62)", "new": "D (24)"}]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Notification)) == 2


def test_a_rating_event_for_another_tenants_company_changes_nothing(clients, rating, world):
    b_company = clients["b"].list_companies({})["items"][0]["id"]
    rating(world["a"], b_company, "E", 5)  # wrong tenant for that company
    rating(world["b"], b_company, "C", 40)
    wait_for(lambda: clients["b"].get_company(b_company)["credit"])
    assert clients["b"].get_company(b_company)["credit"]["score"] == 40


def test_overview_shows_sorts_and_filters_by_rating(clients, rating, world):
    admin = clients["admin"]
    items = admin.list_companies({"per_page": 200})["items"]
    ids = [i["id"] for i in items[:3]]
    for cid, (band, score) in zip(ids, [("A", 91), ("C", 35), ("E", 12)]):
        rating(world["a"], cid, band, score, changed=False)
    wait_for(lambda: len([i for i in admin.list_companies({"per_page": 200})["items"] if i["credit_score"]]) == 3)
    best = admin.list_companies({"sort": "-credit_score", "per_page": 5})["items"]
    assert [(i["credit_band"], i["credit_score"]) for i in best[:3]] == [("A", 91), ("C", 35), ("E", 12)]
    worst = admin.list_companies({"sort": "credit_score", "per_page": 5})["items"]
    assert [i["credit_score"] for i in worst[:3]] == [12, 35, 91]
    filtered = admin.list_companies({"credit_band": ["A", "C"], "facets": True})
    assert filtered["total"] == 2 and {i["credit_band"] for i in filtered["items"]} == {"A", "C"}
    assert {f["value"]: f["count"] for f in filtered["facets"]["credit_band"]} == {"A": 1, "C": 1, "E": 1}
    unrated = admin.list_companies({"credit_band": "none"})
    assert unrated["total"] == len(items) - 3
    assert remote_error(admin.list_companies, {"credit_band": ["Z"]}).exc_type == "ValidationError"


def test_notifications_are_read_and_marked_by_their_user_only(clients, world, engine):
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(Notification.__table__.insert().values(
                tenant_id=world["a"], user_id=world["kari"], kind="credit_rating", title=f"Note {n}"))
    kari, admin = clients["kari"], clients["admin"]
    listed = kari.list_notifications()
    assert [i["title"] for i in listed["items"]] == ["Note 2", "Note 1", "Note 0"] and listed["unread"] == 3
    newest = listed["items"][0]["id"]
    assert remote_error(admin.mark_notification_read, newest).exc_type == "NotFound"
    assert remote_error(clients["b"].mark_notification_read, newest).exc_type == "NotFound"
    assert kari.mark_notification_read(newest)["unread"] == 2
    assert kari.list_notifications({"unread_only": True})["unread"] == 2
    assert kari.mark_all_notifications_read() == {"marked": 2, "unread": 0}
    assert admin.list_notifications()["items"] == []
    assert remote_error(kari.list_notifications, {"limit": 1000}).exc_type == "ValidationError"
