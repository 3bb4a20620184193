"""End to end (issue 9): the compose dialog, a campaign through the gateway, RabbitMQ,
the mailer, the crm and the suite's own dev SMTP server; the dev outbox, the
timeline entry, the public unsubscribe link (and RFC 8058 one-click), and the
next campaign skipping the address."""
from __future__ import annotations

import json
import re
import time
import uuid

import requests
from nameko.standalone.rpc import ClusterRpcProxy

HX = {"HX-Request": "true"}


def _crm(suite):
    return ClusterRpcProxy({"AMQP_URI": suite.env["AMQP_URI"]}, context_data={"auth": suite.token(1, 1)}, timeout=20)


def _wait(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _send(suite, admin, ids, subject):
    selection = json.dumps({"ids": ids})
    compose = admin.post(f"{suite.url}/mail/compose", headers=HX,
                         data={"selection": selection, "selection_count": str(len(ids))})
    assert compose.status_code == 200, compose.text[:500]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', compose.text).group(1)
    form = {"selection": selection, "kinds": ["company", "contacts"], "subject": subject,
            "body": "Hei {{ first_name }} i {{ company_name }}!\n\nHilsen {{ sender_name }}", "idempotency_key": key}
    r = admin.post(f"{suite.url}/mail/send", headers=HX, data=form)
    assert r.status_code == 200 and 'id="mail-progress"' in r.text, r.text[:800]
    again = admin.post(f"{suite.url}/mail/send", headers=HX, data=form)  # a double click: the same campaign
    campaign_id = int(re.search(r"/mail/campaigns/(\d+)", r.text).group(1))
    assert int(re.search(r"/mail/campaigns/(\d+)", again.text).group(1)) == campaign_id

    def finished():
        page = admin.get(f"{suite.url}/mail/campaigns/{campaign_id}/progress", headers=HX)
        return 'data-status="done"' in page.text and page.text

    return campaign_id, compose.text, _wait(finished, what="campaign done")


def test_campaign_arrives_once_per_address_logs_the_timeline_and_unsubscribe_works(suite, admin):
    tag = uuid.uuid4().hex[:6]
    with _crm(suite) as rpc:
        a = rpc.crm.create_company({"name": f"Ærø Søfart {tag} ApS", "country": "DK", "email": f"post-{tag}@aero.dk"})["id"]
        b = rpc.crm.create_company({"name": f"Bygg {tag} AS", "country": "NO"})["id"]
        rpc.crm.create_contact({"company_id": a, "first_name": "Åsa", "last_name": "Øberg", "email": f"asa-{tag}@aero.dk"})
        rpc.crm.create_contact({"company_id": b, "first_name": "Nils", "email": f"nils-{tag}@bygg.no"})
        rpc.crm.create_contact({"company_id": b, "first_name": "Dup", "email": f"POST-{tag}@aero.dk"})

    campaign_id, compose, progress = _send(suite, admin, [a, b], "Hei {{ first_name }}")
    assert "<strong data-mail-addresses>3</strong>" in compose and "1 no e-mail address" in compose
    assert "<strong data-sent>3</strong> sent" in progress

    outbox = admin.get(f"{suite.url}/mail/outbox", params={"to": tag}).text
    rows = re.findall(r'data-rcpt="([^"]+)"', outbox)
    assert sorted(rows) == sorted([f"post-{tag}@aero.dk", f"asa-{tag}@aero.dk", f"nils-{tag}@bygg.no"])
    assert "Hei Åsa" in outbox and f"Hei Åsa i Ærø Søfart {tag} ApS!" in outbox

    page = admin.get(f"{suite.url}/mail/campaigns/{campaign_id}").text
    assert page.count('data-status="sent"') == 3

    with _crm(suite) as rpc:
        # the entries arrive as events, one per message, in any order: wait for Åsa's
        _wait(lambda: any(x["kind"] == "email" and "Hei Åsa" in (x["text"] or "") for x in rpc.crm.list_activities(a)),
              what="Åsa's e-mail on the timeline")

    link = re.search(r"List-Unsubscribe: &lt;(http[^&]+)&gt;", outbox)
    links = re.findall(r"Unsubscribe: (http\S+/u/[A-Za-z0-9_.-]+)", outbox)
    asa_link = next(u for u in links if u.startswith(suite.url))
    assert link
    anonymous = requests.Session()
    ask = anonymous.get(asa_link)
    assert ask.status_code == 200 and "Stop e-mails like this one" in ask.text
    # the plain link is the same for the one-click POST (RFC 8058), no login, no CSRF token
    done = anonymous.post(asa_link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200

    unsubscribed = re.search(r"<strong>([^<]+)</strong>", ask.text).group(1)
    with _crm(suite) as rpc:
        _wait(lambda: rpc.crm.list_opt_outs(a) or rpc.crm.list_opt_outs(b), what="opt-out in the crm")
    _cid, compose2, progress2 = _send(suite, admin, [a, b], "Second {{ first_name }}")
    assert "1 unsubscribed" in compose2 and "<strong data-sent>2</strong> sent" in progress2
    outbox = admin.get(f"{suite.url}/mail/outbox", params={"to": unsubscribed}).text
    assert len(re.findall(r'data-rcpt="', outbox)) == 1  # only the first campaign reached it
