"""list_companies (filters, sorts, pages, facets) and saved views, over real
RabbitMQ on SQLite and PostgreSQL."""
from datetime import date

from conftest import remote_error


def test_overview_filters_sorts_pages_and_facets(clients, world):
    rpc = clients["admin"]
    everything = rpc.list_companies({"per_page": 200, "facets": True})
    assert everything["total"] == 12 and len(everything["items"]) == 12
    item = everything["items"][0]
    assert set(item) == {"id", "name", "org_number", "country", "city", "region", "relationship", "owners",
                         "logo_version", "active_projects", "unresolved_tasks", "unsigned_agreements",
                         "invoiced_this_year", "currency", "credit_band", "credit_score"}
    assert item["currency"] == "NOK"
    facets = everything["facets"]
    assert sum(f["count"] for f in facets["relationship"]) == 12
    assert sum(f["count"] for f in facets["country"]) == 12
    assert all({"value", "label", "count"} <= set(f) for f in facets["owner"] + facets["industry"])

    # every sort, both directions, is accepted and ordered
    for key in ("active_projects", "unresolved_tasks", "unsigned_agreements"):
        values = [c[key] for c in rpc.list_companies({"sort": "-" + key, "per_page": 200})["items"]]
        assert values == sorted(values, reverse=True), key
    money = [float(c["invoiced_this_year"]) for c in rpc.list_companies({"sort": "-invoiced_this_year"})["items"]]
    assert money == sorted(money, reverse=True)
    for key in ("name", "org_number", "city", "relationship", "created_at", "invoiced_this_year"):
        assert rpc.list_companies({"sort": key})["sort"] == key

    # filters narrow, and facets count over the other filters
    rel = facets["relationship"][0]
    narrowed = rpc.list_companies({"relationship": [rel["value"]], "facets": True})
    assert narrowed["total"] == rel["count"]
    assert all(c["relationship"] == rel["value"] for c in narrowed["items"])
    assert sum(f["count"] for f in narrowed["facets"]["relationship"]) == 12  # its own facet ignores its filter
    assert sum(f["count"] for f in narrowed["facets"]["country"]) == rel["count"]
    country = facets["country"][0]
    assert rpc.list_companies({"country": [country["value"]]})["total"] == country["count"]
    city = facets["city"][0]
    assert rpc.list_companies({"city": city["value"]})["total"] == city["count"]
    industry = facets["industry"][0]
    assert rpc.list_companies({"industry": [industry["value"][:2]]})["total"] >= industry["count"]
    word = industry["label"].split()[0]
    assert rpc.list_companies({"industry": [word.lower()]})["total"] >= industry["count"]
    with_tasks = rpc.list_companies({"has_unresolved_tasks": True, "per_page": 200})
    assert all(c["unresolved_tasks"] > 0 for c in with_tasks["items"])
    without = rpc.list_companies({"has_unresolved_tasks": False})
    assert with_tasks["total"] + without["total"] == 12
    assert all(c["unsigned_agreements"] > 0
               for c in rpc.list_companies({"has_unsigned_agreements": True, "per_page": 200})["items"])

    # owner "mine", tags, attributes
    target = everything["items"][3]
    rpc.update_company(target["id"], {"owner_ids": [world["admin"]]})
    mine = rpc.list_companies({"owner": ["mine"], "per_page": 200})
    assert target["id"] in [c["id"] for c in mine["items"]]
    assert all(world["admin"] in [o["id"] for o in c["owners"]] for c in mine["items"])
    rpc.set_tags(target["id"], ["Kjempeviktig"])
    assert [c["id"] for c in rpc.list_companies({"tag": ["kjempeviktig"]})["items"]] == [target["id"]]
    stars = rpc.create_attribute({"name": "Stjerner", "type": "stars"})
    rpc.set_attribute_value(target["id"], stars["id"], 4)
    assert rpc.list_companies({"attr": {str(stars["id"]): 3}})["total"] == 1
    assert rpc.list_companies({"attr": {str(stars["id"]): 5}})["total"] == 0

    # q, paging
    assert rpc.list_companies({"q": target["name"].split()[0]})["total"] >= 1
    first = rpc.list_companies({"per_page": 5, "page": 1})
    second = rpc.list_companies({"per_page": 5, "page": 2})
    assert not {c["id"] for c in first["items"]} & {c["id"] for c in second["items"]}
    assert rpc.list_companies({"page": 99})["items"] == []


