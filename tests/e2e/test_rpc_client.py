"""The gateway's RPC client against real services on real RabbitMQ."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from gateway.rpc.transport import CallTimeout, NoSuchService, RemoteFailure, RpcTransport


@pytest.fixture
def transport(suite):
    t = RpcTransport(suite.env["AMQP_URI"])
    yield t
    t.close()


def _ids(transport, tenant) -> list[int]:
    page = transport.call("crm", "search_companies", [{"per_page": 20}], context=tenant, timeout=5)
    return [c["id"] for c in page["items"]]


@pytest.fixture
def tenant(suite):
    # the bootstrap tenant is the first one and its admin the first user
    return {"auth": suite.token(tenant_id=1, user_id=1)}


def test_one_connection_per_thread_is_reused(transport):
    transport.call("crm", "health")
    first = transport._local.channel
    for _ in range(20):
        transport.call("crm", "health")
    assert transport._local.channel is first


def test_replies_never_cross_between_threads(transport, tenant):
    ids = _ids(transport, tenant)
    errors = []

    def worker(offset):
        try:
            for i in range(30):
                wanted = ids[(offset + i) % len(ids)]
                got = transport.call("crm", "get_company", [wanted], context=tenant, timeout=5)
                assert got["id"] == wanted
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_typed_remote_error_keeps_its_type_message_and_details(transport, tenant):
    with pytest.raises(RemoteFailure) as info:
        transport.call("crm", "create_company", [{"name": "X", "country": "NO", "org_number": "1"}], context=tenant)
    err = info.value.error
    assert err["exc_type"] == "ValidationError"
    message, details = err["exc_args"]
    assert details["field"] == "org_number" and "9 digits" in message


def test_an_unknown_service_fails_fast(transport):
    start = time.monotonic()
    with pytest.raises(NoSuchService):
        transport.call("no_such_service", "health", timeout=2)
    assert time.monotonic() - start < 1.0


def test_a_service_that_never_answers_times_out_and_the_request_expires(suite, transport):
    suite.stop("mailer")
    try:
        start = time.monotonic()
        with pytest.raises(CallTimeout):
            transport.call("mailer", "health", timeout=0.5)
        assert time.monotonic() - start < 1.0
    finally:
        suite.start("mailer")
        suite.wait_healthy()
    # the expired request was dropped by the broker, and the client still works
    assert transport.call("mailer", "health", timeout=5)["status"] == "ok"


def test_the_connection_is_rebuilt_after_it_breaks(transport):
    transport.call("crm", "health")
    broken = transport._local.channel
    # cut the TCP connection under the client, as a broker restart or a network drop would
    sock = broken.connection._impl._transport._sock
    sock.shutdown(socket.SHUT_RDWR)
    for _ in range(3):
        try:
            assert transport.call("crm", "health", timeout=5)["status"] == "ok"
            break
        except Exception:  # noqa: BLE001 - the first call may see the broken socket
            continue
    assert transport._local.channel is not broken
    assert transport.call("crm", "health", timeout=5)["status"] == "ok"
