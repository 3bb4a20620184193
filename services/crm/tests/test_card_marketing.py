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


def test_create_with_the_registrys_marketing_protection_and_an_invoice_box(clients):
    rpc = clients["admin"]
    c = rpc.create_company({"name": "Vern Reklame ApS", "country": "DK", "marketing_protected": True,
                            "invoice": {"type": "email_link", "email": "faktura@vern.dk", "credit_days": 30}})
    assert c["marketing_protected"] is True
    assert c["invoice"] == {"type": "email_link", "email": "faktura@vern.dk", "credit_days": 30}


def test_new_company_invoice_defaults_pass_the_cards_own_validation(clients):
    rpc = clients["admin"]
    with_mail = rpc.create_company({"name": "Post AS", "country": "NO", "email": "post@post.no"})
    assert with_mail["invoice"] == {"type": "email_pdf", "email": "post@post.no", "credit_days": 14}
    without = rpc.create_company({"name": "Stille AS", "country": "NO"})
    assert without["invoice"]["type"] == "paper"
    for c in (with_mail, without):  # saving the invoice box unchanged is accepted
        rpc.update_invoice_settings(c["id"], c["invoice"])


def test_the_start_project_gets_the_status_the_form_chose(clients):
    rpc = clients["admin"]
    c = rpc.create_company({"name": "Start AS", "country": "NO",
                            "start_project": {"name": "Ramme 2026", "type": "staffing", "status": "active"}})
    (project,) = rpc.list_projects(c["id"])
    assert (project["name"], project["status"]) == ("Ramme 2026", "active")