def test_overview_counts_equal_the_records_behind_them(clients):
    rpc = clients["admin"]
    year = str(date.today().year)
    for item in rpc.list_companies({"per_page": 200})["items"]:
        cid = item["id"]
        assert item["active_projects"] == sum(p["active"] for p in rpc.list_projects(cid))
        assert item["unresolved_tasks"] == sum(not t["done"] for t in rpc.list_tasks(cid))
        assert item["unsigned_agreements"] == sum(a["status"] != "signed" for a in rpc.list_agreements(cid))
        invoiced = sum(float(i["amount"]) for i in rpc.list_invoices(cid) if i["issued_on"].startswith(year))
        assert abs(float(item["invoiced_this_year"]) - invoiced) < 0.001


def test_bad_overview_queries_name_the_field(clients):
    rpc = clients["admin"]
    for query, field in (({"sort": "bogus"}, "sort"), ({"per_page": 500}, "per_page"), ({"page": 0}, "page"),
                         ({"relationship": ["friend"]}, "relationship"), ({"attr": {"9999": True}}, "attr.9999"),
                         ({"colour": "red"}, "colour")):
        err = remote_error(rpc.list_companies, query)
        assert err.exc_type == "ValidationError" and field in str(err), query


def test_saved_views_are_personal_unless_shared(clients):
    admin, kari, other = clients["admin"], clients["kari"], clients["b"]
    personal = admin.save_view({"name": "Mine kunder", "query": "owner=mine&relationship=customer"})
    shared = admin.save_view({"name": "Alle i Oslo", "query": "city=Oslo", "shared": True})
    assert personal["mine"] and not personal["shared"] and shared["shared"]
    assert {v["name"] for v in admin.list_views()} == {"Mine kunder", "Alle i Oslo"}
    seen = kari.list_views()
    assert [v["name"] for v in seen] == ["Alle i Oslo"] and seen[0]["mine"] is False
    assert seen[0]["owner"]["name"] == "Anne Admin"
    assert other.list_views() == []
    assert remote_error(kari.delete_view, shared["id"]).exc_type == "Forbidden"
    assert remote_error(kari.delete_view, personal["id"]).exc_type == "NotFound"
    assert remote_error(other.delete_view, shared["id"]).exc_type == "NotFound"
    again = admin.save_view({"name": "Mine kunder", "query": "owner=mine"})  # same name replaces
    assert again["id"] == personal["id"] and again["query"] == "owner=mine"
    hers = kari.save_view({"name": "Kari deler", "query": "q=bygg", "shared": True})
    assert admin.delete_view(hers["id"]) == {"deleted": True}  # an admin may delete a shared view
    assert admin.delete_view(personal["id"]) == {"deleted": True}
    assert remote_error(admin.save_view, {"name": "", "query": ""}).exc_type == "ValidationError"


def test_live_search_orders_the_same_whether_it_walks_the_name_index_or_sorts_the_matches(clients, world,
                                                                                          monkeypatch):
    """Many matches walk the name index, few are sorted (on PostgreSQL by ``sort_name || ''``):
    both give the same companies in the same order, both directions, on every page."""
    from collections import Counter

    from crm import overview
    from service_common import text

    rpc = clients["admin"]
    names = [c["name"] for c in rpc.list_companies({"per_page": 200})["items"]]
    word, _n = Counter(w[:1] for name in names for w in set(text.words(name))).most_common(1)[0]
    answers = []
    for walk_from in (0, 10**9):  # always walk, never walk
        monkeypatch.setattr(overview, "WALK_FROM", walk_from)
        monkeypatch.setattr(overview, "WALK_FROM_POSTGRES", walk_from)
        pages = []
        for sort in ("name", "-name"):
            for page in (1, 2):
                got = rpc.list_companies({"q": word, "sort": sort, "per_page": 2, "page": page})
                pages.append((got["total"], [c["id"] for c in got["items"]]))
        answers.append(pages)
    assert answers[0] == answers[1]
    assert answers[0][0][0] >= 3 and answers[0][0][1]  # the word matches several companies
    asc = answers[0][0][1] + answers[0][1][1]
    assert [c["id"] for c in rpc.list_companies({"q": word, "sort": "name", "per_page": 4})["items"]] == asc
