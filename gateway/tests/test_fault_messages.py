"""What the user reads when a service is down or slow (issue 12): "not answering" (nobody consumes
its queue, or it never started) is told from "too slow" (timed out); a write that timed out says
that it may have been saved and that sending it again is safe (the form's idempotency key)."""
import re

from gateway.rpc.transport import CallTimeout, NoSuchService, NotAnswering, TransportError
from gateway_fakes import HX

FORM = {"name": "Nord AS", "country": "NO", "relationship": "prospect", "idempotency_key": "k" * 32}


def toast(response) -> str:
    assert response.headers["HX-Retarget"] == "#toasts"
    return re.sub(r"\s+", " ", response.text)


def test_a_dead_service_is_not_answering(client, rpc):
    rpc.on("list_companies", NotAnswering("no crm instance is running"))
    response = client.get("/companies?q=ab", headers=HX)
    body = toast(response)
    assert response.status_code == 503 and "Service not answering" in body
    assert "The crm service is not answering (it is not running)" in body and "saved" not in body


def test_a_service_that_never_started_is_not_answering(client, rpc):
    rpc.on("list_companies", NoSuchService("never started"))
    assert "crm service is not answering" in toast(client.get("/companies?q=ab", headers=HX))


def test_a_slow_read_is_too_slow(client, rpc):
    rpc.on("list_companies", CallTimeout())
    response = client.get("/companies?q=ab", headers=HX)
    body = toast(response)
    assert response.status_code == 504 and "Service too slow" in body
    assert "no answer within 1.8 s" in body and "Try again in a moment" in body and "saved" not in body


def test_a_timed_out_write_may_have_been_saved(client, rpc):
    rpc.on("create_company", CallTimeout())
    response = client.post("/companies/new", headers=HX, data=FORM)
    body = toast(response)
    assert response.status_code == 504 and "It may have been saved; retrying is safe." in body
    call = rpc.last("create_company")
    assert call.kwargs == {"idempotency_key": FORM["idempotency_key"]}


def test_a_timed_out_call_to_a_service_nobody_consumes_is_not_answering(client, rpc):
    rpc.on("create_company", CallTimeout())
    rpc.consumer_count = lambda service: 0
    body = toast(client.post("/companies/new", headers=HX, data=FORM))
    assert "The crm service is not answering" in body and "retrying is safe" in body


def test_a_broken_broker_during_a_write(client, rpc):
    rpc.on("create_company", TransportError("connection lost"))
    body = toast(client.post("/companies/new", headers=HX, data=FORM))
    assert "The message broker cannot be reached" in body and "retrying is safe" in body


def test_every_create_form_carries_a_fresh_key(client, rpc):
    first = client.get("/companies/new").text
    second = client.get("/companies/new").text
    keys = [re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page).group(1) for page in (first, second)]
    assert keys[0] != keys[1]
