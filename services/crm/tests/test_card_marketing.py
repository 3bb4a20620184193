"""The card shows the registry's marketing protection (issue 13), over real RabbitMQ on
SQLite and PostgreSQL: set on create from the registry, read back in ``get_company``."""


def test_card_says_whether_the_company_is_marketing_protected(clients):
    rpc = clients["admin"]
    plain = rpc.create_company({"name": "Åben Reklame ApS", "country": "DK"})["id"]
    protected = rpc.create_company({"name": "Vestergade Test ApS", "country": "DK"})["id"]
    assert rpc.get_company(protected)["marketing_protected"] is False
    rpc.set_marketing_protection(protected, True)
    assert rpc.get_company(protected)["marketing_protected"] is True
    assert rpc.get_company(plain)["marketing_protected"] is False
    rpc.set_marketing_protection(protected, False)
    assert rpc.get_company(protected)["marketing_protected"] is False
