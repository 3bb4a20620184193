"""Timeline and history in plain words (issue 13), over real RabbitMQ on SQLite and PostgreSQL:
field labels, not column names; dates formatted; one entry per save; a "Company created" entry."""


def test_creating_a_company_is_one_company_created_entry(clients):
    rpc = clients["admin"]
    c = rpc.create_company({"name": "Tidslinje AS", "country": "NO", "city": "Oslo",
                            "addresses": {"visiting": {"street": "Gate 1", "city": "Oslo", "country": "NO"},
                                          "billing": {"street": "Postboks 1", "city": "Oslo", "country": "NO"}}})
    changes = [t for t in rpc.company_timeline(c["id"], {"limit": 50}) if t["kind"] == "change"]
    assert [(t["title"], t["detail"]) for t in changes] == [("Company created", "Tidslinje AS")]
    assert [(t["code"], t["params"]) for t in changes] == [("company_created", {"name": "Tidslinje AS"})]  # issue 14


def test_one_save_is_one_entry_with_labels_and_formatted_values(clients):
    rpc = clients["admin"]
    c = rpc.create_company({"name": "Ord AS", "country": "NO"})
    rpc.update_company(c["id"], {"phone": "+47 22 33 44 55", "email": "post@ord.no", "industry_text": "Bemanning"})
    p = rpc.create_project({"company_id": c["id"], "name": "Ramme", "type": "staffing", "status": "request"})
    rpc.update_project(p["id"], {"end_date": "2027-06-30", "status": "active"})
    changes = [t for t in rpc.company_timeline(c["id"], {"limit": 50}) if t["kind"] == "change"]
    titles = [t["title"] for t in changes]
    assert titles[0] == "Project: changed status and end date"
    assert "30 Jun 2027" in changes[0]["detail"] and "end_date" not in changes[0]["detail"]
    assert titles[1] == "Changed industry, phone and e-mail" or titles[1].startswith("Changed ")
    assert "industry_text" not in changes[1]["title"] and "Phone: — → +4722334455" in changes[1]["detail"]
    assert titles[-1] == "Company created"
    history = rpc.company_history(c["id"])
    labels = {h["label"] for h in history}
    assert {"end date", "phone", "e-mail", "industry"} <= labels
    end = next(h for h in history if h["field"] == "end_date")
    assert (end["what"], end["new_text"]) == ("Project", "30 Jun 2027")


def test_each_entry_carries_a_code_and_parameters_next_to_its_english_words(clients):
    """Issue 14: a client words the timeline in its user's language from ``code`` and ``params``."""
    rpc = clients["admin"]
    c = rpc.create_company({"name": "Kode AS", "country": "NO"})
    rpc.update_company(c["id"], {"name": "Kode 2 AS", "relationship": "customer"})
    p = rpc.create_project({"company_id": c["id"], "name": "Ramme", "type": "staffing", "status": "request"})
    rpc.update_project(p["id"], {"end_date": "2027-06-30"})
    timeline = rpc.company_timeline(c["id"], {"limit": 50})
    changes = [t for t in timeline if t["kind"] == "change"]
    assert changes[0]["code"] == "fields_changed" and changes[0]["title"] == "Project: changed end date"
    assert changes[0]["params"] == {"entity": "project", "changes": [
        {"entity": "project", "field": "end_date", "old": None, "new": "2027-06-30"}]}
    company = changes[1]["params"]
    assert changes[1]["code"] == "fields_changed" and company["entity"] == "company"
    assert {(x["field"], x["old"], x["new"]) for x in company["changes"]} >= {("name", "Kode AS", "Kode 2 AS")}
    project = next(t for t in timeline if t["kind"] == "project")
    assert (project["code"], project["params"], project["detail"]) == ("project", {"status": "request"}, "request")
