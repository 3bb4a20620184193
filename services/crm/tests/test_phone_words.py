"""Phone numbers refused in the product's words (issue 13), over real RabbitMQ on SQLite and
PostgreSQL; the number is stored in E.164 (the gateway shows it formatted)."""
from conftest import remote_error


def test_a_bad_phone_number_is_refused_in_plain_words_at_its_field(clients):
    rpc = clients["admin"]
    err = remote_error(rpc.create_company, {"name": "Tlf AS", "country": "NO", "phone": "1234"})
    assert err.exc_type == "ValidationError"
    assert "This is not a valid Norwegian phone number" in err.value and "+47 22 33 44 55" in err.value
    assert "not a phone number" not in err.value
    err = remote_error(rpc.create_company, {"name": "Tlf AS", "country": "SE", "phone": "ring oss"})
    assert "Enter a phone number with digits, for example +46 8 123 456 78." in err.value
    c = rpc.create_company({"name": "Tlf AS", "country": "NO", "phone": "22 33 44 55"})
    assert c["phone"] == "+4722334455"
