"""“+ then Company”: suggestions from the national registries, the pick that fills the
new-company form, and creating the company with its sub-units (registry.py, companies.new)."""
from __future__ import annotations

import re

import pytest

from gateway_fakes import HX, company, log_in, make_app, validation_error
from gateway.rpc.transport import CallTimeout, RemoteFailure

ALL = ["NO", "SE", "DK", "GB"]


def hit(**over) -> dict:
    data = {"country": "NO", "org_number": "923609016", "name": "Fjord Bemanning AS", "city": "Oslo",
            "status": "active", "legal_form": "AS"}
    data.update(over)
    return data


def detail(**over) -> dict:
    data = {
        "country": "NO", "org_number": "923609016", "name": "Fjord Bemanning AS", "legal_form": "AS",
        "legal_form_text": "Aksjeselskap", "status": "active",
        "industry": [{"code": "78.200", "text": "Utleie av arbeidskraft"}], "employees": 42, "employees_range": None,
        "visiting_address": {"street": "Karl Johans gate 1", "postcode": "0154", "city": "Oslo", "country": "Norge"},
        "postal_address": {"street": "Postboks 12", "postcode": "0101", "city": "Oslo", "country": "Norge"},
        "website": "www.fjord.example", "phone": "+47 22 33 44 55", "email": "post@fjord.example",
        "registered_on": "2001-02-03", "kind": "main", "parent": None, "source": "index", "refreshed_at": 1, "stale": False,
    }
    data.update(over)
    return data


def subunit(org_number: str, name: str, city: str, **over) -> dict:
    data = {"org_number": org_number, "name": name, "status": "active",
            "visiting_address": {"street": f"{city}gata 1", "postcode": "5003", "city": city, "country": "Norge"},
            "postal_address": {"street": "Postboks 9", "postcode": "5804", "city": city, "country": "Norge"},
            "industry": [{"code": "78.200", "text": "Utleie av arbeidskraft"}], "employees": 7, "employees_range": None}
    data.update(over)
    return data


SUBUNITS = [subunit("973609011", "Fjord Bemanning AS avd. Bergen", "Bergen"),
            subunit("973609022", "Fjord Bemanning AS avd. Tromsø", "Tromsø")]


@pytest.fixture
def registry(rpc):
    rpc.on("search", lambda q: {"items": [hit(), hit(org_number="914778271", name="Fjordkraft AS", city="Bergen",
                                                   status="bankrupt")],
                                "failed_countries": [], "errors": []})
    rpc.on("find_companies_by_org_numbers", lambda refs: [])
    rpc.on("get", lambda ref: detail(country=ref["country"], org_number=ref["org_number"]))
    rpc.on("subunits", lambda ref: {"items": SUBUNITS, "source": "index"})
    return rpc


def suggest(client, q: str, countries=ALL, **extra):
    return client.get("/registry/suggest", query_string={"q": q, "countries": countries, **extra}, headers=HX)


# -- suggestions ----------------------------------------------------------------------
def test_suggestions_show_country_name_number_city_and_status(client, registry):
    response = suggest(client, "fjord")
    assert response.status_code == 200 and "<html" not in response.text
    body = response.text
    assert body.count('role="option"') == 2 and 'role="listbox"' in body
    assert 'id="registry-option-0"' in body and 'id="registry-option-1"' in body
    assert "Fjord Bemanning AS" in body and "923609016" in body and "Oslo" in body and "🇳🇴" in body
    assert 'class="badge status-bankrupt">Bankrupt<' in body
    assert 'hx-get="/registry/pick?country=NO&amp;org_number=923609016"' in body
    assert 'hx-target="#company-form"' in body
    call = registry.last("search")
    assert call.service == "registry_lookup" and call.args == [{"q": "fjord", "countries": ALL, "limit": 10}]
    assert call.timeout >= 4.0  # registries may be slow: longer than the crm's 1.8 s


