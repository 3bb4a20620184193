"""Campaigns end to end at the service level: the real crm answers the recipient
pages, the real SMTP server counts what arrives, the crm's timeline gets the
e-mail activities through the outbox. SQLite and PostgreSQL for the mailer."""
import time
import uuid

import pytest
from nameko.exceptions import RemoteError

from conftest import MESSAGE, make_companies, wait_done, wait_for


def _campaign(mailer, ids, kinds=("company", "contacts"), key=None, **extra):
    return mailer.create_campaign({**MESSAGE, "selection": {"ids": ids}, "kinds": list(kinds),
                                   "idempotency_key": key or uuid.uuid4().hex, **extra})


def test_one_message_per_address_with_correct_mime_and_timeline(clients, crm_world, smtp_factory, mailer_factory):
    smtp = smtp_factory()
    mailer_factory(smtp)
    crm, mailer = clients["crm"], clients["mailer"]
    ids = make_companies(crm, 3, 2)
    aero = crm.create_company({"name": "Ærø Søfart ApS", "country": "DK", "email": "post@aero.dk"})["id"]
    crm.create_contact({"company_id": aero, "first_name": "Åsa", "last_name": "<b>Øberg</b>", "email": "asa@aero.dk"})
    crm.create_contact({"company_id": ids[0], "first_name": "Dup", "email": "POST@aero.dk"})  # same address twice
    inactive = crm.create_contact({"company_id": ids[1], "first_name": "Gone", "email": "gone@x.no"})
    crm.set_contact_active(inactive["id"], False)
    crm.create_contact({"company_id": ids[2], "first_name": "Nomail"})
    selection = ids + [aero]

    summary = mailer.audience({"selection": {"ids": selection}, "kinds": ["company", "contacts"]})
    assert summary["addresses"] == 3 + 6 + 2 and summary["duplicates"] == 1
    assert summary["skipped"]["inactive"] == 1 and summary["skipped"]["no_address"] == 1

    key = uuid.uuid4().hex
    campaign = _campaign(mailer, selection, key=key)
    assert campaign["total"] == 11 and campaign["status"] == "sending"
    assert _campaign(mailer, selection, key=key)["id"] == campaign["id"]  # a retried request: the same campaign
    done = wait_done(mailer, campaign["id"])
    assert done["counts"]["sent"] == 11 and done["counts"]["failed"] == 0 and done["counts"]["skipped"] == 2

    received = smtp.messages()
    rcpts = [m["rcpt"][0].lower() for m in received]
    assert len(rcpts) == 11 and len(set(rcpts)) == 11
    assert len({m["message_id"] for m in received}) == 11
    asa = next(m["msg"] for m in received if m["rcpt"] == ["asa@aero.dk"])
    assert asa["Subject"] == "Hei Åsa – nytt fra oss"
    assert asa["From"].addresses[0].display_name == "Åse Øvre" and asa["From"].addresses[0].addr_spec == "crm@agency-a.no"
    assert asa["Reply-To"].addresses[0].addr_spec == "ase@agency-a.no"
    assert asa["To"].addresses[0].display_name == "Åsa <b>Øberg</b>"
    assert asa["List-Unsubscribe"].strip().startswith("<http://crm.test/u/") and asa["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert asa.get_content_type() == "multipart/alternative"
    plain = asa.get_body(("plain",)).get_content()
    html = asa.get_body(("html",)).get_content()
    assert "Hei Åsa <b>Øberg</b> i Ærø Søfart ApS" in plain and "Åse Øvre, Salgssjef" in plain
    assert "&lt;b&gt;Øberg&lt;/b&gt;" in html and "<b>Øberg" not in html

    messages = mailer.list_messages(campaign["id"], {"status": "sent"})
    assert messages["total"] == 11 and all(m["sent_at"] for m in messages["items"])

    # every sent message is an e-mail activity on the company's timeline (with the contact);
    # post@aero.dk came first as the contact "Dup" of ids[0] (pages go by company id), so it is logged there
    def logged(company_id, n):
        acts = [a for a in crm.list_activities(company_id) if a["kind"] == "email"]
        return len(acts) == n and acts

    acts = wait_for(lambda: logged(aero, 1), 20, what="timeline entries")
    assert acts[0]["contact"]["name"] == "Åsa <b>Øberg</b>" and acts[0]["user"]["id"] == crm_world["admin"]
    assert "Hei Åsa" in acts[0]["text"] and "asa@aero.dk" in acts[0]["text"]
    acts = wait_for(lambda: logged(ids[0], 4), 20, what="timeline entries")
    assert sorted((a["contact"] or {}).get("name") or "" for a in acts) == ["", "Dup", "Kari0 Nordmann0", "Kari1 Nordmann0"]
    time.sleep(0.5)
    assert logged(aero, 1) and logged(ids[0], 4)  # once each, whatever the relay republished


def test_refused_dropped_and_slow_servers(clients, smtp_factory, mailer_factory):
    smtp = smtp_factory("--refuse", "post1@firma.no", "--drop-once", "post2@firma.no", "--delay", "0.05")
    mailer_factory(smtp)
    crm, mailer = clients["crm"], clients["mailer"]
    ids = make_companies(crm, 4, 0)
    campaign = _campaign(mailer, ids, kinds=["company"])
    done = wait_done(mailer, campaign["id"])
    assert done["counts"] == {"pending": 0, "sending": 0, "sent": 3, "failed": 1, "skipped": 0}
    failed = mailer.list_messages(campaign["id"], {"status": "failed"})["items"]
    assert failed[0]["email"] == "post1@firma.no" and failed[0]["smtp_code"] == 550
    assert "mailbox unavailable" in failed[0]["smtp_response"]
    rcpts = sorted(m["rcpt"][0] for m in smtp.messages())
    assert rcpts == ["post0@firma.no", "post2@firma.no", "post3@firma.no"]  # the dropped one exactly once
    # retry the failed ones: still refused, nothing else resent
    retried = mailer.retry_failed(campaign["id"])
    assert retried["retried"] == 1
    done = wait_done(mailer, campaign["id"])
    assert done["counts"]["failed"] == 1 and len(smtp.messages()) == 3


def test_a_slow_server_and_two_instances_still_send_once(clients, smtp_factory, mailer_factory):
    smtp = smtp_factory("--delay", "0.02")
    mailer_factory(smtp, MAILER_BATCH_SIZE=5)
    mailer_factory(smtp, MAILER_BATCH_SIZE=5)
    crm, mailer = clients["crm"], clients["mailer"]
    ids = make_companies(crm, 10, 2, prefix="Duo")
    campaign = _campaign(mailer, ids)
    wait_done(mailer, campaign["id"])
    rcpts = [m["rcpt"][0] for m in smtp.messages()]
    assert len(rcpts) == 30 and len(set(rcpts)) == 30


def test_rate_limit_holds(clients, smtp_factory, mailer_factory):
    smtp = smtp_factory()
    mailer_factory(smtp, MAILER_RATE_PER_SECOND=10)
    crm, mailer = clients["crm"], clients["mailer"]
    ids = make_companies(crm, 25, 0, prefix="Rate")
    start = time.monotonic()
    campaign = _campaign(mailer, ids, kinds=["company"])
    wait_done(mailer, campaign["id"])
    # a burst of 10, then 10 per second: 25 messages take at least 1.5 s
    assert time.monotonic() - start >= 1.4
    assert len(smtp.messages()) == 25


def test_unsubscribe_link_opts_out_in_the_crm_and_next_campaign_skips(clients, smtp_factory, mailer_factory):
    smtp = smtp_factory()
    mailer_factory(smtp)
    crm, mailer = clients["crm"], clients["mailer"]
    ids = make_companies(crm, 2, 1, prefix="Unsub")
    first = _campaign(mailer, ids)
    wait_done(mailer, first["id"])
    msg = next(m["msg"] for m in smtp.messages() if m["rcpt"] == ["kari0.0@unsub.no"])
    token = msg["List-Unsubscribe"].strip().strip("<>").rsplit("/u/", 1)[1]
    anonymous = clients["anonymous"]  # the gateway's own identity: no tenant, no user
    assert anonymous.unsubscribe_info(token) == {"email": "kari0.0@unsub.no"}
    assert anonymous.unsubscribe(token)["unsubscribed"] is True
    assert anonymous.unsubscribe(token)["unsubscribed"] is True  # a second click: harmless
    with pytest.raises(RemoteError) as info:
        anonymous.unsubscribe(token[:-3] + "AAA")
    assert info.value.exc_type == "ValidationError" and "token" in str(info.value)
    # the crm records it (event through the outbox) and shows it on the contact
    shown = wait_for(lambda: crm.list_opt_outs(ids[0]), 20, what="opt-out in the crm")
    assert list(shown.values())[0]["email"] == "kari0.0@unsub.no"
    summary = mailer.audience({"selection": {"ids": ids}, "kinds": ["company", "contacts"]})
    assert summary["skipped"]["unsubscribed"] == 1 and summary["addresses"] == 3
    second = _campaign(mailer, ids)
    wait_done(mailer, second["id"])
    assert [m["rcpt"] for m in smtp.messages()].count(["kari0.0@unsub.no"]) == 1


def test_preview_test_send_templates_errors_and_tenants(clients, smtp_factory, mailer_factory):
    smtp = smtp_factory()
    mailer_factory(smtp)
    crm, mailer, other = clients["crm"], clients["mailer"], clients["b_mailer"]
    recipient = {"email": "k@x.no", "kind": "contact", "company_name": "Ærø <Søfart>", "first_name": "Kari",
                 "last_name": "N"}
    preview = mailer.preview({**MESSAGE, "recipient": recipient})
    assert preview["subject"] == "Hei Kari – nytt fra oss" and "Ærø &lt;Søfart&gt;" in preview["html"]
    assert "Ærø <Søfart>" in preview["text"] and preview["from"] == "Åse Øvre <crm@agency-a.no>"
    sent = mailer.send_test({**MESSAGE, "recipient": recipient})
    assert sent["to"] == "ase@agency-a.no"
    test_msg = wait_for(lambda: smtp.messages(), 10)[0]
    assert test_msg["rcpt"] == ["ase@agency-a.no"] and test_msg["subject"].startswith("[Test] Hei Kari")

    for bad, field in (({"subject": "Hi\r\nBcc: evil@x.com"}, "subject"), ({"sender_title": "A\nB"}, "sender_title"),
                       ({"body": "Hi {{ password }}"}, "body"), ({"subject": ""}, "subject")):
        with pytest.raises(RemoteError) as info:
            mailer.preview({**MESSAGE, **bad})
        assert info.value.exc_type == "ValidationError" and field in str(info.value), bad
    with pytest.raises(RemoteError) as info:
        mailer.create_campaign({**MESSAGE, "selection": {"ids": [1]}, "kinds": ["company"], "idempotency_key": "short"})
    assert info.value.exc_type == "ValidationError" and "idempotency_key" in str(info.value)

    t = mailer.save_template({"name": "Nyhetsbrev", "subject": "Hei {{ first_name }}", "body": "Tekst"})
    assert mailer.list_templates() == [t]
    t2 = mailer.save_template({"name": "Nyhetsbrev 2", "subject": "S", "body": "B"}, t["id"])
    assert mailer.get_template(t["id"])["name"] == "Nyhetsbrev 2" and t2["id"] == t["id"]
    with pytest.raises(RemoteError) as info:
        mailer.save_template({"name": "X", "subject": "S", "body": "{{ nope }}"})
    assert "body" in str(info.value)
    assert other.list_templates() == []
    with pytest.raises(RemoteError) as info:
        other.get_template(t["id"])
    assert info.value.exc_type == "NotFound"

    ids = make_companies(crm, 1, 0, prefix="Iso")
    campaign = _campaign(mailer, ids, kinds=["company"])
    for call in (lambda: other.get_campaign(campaign["id"]), lambda: other.list_messages(campaign["id"]),
                 lambda: other.retry_failed(campaign["id"])):
        with pytest.raises(RemoteError) as info:
            call()
        assert info.value.exc_type == "NotFound"
    # tenant B's selection of A's companies resolves to nobody
    with pytest.raises(RemoteError) as info:
        other.create_campaign({**MESSAGE, "selection": {"ids": ids}, "kinds": ["company"],
                               "idempotency_key": uuid.uuid4().hex})
    assert info.value.exc_type == "ValidationError"
    assert [c["id"] for c in mailer.list_campaigns()] == [campaign["id"]] and other.list_campaigns() == []
    outbox = mailer.dev_outbox({"limit": 5})
    assert outbox["enabled"] and outbox["items"][0]["rcpt_tos"]
