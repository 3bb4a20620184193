"""The company overview: full page vs fragment, the URL as the whole state,
filters -> RPC query, sorting, pages, saved views."""
from urllib.parse import parse_qsl, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from gateway_fakes import HX, list_item, list_result
from gateway.overview import State, page_window


# -- full page, fragment, history restore -------------------------------------------------------
def test_full_page_without_htmx(client, rpc):
    response = client.get("/companies?q=fjord")
    assert response.status_code == 200
    assert "<!doctype html>" in response.text
    assert 'id="filter-panel"' in response.text and 'id="results"' in response.text
    assert 'id="saved-views"' in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_fragment_with_htmx_has_results_and_refreshes_the_panel_out_of_band(client, rpc):
    response = client.get("/companies?q=fjord", headers=HX)
    assert response.status_code == 200
    body = response.text
    assert "<!doctype html>" not in body
    assert body.lstrip().startswith('<div id="results"')
    assert 'id="facets-loader" hidden hx-swap-oob="true"' in body and 'hx-target="#filter-panel"' in body
    assert "list_attributes" not in rpc.methods()  # nothing the typing user waits for needlessly
    assert 'id="view-query"' in body
    assert "HX-Request" in response.headers["Vary"]
    assert "list_views" not in rpc.methods()  # the fragment does not need them