def test_a_registry_name_is_escaped(client, registry):
    registry.on("search", lambda q: {"items": [hit(name='<script>alert("x")</script> AS', city="<b>Oslo</b>")],
                                     "failed_countries": [], "errors": []})
    body = suggest(client, "scr").text
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body
    assert "<b>Oslo</b>" not in body and "&lt;b&gt;Oslo&lt;/b&gt;" in body


def test_a_company_already_in_the_crm_links_to_its_card(client, registry):
    registry.on("find_companies_by_org_numbers",
                lambda refs: [{"country": "NO", "org_number": "923609016", "id": 7, "name": "Fjord Bemanning AS"}])
    body = suggest(client, "fjord").text
    first, second = body.split('id="registry-option-1"')
    assert "Already in your CRM" in first and 'href="/companies/7"' in first and "/registry/pick" not in first
    assert "Already in your CRM" not in second and "/registry/pick?country=NO&amp;org_number=914778271" in second
    # one crm call for the whole list, with every suggestion's number
    assert registry.methods().count("find_companies_by_org_numbers") == 1
    assert registry.last("find_companies_by_org_numbers").args == [[
        {"country": "NO", "org_number": "923609016"}, {"country": "NO", "org_number": "914778271"}]]


def test_unticked_countries_are_left_out_of_the_search(client, registry):
    suggest(client, "fjord", countries=["SE", "GB"])
    assert registry.last("search").args[0]["countries"] == ["SE", "GB"]


def test_no_country_ticked_asks_for_one_and_searches_nothing(client, registry):
    response = client.get("/registry/suggest", query_string={"q": "fjord"}, headers=HX)
    assert "Tick at least one country" in response.text and "search" not in registry.methods()


def test_one_character_asks_for_more_without_searching(client, registry):
    response = suggest(client, "f")
    assert response.status_code == 200 and "Type at least 2 characters" in response.text
    assert registry.calls == []


def test_a_country_that_failed_is_named_and_the_others_results_shown(client, registry):
    registry.on("search", lambda q: {"items": [hit()], "failed_countries": ["DK"],
                                     "errors": [{"country": "DK", "message": "CVR timed out"}]})
    body = suggest(client, "fjord").text
    assert "Denmark’s registry did not answer." in body
    assert "Fjord Bemanning AS" in body


def test_no_match_offers_manual_entry(client, registry):
    registry.on("search", lambda q: {"items": [], "failed_countries": [], "errors": []})
    body = suggest(client, "zzqx").text
    assert "No company matching “zzqx”" in body and "Enter manually" in body
    assert "find_companies_by_org_numbers" not in registry.methods()


@pytest.mark.parametrize("failure", [CallTimeout(), RemoteFailure({"exc_type": "SourceUnavailable",
                                                                   "exc_args": ["brreg down", {}]}),
                                     RemoteFailure({"exc_type": "KeyError", "exc_args": ["boom"]})])
def test_a_registry_failure_never_breaks_the_page(client, registry, failure):
    registry.on("search", failure)
    response = suggest(client, "fjord")
    assert response.status_code == 200 and "HX-Retarget" not in response.headers
    assert "did not answer" in response.text and "Enter manually" in response.text


def test_suggestions_still_show_when_the_crm_cannot_check_duplicates(client, registry):
    registry.on("find_companies_by_org_numbers", CallTimeout())
    body = suggest(client, "fjord").text
    assert body.count('role="option"') == 2 and "Could not check which of these are already in your CRM" in body


def test_without_htmx_the_suggestions_are_a_page_whose_picks_are_links(client, registry):
    body = client.get("/registry/suggest", query_string={"q": "fjord", "countries": ALL}).text
    assert "<html" in body and 'href="/registry/pick?country=NO&amp;org_number=923609016"' in body
    assert 'hx-target="#company-form"' not in body


