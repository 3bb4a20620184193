"""Languages (issue 14): the catalogs are complete, the language follows the user, then the
tenant, then the browser, and money, numbers and dates follow the locale.

The completeness check extracts the marked strings from the templates and Python sources
as `pybabel extract` does (gateway/babel.cfg) and fails on any msgid that a catalog lacks:
English and Norwegian Bokmål for everything, Swedish and Danish for the overview, the card,
the new-company dialog and login (REQUIRED_EVERYWHERE)."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from gateway_fakes import TENANT, USER, log_in, session_state

ROOT = Path(__file__).resolve().parents[1]  # gateway/
PACKAGE = ROOT / "gateway"
CATALOGS = PACKAGE / "translations"
HX = {"HX-Request": "true"}

# the areas Swedish and Danish must cover: overview, card, new-company dialog, login (and the frame around them)
REQUIRED_EVERYWHERE = (
    "templates/base.html", "templates/_macros.html", "templates/_toast.html", "templates/error.html",
    "templates/auth/login.html", "templates/companies/", "templates/registry/", "companies.py", "card.py",
    "registry.py", "registry_data.py", "errors.py", "forms.py", "formats.py",
    # the card's tabs and boxes, the header's bell, the overview's selection bar
    "templates/records/", "records.py", "words.py", "templates/credit/_box.html", "templates/notifications/_bell.html",
    "templates/bulk/_bar.html",
)


def _extracted() -> dict[str, tuple[object, set[str]]]:
    """msgid -> (the id as extracted, the files it comes from)."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}
    out: dict[str, tuple[object, set[str]]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map, options_map, keywords=keywords):
        key = message if isinstance(message, str) else message[0]
        out.setdefault(key, (message, set()))[1].add(filename)
    return out


@pytest.fixture(scope="module")
def extracted():
    found = _extracted()
    assert len(found) > 150, "extraction found too few strings: is babel.cfg right?"
    return found