def test_history_restore_gets_the_full_page(client):
    response = client.get("/companies?q=fjord", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<!doctype html>" in response.text


def test_page_needs_one_parallel_round_with_the_callers_identity(client, rpc):
    client.get("/companies")
    assert sorted(rpc.methods()) == ["list_attributes", "list_companies", "list_views"]
    assert all(c.context == {"tenant_id": 10, "user_id": 1} for c in rpc.calls)
    assert all(c.thread.startswith("fake-fanout") for c in rpc.calls)


# -- filters -> URL -> RPC query ------------------------------------------------------------------
URL = ("/companies?q=fjord&relationship=customer&relationship=prospect&relationship=bogus&country=no&region=Oslo"
       "&city=Oslo&city=Bergen&industry=78&owner=mine&owner=7&owner=x&department=2&tag=vip&attr.3=Gold&attr.3=Silver"
       "&stars.2=3&flag.1=no&has_unresolved_tasks=1&has_unsigned_agreements=1&sort=-invoiced_this_year&page=4")


def test_filters_in_the_url_become_the_rpc_query(client, rpc):
    client.get(URL, headers=HX)
    query = rpc.last("list_companies").args[0]
    assert query == {
        "q": "fjord", "relationship": ["customer", "prospect"], "country": ["NO"], "region": ["Oslo"],
        "city": ["Oslo", "Bergen"], "industry": ["78"], "owner": ["mine", 7], "department": [2], "tag": ["vip"],
        "attr": {"3": ["Gold", "Silver"], "2": 3, "1": False},
        "has_unresolved_tasks": True, "has_unsigned_agreements": True,
        "sort": "-invoiced_this_year", "page": 4, "per_page": 50, "facets": False,
    }


def test_unfiltered_query_is_minimal(client, rpc):
    client.get("/companies", headers=HX)
    assert rpc.last("list_companies").args[0] == {"sort": "name", "page": 1, "per_page": 50, "facets": False}


def test_state_round_trips_through_the_url():
    state = State.from_query_string(urlsplit(URL).query)
    again = State.from_query_string(state.query_string())
    assert again == state
    assert ("relationship", "bogus") not in state.pairs()
    assert state.query_string(with_page=False).count("page=") == 0


def test_a_filter_change_goes_back_to_page_one_and_keeps_the_rest():
    state = State.from_args(MultiDict([("q", "a"), ("city", "Oslo"), ("page", "9"), ("sort", "city")]))
    without = dict(parse_qsl(state.without("city", "Oslo").query_string()))
    assert without == {"q": "a", "sort": "city"}


def test_the_list_comes_without_facets_and_the_panel_loads_them_after(client, rpc):
    body = client.get("/companies?city=Oslo&owner=mine", headers=HX).text
    assert rpc.last("list_companies").args[0]["facets"] is False  # typing and paging stay fast
    assert 'id="facets-loader"' in body and 'hx-get="/companies/filters?city=Oslo&amp;owner=mine"' in body
    client.get("/companies/filters?city=Oslo&owner=mine", headers=HX)
    assert rpc.last("list_companies").args[0]["facets"] is True


def test_panel_shows_facet_counts_and_checked_options(client):
    body = client.get("/companies/filters?city=Oslo&owner=mine", headers=HX).text
    assert 'name="city" value="Oslo" checked' in body
    assert 'name="owner" value="mine" checked' in body
    assert '<span class="facet-label">Bergen</span><span class="facet-count">2</span>' in body
    # text attributes are not filterable; the other four types are
    assert "flag.1" in body and "stars.2" in body and "attr.3" in body and "attr.4" in body and "attr.5" not in body


def test_active_filters_have_remove_links(client):
    body = client.get("/companies?city=Oslo&tag=vip", headers=HX).text
    assert 'href="/companies?tag=vip"' in body  # removing Oslo
    assert 'href="/companies?city=Oslo"' in body  # removing vip


def test_the_credit_rating_column_is_sortable(client):  # issue 10 (was: no credit column yet)
    body = client.get("/companies").text
    assert 'href="/companies?sort=-credit_score">Credit rating' in body.split('id="results"')[1]


# -- sorting ------------------------------------------------------------------------------------------
def test_sort_headers_link_to_the_next_sort_and_say_aria_sort(client):
    body = client.get("/companies?city=Oslo&sort=-unresolved_tasks", headers=HX).text
    assert 'aria-sort="descending"' in body
    assert 'href="/companies?city=Oslo&amp;sort=unresolved_tasks"' in body  # toggles
    assert 'href="/companies?city=Oslo&amp;sort=-active_projects"' in body  # counts start biggest first
    assert 'href="/companies?city=Oslo&amp;sort=org_number"' in body
    assert 'href="/companies?city=Oslo&amp;sort=-invoiced_this_year"' in body
    assert body.count('aria-sort="none"') == 8  # + the credit rating (issue 10)


@pytest.mark.parametrize("column", ["active_projects", "unresolved_tasks", "unsigned_agreements", "invoiced_this_year"])
def test_counts_are_sortable(column):
    state = State()
    assert state.sorted_by(column).sort == f"-{column}"
    assert state.sorted_by(column).sorted_by(column).sort == column


def test_unknown_sort_falls_back_to_name(client, rpc):
    client.get("/companies?sort=password", headers=HX)
    assert rpc.last("list_companies").args[0]["sort"] == "name"


# -- pages ----------------------------------------------------------------------------------------------
def test_page_window_stays_small_on_page_2000():
    assert page_window(2000, 4000) == [1, None, 1998, 1999, 2000, 2001, 2002, None, 4000]
    assert page_window(1, 3) == [1, 2, 3]


def test_pager_links_and_go_to_page(client, rpc):
    rpc.on("list_companies", lambda q: list_result(q, total=200_000))
    body = client.get("/companies?city=Oslo&page=2000", headers=HX).text
    assert 'aria-current="page">2,000<' in body
    assert 'href="/companies?city=Oslo&amp;page=4000"' in body
    assert 'href="/companies?city=Oslo&amp;page=1999"' in body and 'rel="prev"' in body
    assert '<input type="hidden" name="city" value="Oslo">' in body
    assert 'name="page" min="1" max="4000"' in body


def test_page_beyond_the_end_offers_the_last_page(client, rpc):
    rpc.on("list_companies", lambda q: list_result(q, items=[], total=120))
    body = client.get("/companies?page=99", headers=HX).text
    assert "There is no page 99" in body and 'href="/companies?page=3"' in body


def test_money_is_formatted_in_the_tenant_currency(client, rpc):
    rpc.on("list_companies", lambda q: list_result(q, items=[list_item(invoiced_this_year="1234567.00")]))
    assert "NOK\u00a01,234,567" in client.get("/companies", headers=HX).text


# -- saved views --------------------------------------------------------------------------------------------
def test_save_view_saves_the_canonical_query(client, rpc):
    rpc.on("save_view", lambda v: {"id": 2, **v, "owner": {"id": 1, "name": "Ada"}, "mine": True})
    response = client.post("/companies/views", headers=HX,
                           data={"name": "Oslo VIP", "shared": "1", "query": "tag=vip&city=Oslo&page=3&bogus=1"})
    assert response.status_code == 200
    assert rpc.last("save_view").args[0] == {"name": "Oslo VIP", "query": "city=Oslo&tag=vip", "shared": True}
    assert response.text.lstrip().startswith('<div id="saved-views"')


def test_save_view_without_name_is_422_inline(client, rpc):
    response = client.post("/companies/views", headers=HX, data={"name": " ", "query": "city=Oslo"})
    assert response.status_code == 422
    assert 'class="field-error" id="view-name-err"' in response.text
    assert 'value="city=Oslo"' in response.text
    assert "save_view" not in rpc.methods()


def test_delete_view(client, rpc):
    rpc.on("delete_view", {"deleted": True})
    response = client.delete("/companies/views/1?query=city%3DOslo", headers=HX)
    assert response.status_code == 200
    assert rpc.last("delete_view").args == [1]


def test_saved_views_link_to_their_url(client):
    body = client.get("/companies").text
    assert 'href="/companies?relationship=customer&amp;owner=mine"' in body


def test_mine_is_one_box_that_can_be_unticked(client):
    """Issue 13: with owner=mine ticked there is one "Mine" box (no second lowercase "mine"),
    and without it nothing of "mine" stays behind."""
    import re

    body = client.get("/companies/filters?owner=mine", headers=HX).text
    assert len(re.findall(r'name="owner" value="mine"', body)) == 1
    assert 'name="owner" value="mine" checked' in body
    assert ">mine<" not in body
    body = client.get("/companies/filters", headers=HX).text
    assert len(re.findall(r'name="owner" value="mine"', body)) == 1 and 'value="mine" checked' not in body


def test_ticked_facet_values_come_first_with_a_filter_box_and_show_all(client, rpc):
    """Issue 13: ticked values on top; long facets have a filter box and, when cut, "Show all"."""
    import re

    from gateway_fakes import list_result

    cities = [{"value": f"By {i:02d}", "count": 100 - i} for i in range(40)]

    def answer(q):
        out = list_result(q)
        out["facets"]["city"] = cities
        out["facet_values"] = {"city": 250 if q.get("facet_limit") == 200 else 40, "tag": 1}
        return out

    rpc.on("list_companies", answer)
    body = client.get("/companies/filters?city=By+39", headers=HX).text
    assert rpc.last("list_companies").args[0]["facet_limit"] == 200
    values = re.findall(r'name="city" value="([^"]+)"', body)
    assert values[0] == "By 39" and len(values) == 40  # ticked first, nothing cut at 30
    assert 'data-facet-filter="city"' in body and 'data-facet-list="city"' in body
    assert 'hx-get="/companies/filters?city=By+39&amp;all=1"' in body and "Show all 250" in body
    assert 'data-facet-filter="tag"' not in body  # a short list needs no box
    body = client.get("/companies/filters?city=By+39&all=1", headers=HX).text
    assert rpc.last("list_companies").args[0]["facet_limit"] == 5000 and "Show all" not in body


def test_the_industry_chip_shows_the_industry_text(client, rpc):
    from gateway_fakes import list_result

    rpc.on("list_companies", lambda q: {**list_result(q), "labels": {"industry": {"78.200": "Temporary employment"}}})
    body = client.get("/companies?industry=78.200", headers=HX).text
    assert "Industry: Temporary employment" in body