def test_new_company_page_has_the_search_with_all_four_countries_ticked(client):
    body = client.get("/companies/new").text
    assert 'role="combobox"' in body and 'aria-controls="registry-listbox"' in body
    for code in ALL:
        assert f'name="countries" value="{code}" checked' in body
    assert 'hx-trigger="input changed delay:250ms, search"' in body and 'hx-sync="#registry-search:replace"' in body


def test_overview_new_company_button_opens_the_registry_dialog(client):
    body = client.get("/companies").text
    assert 'data-open-dialog="new-company-dialog"' in body and '<dialog id="new-company-dialog"' in body
    dialog = body.split('<dialog id="new-company-dialog"')[1].split("</dialog>")[0]
    assert 'name="target" value="page"' in dialog and 'role="combobox"' in dialog


# -- the pick ---------------------------------------------------------------------------
def test_pick_fills_the_form_and_lists_the_subunits(client, registry):
    response = client.get("/registry/pick", query_string={"country": "NO", "org_number": "923609016"}, headers=HX)
    assert response.status_code == 200
    body = response.text
    assert body.startswith("<form") or body.lstrip().startswith("<form")
    for value in ("Fjord Bemanning AS", "923609016", "AS", "78.200", "Utleie av arbeidskraft", "42",
                  "www.fjord.example", "+47 22 33 44 55", "post@fjord.example", "Karl Johans gate 1", "0154", "Postboks 12"):
        assert f'value="{value}"' in body, value
    assert re.search(r'name="addresses\.visiting\.country">.*?<option value="NO" selected>', body, re.S)
    assert "Filled in from Brønnøysund Register Centre" in body
    # sub-units, unticked, each with its data in hidden fields
    assert 'name="subunit" value="0"' in body and 'name="subunit" value="1"' in body
    assert 'name="subunit" value="0" checked' not in body
    assert 'name="subunits.1.visiting.city" value="Tromsø"' in body and "Select all" in body
    # the pick closes the suggestion list, out of band
    assert 'id="registry-results" class="registry-results" hx-swap-oob="true"' in body
    assert {c.method for c in registry.calls} >= {"get", "subunits", "find_companies_by_org_numbers"}
    assert registry.last("get").args == [{"country": "NO", "org_number": "923609016"}]


def test_pick_without_htmx_is_the_whole_new_company_page(client, registry):
    body = client.get("/registry/pick", query_string={"country": "NO", "org_number": "923609016"}).text
    assert "<html" in body and 'id="registry-q"' in body and 'value="Fjord Bemanning AS"' in body


def test_pick_of_a_dissolved_company_says_so(client, registry):
    registry.on("get", lambda ref: detail(status="dissolved"))
    body = client.get("/registry/pick?country=NO&org_number=923609016", headers=HX).text
    assert "The registry lists this company as: Dissolved." in body


# -- issue 13: the registry's words, marketing protection, postal same as visiting -----------
@pytest.mark.parametrize("status, text, shown", [
    ("deleted", "Slettet 2025-06-01", "Deleted from the register (Slettet 2025-06-01)"),
    ("liquidation", "Under avvikling", "In liquidation (Under avvikling)"),
    ("unknown", "UNDER REASSUMERING", "Status unknown (UNDER REASSUMERING)"),
])
def test_pick_shows_the_registry_status_in_words_with_the_registrys_own(client, registry, status, text, shown):
    registry.on("get", lambda ref: detail(status=status, status_text=text))
    body = client.get("/registry/pick?country=NO&org_number=923609016", headers=HX).text
    assert f"The registry lists this company as: {shown}." in body


def test_suggestions_show_deleted_and_unknown_never_as_active(client, registry):
    registry.on("search", lambda q: {"items": [hit(status="deleted", status_text="Slettet 2025-06-01",
                                                   org_number_display="923 609 016"),
                                               hit(org_number="914778271", status="unknown", status_text="Odd")],
                                     "failed_countries": [], "errors": []})
    body = suggest(client, "fjord").text
    assert "Deleted from the register (Slettet 2025-06-01)" in body and "Status unknown (Odd)" in body