def _catalog(lang: str):
    with open(CATALOGS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def _missing(lang: str, extracted, only=None) -> list[str]:
    catalog = _catalog(lang)
    missing = []
    for key, (message, files) in sorted(extracted.items()):
        if only and not any(f.startswith(only) for f in files):
            continue
        entry = catalog.get(message if isinstance(message, str) else message[0])
        strings = entry.string if entry is not None else None
        if isinstance(strings, (tuple, list)):
            ok = all(strings)
        else:
            ok = bool(strings)
        if not ok or (entry is not None and entry.fuzzy):
            missing.append(key)
    return missing


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_english_and_bokmal_translate_every_string(lang, extracted):
    missing = _missing(lang, extracted)
    assert not missing, f"{lang}: {len(missing)} strings without a translation (make i18n-update, then translate): " \
                        f"{missing[:20]}"


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_swedish_and_danish_cover_overview_card_new_company_and_login(lang, extracted):
    missing = _missing(lang, extracted, only=REQUIRED_EVERYWHERE)
    assert not missing, f"{lang}: {len(missing)} strings of the required areas untranslated: {missing[:20]}"


def test_catalogs_keep_placeholders(extracted):
    """A translation that drops or renames %(name)s would fail at render time."""
    import re

    placeholder = re.compile(r"%\(\w+\)s")
    for lang in ("nb", "sv", "da"):
        for entry in _catalog(lang):
            if not entry.id or not entry.string:
                continue
            ids = entry.id if isinstance(entry.id, (tuple, list)) else (entry.id,)
            strings = entry.string if isinstance(entry.string, (tuple, list)) else (entry.string,)
            wanted = set(placeholder.findall(ids[-1])) - {"%(num)s"}
            for s in strings:
                if s:  # an untranslated form falls back to English
                    assert wanted <= set(placeholder.findall(s)), (lang, entry.id, s)


# -- the language of a request ----------------------------------------------------------------
def _user(language=None):
    return {**USER, "language": language}


def _as(client, rpc, language=None, tenant_language=None, tenant_zone=None):
    tenant = {**TENANT, "language": tenant_language, "timezone": tenant_zone}
    user = _user(language)
    rpc.on("session_state", lambda v: {**session_state(v, user), "tenant": tenant})
    with client.session_transaction() as session:
        session["user"] = {**user, "session_version": 1}
        session["tenant"] = tenant
    return client


def test_english_is_the_default_and_html_lang_follows(client):
    body = client.get("/companies").text
    assert '<html lang="en">' in body and ">Companies<" in body


def test_the_browser_language_counts_when_nobody_chose(app, rpc):
    client = app.test_client()
    body = client.get("/login", headers={"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"}).text
    assert '<html lang="nb">' in body and "Logg inn" in body
    assert "Logga in" in app.test_client().get("/login", headers={"Accept-Language": "sv-SE"}).text
    assert "Log ind" in app.test_client().get("/login", headers={"Accept-Language": "da"}).text
    assert "Log in" in app.test_client().get("/login", headers={"Accept-Language": "fr-FR,de"}).text


def test_the_user_setting_beats_the_tenant_default_which_beats_the_browser(app, rpc):
    client = _as(app.test_client(), rpc, language=None, tenant_language="sv")
    assert '<html lang="sv">' in client.get("/companies", headers={"Accept-Language": "da"}).text
    from gateway_fakes import make_app

    client = _as(make_app(rpc).test_client(), rpc, language="nb", tenant_language="sv")  # a fresh session cache
    body = client.get("/companies", headers={"Accept-Language": "da"}).text
    assert '<html lang="nb">' in body and ">Selskaper<" in body


def test_norwegian_money_numbers_and_dates(app, rpc):
    from gateway_fakes import list_item, list_result

    rpc.on("list_companies", lambda q: list_result(q, items=[list_item(invoiced_this_year="1250000.00")], total=1234))
    client = _as(app.test_client(), rpc, language="nb")
    body = client.get("/companies", headers=HX).text
    assert "1\u00a0250\u00a0000\u00a0kr" in body and "1\u00a0234" in body and "selskaper" in body


def test_the_account_page_stores_the_language(app, rpc):
    client = _as(app.test_client(), rpc)
    rpc.on("get_account", {"status": "ok", "user": _user(), "tenant": TENANT, "must": None, "totp_enabled": False,
                           "recovery_codes_left": 0})
    body = client.get("/account").text
    assert 'name="language"' in body and "Norsk bokmål" in body
    stored = {}

    def set_language(data):
        stored.update(data)
        return {"status": "ok", "user": {**_user(data["language"]), "session_version": 1}, "tenant": TENANT,
                "must": None}

    rpc.on("set_account_language", set_language)
    response = client.post("/account/language", data={"language": "nb"})
    assert response.status_code == 303 and stored == {"language": "nb"}
    assert client.post("/account/language", data={"language": "xx"}).status_code == 422


def test_service_messages_are_translated_by_their_text(app, rpc):
    from gateway import errors

    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        assert errors.say("Wrong e-mail or password") == "Feil e-post eller passord"
        assert "3" in errors.say("Wrong code. Check the time on your phone and try again (3 tries left).")
        assert errors.say("Something nobody translated") == "Something nobody translated"


def test_dates_are_typed_the_locale_way(app):
    from gateway.forms import Form

    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        form = Form({"d": "31.12.2026", "bad": "snart"})
        assert form.date("d") == "2026-12-31" and form.date("bad") is None
        assert "31.12.2026" in form.errors["bad"]


def test_an_admin_sets_the_tenant_default_language_and_time_zone(client, rpc):
    rpc.on("get_tenant_settings", {**TENANT, "slug": "demo", "require_2fa": False, "users_without_2fa": 0,
                                   "language": None, "timezone": None})
    body = client.get("/admin/security").text
    assert 'name="language"' in body and "Europe/Stockholm" in body
    sent = []
    rpc.on("set_tenant_settings", lambda data: sent.append(data) or {**TENANT, **data})
    assert client.post("/admin/regional", data={"language": "sv", "timezone": "Europe/Stockholm"}).status_code == 303
    assert sent == [{"language": "sv", "timezone": "Europe/Stockholm"}]
    assert client.post("/admin/regional", data={"language": "", "timezone": ""}).status_code == 303
    assert sent[-1] == {"language": None, "timezone": None}
    assert client.post("/admin/regional", data={"language": "xx"}).status_code == 422


def test_history_words_follow_the_language(app):
    from gateway.words import entity_text, field_text

    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        assert entity_text("contact", "Contact") == "Kontaktperson" and field_text("contact", "first_name") == "fornavn"
        assert field_text("attribute", "Size", "Size") == "Size"  # an attribute's own name stays
        assert field_text("address", "visiting.street", "visiting address street") == "visiting address street"


def test_the_tenant_time_zone_shows_times(app):
    from flask import g

    from gateway import formats

    for zone, shown in (("Europe/London", "1 Dec 2026 09:00"), (None, "1 Dec 2026 10:00")):  # None: GATEWAY_TIMEZONE
        with app.test_request_context("/"):
            g.tenant = {"timezone": zone}
            assert formats.datetime_text("2026-12-01T09:00:00Z") == shown


def test_what_the_services_write_is_worded_in_the_users_language(app):
    """The crm's timeline, bulk summaries and notifications and the credit monitor's status carry codes and
    parameters next to their English text: the gateway words them (English keeps the service's own text)."""
    from gateway import words

    change = {"kind": "change", "title": "Changed name and billing address city", "detail": "Name: A → B; …",
              "code": "fields_changed", "params": {"entity": "company", "changes": [
                  {"entity": "company", "field": "name", "old": "A", "new": "B"},
                  {"entity": "address", "field": "billing.city", "old": None, "new": "Oslo"}]}}
    contact = {"kind": "change", "title": "Contact: changed active", "detail": "Active: yes → no",
               "code": "fields_changed", "params": {"entity": "contact", "changes": [
                   {"entity": "contact", "field": "active", "old": "true", "new": "false"}]}}
    created = {"kind": "change", "title": "Company created", "detail": "Acme AS", "code": "company_created",
               "params": {"name": "Acme AS"}}
    email = {"kind": "activity", "title": "E-mail", "detail": "E-mail to a@b.no: Hi (campaign #4)",
             "code": "email_sent", "params": {"activity_kind": "email", "to": "a@b.no", "subject": "Hi",
                                              "campaign_id": 4}}
    typed = {"kind": "activity", "title": "Call", "detail": "Talked about prices", "code": "activity",
             "params": {"activity_kind": "call"}}
    task = {"kind": "task", "title": "Send offer", "detail": "due 2026-12-31", "code": "task",
            "params": {"done": False, "due_date": "2026-12-31"}}
    old_crm = {"kind": "change", "title": "Changed name", "detail": "Name: A → B"}  # no code: as written
    op = {"kind": "add_tags", "summary": "Add tags: VIP", "summary_params": {"tags": ["VIP"]}}
    note = {"kind": "credit_rating", "title": "Credit rating of Acme AS: — → A (85)",
            "params": {"company": "Acme AS", "old": "—", "new": "A (85)"}}
    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        assert words.timeline_title(change) == "Endret navn og fakturaadresse sted"
        assert words.timeline_detail(change) == "Navn: A → B; Fakturaadresse sted: — → Oslo"
        assert words.timeline_title(contact) == "Kontaktperson: endret aktiv"
        assert words.timeline_detail(contact) == "Aktiv: ja → nei"
        assert (words.timeline_title(created), words.timeline_detail(created)) == ("Selskap opprettet", "Acme AS")
        assert words.timeline_detail(email) == "E-post til a@b.no: Hi (kampanje #4)"
        assert words.timeline_detail(typed) == "Talked about prices"  # what a user typed stays
        assert words.timeline_detail(task) == "forfaller 31. des. 2026"
        assert (words.timeline_title(old_crm), words.timeline_detail(old_crm)) == ("Changed name", "Name: A → B")
        assert words.bulk_summary(op) == "Legg til stikkord: VIP"
        assert words.notification_title(note) == "Kredittvurdering for Acme AS: — → A (85)"
        assert words.credit_status_text({"status": "active", "status_text": "Monitored by Creditsafe"}) \
            == "Overvåkes av Creditsafe"
        assert words.risk_text("Very Low Risk") == "Svært lav risiko" and words.risk_text("Something") == "Something"
        row = {"entity": "task", "field": "done", "old": "false", "new": "true", "old_text": "no", "new_text": "yes"}
        assert (words.history_value(row, "old"), words.history_value(row, "new")) == ("nei", "ja")
        assert words.history_value({"entity": "company", "field": "relationship", "new": "customer"}, "new") == "Kunde"
    with app.test_request_context("/"):
        assert words.timeline_title(change) == change["title"] and words.timeline_detail(change) == change["detail"]
        assert words.bulk_summary(op) == "Add tags: VIP" and words.notification_title(note) == note["title"]
        assert words.history_value(row, "new") == "yes" and words.history_value({"old": None}, "old") == "—"
