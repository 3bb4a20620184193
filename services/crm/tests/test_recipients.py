"""E-mail recipients of a selection (issue 9): company and contact addresses with
skip reasons, paging, opt-outs, marketing protection, tenant isolation, and the
mailer's events landing on the timeline exactly once, over real RabbitMQ on
SQLite and PostgreSQL."""
import time
import uuid

from nameko.standalone.events import event_dispatcher

from conftest import remote_error


def _setup(rpc):
    a = rpc.create_company({"name": "Ærø Søfart ApS", "country": "DK", "email": "post@aero.dk"})["id"]
    b = rpc.create_company({"name": "Bygg Nord AS", "country": "NO"})["id"]  # no address
    c = rpc.create_company({"name": "Vern AS", "country": "NO", "email": "info@vern.no"})["id"]
    anna = rpc.create_contact({"company_id": a, "first_name": "Anna", "last_name": "Ø", "email": "anna@aero.dk"})
    old = rpc.create_contact({"company_id": a, "first_name": "Old", "last_name": "Timer", "email": "old@aero.dk"})
    rpc.set_contact_active(old["id"], False)
    rpc.create_contact({"company_id": b, "first_name": "Nils", "email": "POST@aero.dk"})  # same address, other case
    rpc.create_contact({"company_id": b, "first_name": "Noaddress"})
    return a, b, c, anna


def test_recipients_with_skip_reasons_and_paging(clients):
    rpc = clients["admin"]
    a, b, c, anna = _setup(rpc)
    rpc.set_marketing_protection(c, True)
    rpc.opt_out("Anna@Aero.dk")
    page = rpc.list_recipients({"ids": [c, a, b]}, ["company", "contacts"], 0, 500)
    assert page["next_after_id"] is None
    got = {(i["kind"], i["company_id"], (i["email"] or "").lower(), i["skip"]) for i in page["items"]}
    assert got == {
        ("company", a, "post@aero.dk", None), ("contact", a, "anna@aero.dk", "unsubscribed"),
        ("contact", a, "old@aero.dk", "inactive"), ("company", b, "", "no_address"),
        ("contact", b, "post@aero.dk", None), ("contact", b, "", "no_address"),
        ("company", c, "info@vern.no", "marketing_protection"),
    }
    row = next(i for i in page["items"] if i["contact_id"] == anna["id"])
    assert row["company_name"] == "Ærø Søfart ApS" and row["first_name"] == "Anna" and row["last_name"] == "Ø"
    # only companies' own addresses; paging by company id
    first = rpc.list_recipients({"ids": [a, b, c]}, ["company"], 0, 2)
    assert [i["company_id"] for i in first["items"]] == sorted([a, b]) and first["next_after_id"] == max(a, b)
    rest = rpc.list_recipients({"ids": [a, b, c]}, ["company"], first["next_after_id"], 2)
    assert [i["company_id"] for i in rest["items"]] == [c] and rest["next_after_id"] is None
    # the overview filter works as a selection too
    by_filter = rpc.list_recipients({"filter": {"q": "Ærø"}}, ["company"], 0, 100)
    assert [i["company_id"] for i in by_filter["items"]] == [a]


def test_opt_out_is_idempotent_and_shown_per_contact(clients):
    rpc = clients["admin"]
    a, _b, _c, anna = _setup(rpc)
    first = rpc.opt_out("anna@aero.dk")
    again = rpc.opt_out("ANNA@aero.dk", "one_click")
    assert first["at"] == again["at"] and again["source"] == "user"
    shown = rpc.list_opt_outs(a)
    assert shown[str(anna["id"])]["at"] == first["at"]
    assert rpc.opt_in("anna@aero.dk")["opted_out"] is False
    assert rpc.list_opt_outs(a) == {}


def test_bad_input_is_a_typed_error(clients):
    rpc = clients["admin"]
    for args, field in ((({"ids": [1]}, ["everyone"], 0, 10), "kinds"), (({"ids": [1]}, ["company"], -1, 10), "after_id"),
                        (({"ids": [1]}, ["company"], 0, 5000), "limit"), (({}, ["company"], 0, 10), "selection")):
        err = remote_error(rpc.list_recipients, *args)
        assert err.exc_type == "ValidationError" and field in str(err), (args, str(err))
    assert "email" in str(remote_error(rpc.opt_out, "not-an-address"))


def test_other_tenant_sees_nothing(clients):
    a, *_ = _setup(clients["admin"])
    assert clients["b"].list_recipients({"ids": [a]}, ["company", "contacts"], 0, 100)["items"] == []
    assert remote_error(clients["b"].list_opt_outs, a).exc_type == "NotFound"
    assert remote_error(clients["b"].set_marketing_protection, a, True).exc_type == "NotFound"


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_email_sent_events_log_one_activity_each(clients, world, rabbit_uri):
    rpc = clients["admin"]
    a, _b, _c, anna = _setup(rpc)
    dispatch = event_dispatcher({"AMQP_URI": rabbit_uri})
    event = {"event_id": uuid.uuid4().hex, "tenant_id": world["a"], "campaign_id": 7, "message_id": "<m@x>",
             "company_id": a, "contact_id": anna["id"], "user_id": world["admin"], "to": "anna@aero.dk",
             "subject": "Hei Anna", "sent_at": "2026-12-02T10:00:00+00:00"}
    for _ in range(3):  # redelivered / published twice by the outbox relay
        dispatch("mailer", "email_sent", event)
    other = {**event, "event_id": uuid.uuid4().hex, "tenant_id": world["b"]}  # a forged tenant: company not there
    dispatch("mailer", "email_sent", other)
    emails = _wait(lambda: [x for x in rpc.list_activities(a) if x["kind"] == "email"])
    time.sleep(0.5)  # the duplicates had time to arrive
    emails = [x for x in rpc.list_activities(a) if x["kind"] == "email"]
    assert len(emails) == 1
    assert emails[0]["contact"]["id"] == anna["id"] and "Hei Anna" in emails[0]["text"]
    assert emails[0]["user"]["id"] == world["admin"]
    timeline = rpc.company_timeline(a)
    assert "Hei Anna" in str(timeline)
    entry = next(t for t in timeline if t["kind"] == "activity" and t["params"].get("activity_kind") == "email")
    assert entry["code"] == "email_sent" and entry["detail"] == "E-mail to anna@aero.dk: Hei Anna (campaign #7)"
    assert entry["params"] == {"activity_kind": "email", "to": "anna@aero.dk", "subject": "Hei Anna", "campaign_id": 7}


def test_opted_out_events_record_the_opt_out(clients, world, rabbit_uri):
    rpc = clients["admin"]
    a, _b, _c, anna = _setup(rpc)
    dispatch = event_dispatcher({"AMQP_URI": rabbit_uri})
    event = {"event_id": uuid.uuid4().hex, "tenant_id": world["a"], "email": "anna@aero.dk",
             "at": "2026-12-01T09:00:00+00:00"}
    dispatch("mailer", "email_opted_out", event)
    dispatch("mailer", "email_opted_out", event)
    shown = _wait(lambda: rpc.list_opt_outs(a))
    assert shown[str(anna["id"])]["source"] == "unsubscribe_link"
    assert shown[str(anna["id"])]["at"].startswith("2026-12-01T09:00")