def test_marketing_protection_is_shown_and_set_on_the_new_company(client, registry):
    registry.on("get", lambda ref: detail(marketing_protection=True))
    made = []
    registry.on("create_company", lambda data: made.append(data) or company(id=300, name=data["name"]))
    data = picked_form(client, registry)
    assert data.get("registry.marketing_protection") == ["1"]
    body = client.get("/registry/pick?country=NO&org_number=923609016", headers=HX).text
    assert "Marketing protection." in body
    response = client.post("/companies/new", data=data, headers=HX)
    assert response.status_code == 204
    assert made[0]["marketing_protected"] is True  # in the create itself: one transaction


def test_no_marketing_protection_sets_nothing(client, registry):
    registry.on("create_company", lambda data: company(id=301, name=data["name"]))
    made = []
    registry.on("create_company", lambda data: made.append(data) or company(id=301, name=data["name"]))
    client.post("/companies/new", data=picked_form(client, registry), headers=HX)
    assert "marketing_protected" not in made[0]


def test_a_missing_postal_address_stays_missing_unless_the_user_ticks_same_as_visiting(client, registry):
    made = []
    registry.on("get", lambda ref: detail(postal_address=None))
    registry.on("create_company", lambda data: made.append(data) or company(id=302 + len(made), name=data["name"]))
    body = client.get("/registry/pick?country=NO&org_number=923609016", headers=HX).text
    assert "The registry gives no postal address" in body and 'name="postal_same_as_visiting"' in body
    data = picked_form(client, registry)
    assert "postal_same_as_visiting" not in data  # not ticked for the user
    client.post("/companies/new", data=data, headers=HX)
    assert "postal" not in made[-1]["addresses"]
    client.post("/companies/new", data={**data, "postal_same_as_visiting": ["1"]}, headers=HX)
    assert made[-1]["addresses"]["postal"] == made[-1]["addresses"]["visiting"]


def test_pick_when_the_registry_fails_gives_an_empty_form_to_fill_in(client, registry):
    registry.on("get", CallTimeout())
    registry.on("subunits", CallTimeout())
    response = client.get("/registry/pick?country=DK&org_number=12345674", headers=HX)
    assert response.status_code == 200
    body = response.text
    assert "did not answer" in body and "Enter the company by hand" in body
    assert 'id="new-name" name="name" type="text" value=""' in body
    assert 'name="subunit"' not in body


def test_pick_of_an_invalid_number_says_so_and_offers_the_form(client, registry):
    registry.on("get", validation_error("org_number", "A Norwegian organisation number has 9 digits"))
    body = client.get("/registry/pick?country=NO&org_number=123", headers=HX).text
    assert "is not a valid organisation number" in body and 'id="company-form"' in body


def test_pick_of_an_unknown_country_searches_nothing(client, registry):
    body = client.get("/registry/pick?country=XX&org_number=1", headers=HX).text
    assert "Choose a company from the suggestions" in body and registry.calls[-1].method in ("list_users", "list_departments")
    assert not {"get", "subunits"} & set(registry.methods())


def test_pick_when_only_the_subunits_fail_still_fills_the_form(client, registry):
    registry.on("subunits", CallTimeout())
    body = client.get("/registry/pick?country=NO&org_number=923609016", headers=HX).text
    assert 'value="Fjord Bemanning AS"' in body and "did not send this company’s sub-units" in body


def test_pick_of_a_company_already_in_the_crm_points_to_its_card(client, registry):
    registry.on("find_companies_by_org_numbers",
                lambda refs: [{"country": "NO", "org_number": "923609016", "id": 7, "name": "Fjord Bemanning AS"}])
    body = client.get("/registry/pick?country=NO&org_number=923609016", headers=HX).text
    assert "is already in your CRM" in body and 'href="/companies/7"' in body


