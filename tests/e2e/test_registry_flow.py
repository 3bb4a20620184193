"""End to end, “+ then Company”: gateway -> registry_lookup (the dev index built from
generated bulk files) and crm, over RabbitMQ. Search a name from the dev index, pick it,
create it with its sub-units, then find the parent's card and the children."""
from __future__ import annotations

import re

from tests.registry_picks import dev_company, form_fields

HX = {"HX-Request": "true"}
ALL = ["NO", "SE", "DK", "GB"]


def _option_for(body: str, org_number: str) -> str:
    """The <li role=option> of the suggestion list that shows ``org_number``."""
    for option in re.findall(r'<li role="option".*?</li>', body, re.S):
        if org_number in option:
            return option
    raise AssertionError(f"{org_number} is not among the suggestions:\n{body[:3000]}")


def _fold(text: str) -> str:
    return text.casefold()


def _card_id(url: str) -> int:
    match = re.fullmatch(r"/companies/(\d+)", url)
    assert match, url
    return int(match.group(1))


def test_search_pick_and_create_with_subunits(suite, admin):
    c = dev_company(0)
    base = suite.url

    # a one-character query asks for more and searches nothing
    short = admin.get(f"{base}/registry/suggest", params={"q": c["name"][0], "countries": ALL}, headers=HX)
    assert short.status_code == 200 and "Type at least 2 characters" in short.text

    # suggestions as you type: the company, with its number, city and country, not yet in the CRM
    found = admin.get(f"{base}/registry/suggest", params={"q": c["name"], "countries": ALL}, headers=HX)
    assert found.status_code == 200 and "<html" not in found.text
    option = _option_for(found.text, c["org_number"])
    assert _fold(c["name"].replace("&", "&amp;")) in _fold(option) and "NO" in option
    assert "Already in your CRM" not in option and "/registry/pick?country=NO" in option
    assert "registry did not answer" not in found.text

    # unticking Norway leaves its registry out
    sweden = admin.get(f"{base}/registry/suggest", params={"q": c["name"], "countries": ["SE"]}, headers=HX)
    assert sweden.status_code == 200 and c["org_number"] not in sweden.text

    # the pick fills the form and lists the sub-units
    pick = admin.get(f"{base}/registry/pick", params={"country": "NO", "org_number": c["org_number"]}, headers=HX)
    assert pick.status_code == 200
    data = form_fields(pick.text)
    # (Brønnøysund writes names and places in capitals)
    assert _fold(data["name"][0]) == _fold(c["name"]) and data["org_number"] == [c["org_number"]]
    assert data["country"] == ["NO"]
    assert data["legal_form"] == ["AS"] and data["industry_code"][0].replace(".", "").startswith(c["nace"][:2])
    assert _fold(data["addresses.visiting.city"][0]) == _fold(c["visiting"]["city"])
    units = {data[key][0]: key.split(".")[1] for key in data if re.fullmatch(r"subunits\.\d+\.org_number", key)}
    assert set(units) == {s["org_number"] for s in c["subs"]}, units

    # create it with every sub-unit ticked
    data["subunit"] = sorted(units.values())
    data["relationship"] = ["customer"]
    created = admin.post(f"{base}/companies/new", data=data, headers=HX)
    assert created.status_code == 204, created.text[:2000]
    parent_url = created.headers["HX-Redirect"]
    parent_id = _card_id(parent_url)

    card = admin.get(f"{base}{parent_url}")
    assert card.status_code == 200 and c["org_number"] in card.text
    assert _fold(c["name"].replace("&", "&amp;")) in _fold(card.text)

    # each sub-unit is a child company: its own card names the parent
    for sub in c["subs"]:
        results = admin.get(f"{base}/companies", params={"q": sub["org_number"]}, headers=HX)
        ids = {int(i) for i in re.findall(r'href="/companies/(\d+)"', results.text)} - {parent_id}
        assert len(ids) == 1, (sub, results.text[:2000])
        child = admin.get(f"{base}/companies/{ids.pop()}")
        assert child.status_code == 200 and sub["org_number"] in child.text
        assert f'<a href="/companies/{parent_id}">' in child.text  # "Parent company" on the General box
        assert _fold(sub["visiting"]["city"]) in _fold(child.text)
        assert "Customer" in child.text

    # searching again: the suggestion now says it is in the CRM and links to its card
    again = admin.get(f"{base}/registry/suggest", params={"q": c["name"], "countries": ALL}, headers=HX)
    option = _option_for(again.text, c["org_number"])
    assert "Already in your CRM" in option and f'href="{parent_url}"' in option


def test_an_unknown_number_gives_an_empty_form_for_manual_entry(suite, admin):
    pick = admin.get(f"{suite.url}/registry/pick", params={"country": "NO", "org_number": "923609016"}, headers=HX)
    assert pick.status_code == 200
    assert 'id="company-form"' in pick.text and 'name="name" type="text" value=""' in pick.text
    assert "Enter the company by hand" in pick.text
