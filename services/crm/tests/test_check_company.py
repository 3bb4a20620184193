"""check_company (issue 13): a dry run of create/update that names every bad field at once and
writes nothing, over real RabbitMQ on SQLite and PostgreSQL."""
import pytest

from conftest import remote_error


def test_the_check_names_every_bad_field():
    """What the RPC raises (nameko's RemoteError keeps only the first field's text; the gateway's
    transport reads the whole ``errors`` list)."""
    from crm.companies import check_input
    from service_common.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        check_input({"name": "Sjekk AS", "country": "NO", "org_number": "123", "phone": "1234", "employees": -3})
    found = {e["field"]: e["message"] for e in info.value.errors}
    assert {"org_number", "phone", "employees"} <= set(found)
    assert "+47 22 33 44 55" in found["phone"]  # in the product's words
    with pytest.raises(ValidationError) as info:
        check_input({"phone": "1234", "website": "x" * 400, "org_number": "123", "country": "NO"}, partial=True)
    assert {"phone", "website", "org_number"} <= {e["field"] for e in info.value.errors}
    assert check_input({"name": "Sjekk AS", "country": "SE", "phone": "08 123 456 78"}) == {"ok": True}


def test_check_company_writes_nothing(clients):
    rpc = clients["admin"]
    before = rpc.list_companies({})["total"]
    err = remote_error(rpc.check_company, {"name": "Sjekk AS", "country": "NO", "org_number": "123", "phone": "1234"})
    assert err.exc_type == "ValidationError" and "org_number" in err.value
    assert rpc.check_company({"name": "Sjekk AS", "country": "NO", "phone": "22 33 44 55"}) == {"ok": True}
    assert rpc.check_company({"phone": "22 33 44 55"}, True) == {"ok": True}  # an update: any subset
    assert remote_error(rpc.check_company, {"phone": "1234"}, True).exc_type == "ValidationError"
    assert remote_error(rpc.check_company, {"phone": "1"}, "yes").exc_type == "ValidationError"
    assert rpc.list_companies({})["total"] == before