# -- create with sub-units -----------------------------------------------------------------
def picked_form(client, registry) -> dict:
    """The form exactly as the pick rendered it (every input's name and value), as a browser would post it."""
    body = client.get("/registry/pick?country=NO&org_number=923609016", headers=HX).text
    form = body.split("</form>")[0]
    data: dict[str, list[str]] = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name:
            continue
        if kind and kind.group(1) == "checkbox" and " checked" not in tag:
            continue
        data.setdefault(name.group(1), []).append(_unescape(value.group(1) if value else ""))
    for select in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', select[1])
        data[select[0]] = [chosen.group(1) if chosen else ""]
    return data


def _unescape(text: str) -> str:
    import html
    return html.unescape(text)


def test_create_with_two_subunits_creates_the_parent_then_the_children(client, registry):
    made = []

    def create(data):
        made.append(data)
        return company(id=100 + len(made), name=data["name"], relationship=data["relationship"])

    registry.on("create_company", create)
    data = picked_form(client, registry)
    data.update({"subunit": ["0", "1"], "relationship": ["customer"], "owner_ids": ["1", "2"]})
    response = client.post("/companies/new", data=data, headers=HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/companies/101"
    parent, bergen, tromso = made
    assert parent["name"] == "Fjord Bemanning AS" and parent["org_number"] == "923609016"
    assert "parent_id" not in parent or parent["parent_id"] is None
    assert parent["addresses"]["visiting"]["street"] == "Karl Johans gate 1"
    assert parent["industry_code"] == "78.200" and parent["employees"] == 42
    assert bergen["parent_id"] == 101 and tromso["parent_id"] == 101
    assert bergen["name"] == "Fjord Bemanning AS avd. Bergen" and bergen["org_number"] == "973609011"
    assert bergen["relationship"] == "customer" and bergen["country"] == "NO" and bergen["owner_ids"] == [1, 2]
    assert bergen["addresses"] == {
        "visiting": {"street": "Bergengata 1", "postcode": "5003", "city": "Bergen", "country": "NO", "region": None},
        "postal": {"street": "Postboks 9", "postcode": "5804", "city": "Bergen", "country": "NO", "region": None}}
    assert tromso["city"] == "Tromsø" and tromso["employees"] == 7
    assert [c.method for c in registry.calls if c.method == "create_company"] == ["create_company"] * 3


def test_only_ticked_subunits_are_created(client, registry):
    made = []
    registry.on("create_company", lambda data: made.append(data) or company(id=200 + len(made)))
    data = picked_form(client, registry)
    data["subunit"] = ["1"]
    assert client.post("/companies/new", data=data, headers=HX).status_code == 204
    assert [m["name"] for m in made] == ["Fjord Bemanning AS", "Fjord Bemanning AS avd. Tromsø"]


def test_a_child_that_fails_is_reported_and_the_parent_stays(client, registry):
    made = []

    def create(data):
        made.append(data)
        if data.get("org_number") == "973609011":
            raise validation_error("org_number", "A company with this organisation number already exists")
        return company(id=300 + len(made), name=data["name"])

    registry.on("create_company", create)
    data = picked_form(client, registry)
    data["subunit"] = ["0", "1"]
    response = client.post("/companies/new", data=data, headers=HX)
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    body = response.text
    assert "Fjord Bemanning AS</strong> was created" in body and "1 of the 2 sub-units" in body
    assert "Fjord Bemanning AS avd. Bergen" in body and "already exists" in body
    assert "avd. Tromsø" not in body  # that one was created
    assert 'href="/companies/301"' in body  # the parent's card
    assert len(made) == 3  # the failure did not stop the third
    # "Try again" re-sends exactly the failed one, with the parent's id
    assert 'name="parent_id" value="301"' in body and 'name="subunit" value="0" checked' in body
    assert 'name="subunits.0.name" value="Fjord Bemanning AS avd. Bergen"' in body
    assert 'name="subunits.1.name"' not in body


def test_try_again_creates_the_failed_subunits_under_the_existing_parent(client, registry):
    made = []
    registry.on("create_company", lambda data: made.append(data) or company(id=400))
    registry.on("get_company", lambda cid: company(id=cid, country="NO", relationship="customer"))
    response = client.post("/registry/children", headers=HX, data={
        "parent_id": "301", "relationship": "customer", "owner_ids": ["1"], "subunit": ["0"],
        "subunits.0.name": "Fjord Bemanning AS avd. Bergen", "subunits.0.org_number": "973609011",
        "subunits.0.visiting.city": "Bergen", "subunits.0.visiting.country": "NO"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/companies/301"
    assert made == [{"name": "Fjord Bemanning AS avd. Bergen", "country": "NO", "org_number": "973609011",
                     "relationship": "customer", "parent_id": 301, "industry_code": None, "industry_text": None,
                     "employees": None, "city": "Bergen", "owner_ids": [1], "department_id": None,
                     "addresses": {"visiting": {"street": None, "postcode": None, "city": "Bergen", "country": "NO",
                                                "region": None}}}]


def test_a_parent_error_keeps_the_subunits_and_their_ticks(client, registry):
    registry.on("create_company", validation_error("org_number", "Already registered"))
    data = picked_form(client, registry)
    data["subunit"] = ["1"]
    response = client.post("/companies/new", data=data, headers=HX)
    assert response.status_code == 422
    body = response.text
    assert "Already registered" in body
    assert 'name="subunit" value="1" checked' in body and 'name="subunit" value="0" checked' not in body
    assert 'name="subunits.0.name" value="Fjord Bemanning AS avd. Bergen"' in body
    assert registry.methods().count("create_company") == 1  # no children without a parent


def test_a_danish_p_number_is_not_sent_as_the_childs_org_number(client, registry):
    made = []
    registry.on("get", lambda ref: detail(country="DK", org_number="12345674", legal_form="ApS"))
    registry.on("subunits", lambda ref: {"items": [subunit(
        "1000000003", "Fyn Vikar ApS Odense", "Odense", postal_address=None,
        visiting_address={"street": "Vestergade 2", "postcode": "5000", "city": "Odense C", "country": "Danmark"})]})
    registry.on("create_company", lambda data: made.append(data) or company(id=500 + len(made), country=data["country"]))
    body = client.get("/registry/pick?country=DK&org_number=12345674", headers=HX).text
    assert "1000000003" in body
    data = picked_form(client, registry)
    assert data["country"] == ["DK"] and data["subunits.0.visiting.country"] == ["DK"]
    data["subunit"] = ["0"]
    client.post("/companies/new", data=data, headers=HX)
    assert made[0]["org_number"] == "12345674" and made[0]["country"] == "DK"
    assert made[1]["org_number"] is None and made[1]["name"] == "Fyn Vikar ApS Odense" and made[1]["parent_id"] == 501
    assert made[1]["country"] == "DK" and made[1]["addresses"]["visiting"]["country"] == "DK"


def test_create_needs_the_csrf_token(rpc, registry):
    client = log_in(make_app(rpc, WTF_CSRF_ENABLED=True).test_client())
    response = client.post("/companies/new", headers=HX, data={
        "name": "Fjord Bemanning AS", "country": "NO", "relationship": "prospect", "subunit": ["0"],
        "subunits.0.name": "Fjord Bemanning AS avd. Bergen"})
    assert response.status_code == 400 and "Your session has expired" in response.text
    assert response.headers["HX-Retarget"] == "#toasts"
    assert client.post("/registry/children", headers=HX, data={"parent_id": "7"}).status_code == 400
    assert "create_company" not in rpc.methods()


def test_registry_pages_need_a_login(anonymous, rpc):
    for url in ("/registry/suggest?q=fjord&countries=NO", "/registry/pick?country=NO&org_number=923609016"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert rpc.calls == []
