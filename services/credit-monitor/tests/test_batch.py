"""Batch enrolment (services/credit-monitor/README.md, "Enrolment"): the service over real RabbitMQ and a
real database, against the stand-in over HTTP. Many companies go into the portfolio with one import file,
their first ratings come from the portfolio listing (no report bought), and a batch a killed instance left
half done is finished by the next one (job state in enrol_batches)."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select, update

from credit_monitor import standin
from credit_monitor.creditsafe import CreditsafeClient
from credit_monitor.models import EnrolBatch, MonitoredCompany, Outbox, RatingHistory, TenantSettings
from conftest import wait_for
from helpers import known_numbers, unknown_number

REPORT = "GET /v1/companies/{id}"
ADD_ONE = "POST /v1/monitoring/portfolios/{id}/companies"
IMPORT = "POST /v1/monitoring/portfolios/{id}/import"


def statuses(engine, tenant_id=1):
    with engine.connect() as conn:
        return dict(conn.execute(select(MonitoredCompany.company_id, MonitoredCompany.status)
                                 .where(MonitoredCompany.tenant_id == tenant_id)).all())


def settled(engine, n, tenant_id=1):
    found = statuses(engine, tenant_id)
    return len(found) == n and all(s in ("active", "unknown") for s in found.values()) and found


def test_many_companies_go_in_with_one_import_file_and_get_their_first_rating_from_the_listing(
        credit_service, identify, rpc_factory, creditsafe, engine):
    credit_service()
    regs = known_numbers("NO", 40)
    for i, reg in enumerate(regs, start=1):
        identify(1, i, "NO", reg)
    identify(1, 41, "SE", unknown_number("SE"))
    found = wait_for(lambda: settled(engine, 41), timeout=30)
    assert found[41] == "unknown" and sum(s == "active" for s in found.values()) == 40
    requests = creditsafe.control("stats")["requests"]
    assert requests["GET /v1/companies"] == 41  # one search each
    assert 1 <= requests[IMPORT] <= 3  # a file per batch, not a call per company
    assert requests.get(ADD_ONE, 0) < 20 and requests.get(REPORT, 0) == 0  # no report bought
    assert list(creditsafe.control("stats")["portfolios"].values()) == [40]
    view = rpc_factory(tenant_id=1, user_id=1).credit_monitor.get_company(7)
    c = creditsafe.state.company("NO", regs[6])
    assert view["status"] == "active" and view["connect_id"] == c.id
    assert (view["rating"]["band"], view["rating"]["score"]) == (c.band, c.score)
    assert view["rating"]["currency"] == "NOK" and [h["source"] for h in view["history"]] == ["monitoring"]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(RatingHistory)) == 40
        assert conn.scalar(select(func.count()).select_from(Outbox)) == 40  # a first rating_changed each
        assert set(conn.scalars(select(EnrolBatch.status))) == {"done"}
        assert conn.scalar(select(func.count()).where(MonitoredCompany.safe_number.is_not(None))) == 40


def test_redelivered_events_enrol_each_company_once(credit_service, identify, creditsafe, engine):
    credit_service()
    sent = [identify(1, i, "DK", reg) for i, reg in enumerate(known_numbers("DK", 25), start=1)]
    for payload in sent:  # every event again, as after a broker redelivery
        identify(1, payload["company_id"], "DK", payload["org_number"], event_id=payload["event_id"])
    wait_for(lambda: settled(engine, 25), timeout=30)
    for payload in sent[:5]:  # and late redeliveries, after the enrolment
        identify(1, payload["company_id"], "DK", payload["org_number"], event_id=payload["event_id"])
    wait_for(lambda: creditsafe.control("stats")["requests"]["GET /v1/companies"] == 25, timeout=3)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(MonitoredCompany)) == 25
        assert conn.scalar(select(func.count()).select_from(RatingHistory)) == 25
    assert list(creditsafe.control("stats")["portfolios"].values()) == [25]


def test_off_means_nothing_is_sent_for_a_batch_either(credit_service, identify, rpc_factory, creditsafe,
                                                      engine):
    credit_service()
    proxy = rpc_factory(tenant_id=6, user_id=1).credit_monitor
    proxy.update_settings({"enabled": False})
    creditsafe.control("reset")
    for i, reg in enumerate(known_numbers("GB", 30), start=1):
        identify(6, i, "GB", reg)
    wait_for(lambda: len(statuses(engine, 6)) == 30)
    proxy.poll_now()
    assert set(statuses(engine, 6).values()) == {"disabled"}
    assert creditsafe.control("stats")["requests"] == {}
    proxy.update_settings({"enabled": True})
    wait_for(lambda: settled(engine, 30, 6), timeout=30)


def test_a_batch_a_killed_instance_left_while_searching_is_finished(credit_service, creditsafe, engine):
    """What a SIGKILL mid-search leaves: a batch whose lease ran out, some companies searched."""
    regs = known_numbers("SE", 30)
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    with engine.begin() as conn:
        conn.execute(insert(TenantSettings).values(tenant_id=1, enabled=True))
        batch = conn.execute(insert(EnrolBatch).values(tenant_id=1, status="searching", size=30,
                                                       lease_until=past)).inserted_primary_key[0]
        conn.execute(insert(MonitoredCompany), [
            dict(tenant_id=1, company_id=i, country="SE", org_number=reg, status="pending", in_portfolio=False,
                 attempts=0, batch_id=batch,
                 connect_id=f"SE-X-{reg}" if i <= 10 else None,  # searched before the kill
                 safe_number=creditsafe.state.company("SE", reg).safe_no if i <= 10 else None)
            for i, reg in enumerate(regs, start=1)])
    credit_service()
    wait_for(lambda: settled(engine, 30), timeout=30)
    assert set(statuses(engine).values()) == {"active"}
    assert creditsafe.control("stats")["requests"]["GET /v1/companies"] == 20  # only what was not searched yet
    with engine.connect() as conn:
        assert conn.scalar(select(EnrolBatch.status).where(EnrolBatch.id == batch)) == "done"


def test_an_import_sent_before_a_kill_is_confirmed_without_sending_it_again(credit_service, creditsafe, engine):
    regs = known_numbers("NO", 25)
    client = CreditsafeClient(creditsafe.url, standin.DEV_USERNAME, standin.DEV_PASSWORD)
    pid = client.ensure_portfolio("CRM tenant 1")
    safe = [client.find_company("NO", reg)["safeNo"] for reg in regs]
    client.import_companies(pid, safe)  # sent; then the instance died before it saw the companies arrive
    key = f"{creditsafe.url}|{standin.DEV_USERNAME}"
    with engine.begin() as conn:
        conn.execute(insert(TenantSettings).values(tenant_id=1, enabled=True, portfolio_id=pid, portfolio_key=key))
        batch = conn.execute(insert(EnrolBatch).values(
            tenant_id=1, status="importing", size=25, portfolio_id=pid,
            submitted_at=datetime.now(timezone.utc))).inserted_primary_key[0]
        conn.execute(insert(MonitoredCompany), [
            dict(tenant_id=1, company_id=i, country="NO", org_number=reg, status="pending", in_portfolio=False,
                 attempts=0, batch_id=batch, connect_id=f"NO-X-{reg}", safe_number=safe[i - 1])
            for i, reg in enumerate(regs, start=1)])
    creditsafe.control("reset")
    credit_service()
    wait_for(lambda: settled(engine, 25), timeout=30)
    requests = creditsafe.control("stats")["requests"]
    assert IMPORT not in requests and "GET /v1/companies" not in requests and ADD_ONE not in requests
    assert requests["GET /v1/monitoring/portfolios/{id}/companies"] >= 1


def test_what_an_import_did_not_add_is_added_one_by_one(credit_service, identify, creditsafe, engine):
    creditsafe.state.import_delay = 3600  # Creditsafe never processes the file
    credit_service(CREDIT_IMPORT_TIMEOUT=2, CREDIT_IMPORT_FROM=2)
    for i, reg in enumerate(known_numbers("DK", 22), start=1):
        identify(1, i, "DK", reg)
    wait_for(lambda: settled(engine, 22), timeout=40)
    assert set(statuses(engine).values()) == {"active"}
    requests = creditsafe.control("stats")["requests"]
    assert requests[IMPORT] >= 1 and requests[ADD_ONE] == 22


def test_creditsafe_down_during_a_batch_leaves_the_companies_waiting_with_the_reason(
        credit_service, identify, rpc_factory, creditsafe, engine):
    credit_service()
    creditsafe.fault("down")
    for i, reg in enumerate(known_numbers("NO", 25), start=1):
        identify(1, i, "NO", reg)
    view = wait_for(lambda: (v := rpc_factory(tenant_id=1, user_id=1).credit_monitor.get_company(3))["last_error"]
                    and v, timeout=30)
    assert view["status"] == "pending" and "503" in view["last_error"]

    def released():
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).where(MonitoredCompany.status == "pending",
                                                          MonitoredCompany.batch_id.is_(None),
                                                          MonitoredCompany.last_error.is_not(None))) == 25
    wait_for(released, timeout=30)
    creditsafe.fault(None)
    with engine.begin() as conn:  # no need to wait for the backoff in a test
        conn.execute(update(MonitoredCompany).values(next_attempt_at=None))
    proxy = rpc_factory(tenant_id=1, user_id=1).credit_monitor
    wait_for(lambda: proxy.poll_now() is not None and settled(engine, 25), timeout=60, interval=1)
