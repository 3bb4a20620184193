"""E-mail campaigns in the gateway (issue 9): the compose dialog posted by the bulk bar,
preview, test, send, progress, campaign page, retry, templates, the dev outbox and
the public unsubscribe page. The mailer is faked (see conftest.py)."""
import json

import pytest

from gateway_fakes import HX, USER, log_in, make_app, session_state, validation_error

SELECTION = json.dumps({"ids": [7, 8]})
AUDIENCE = {"addresses": 3, "duplicates": 1, "skipped_total": 2,
            "skipped": {"no_address": 1, "unsubscribed": 1, "inactive": 0, "marketing_protection": 0},
            "sample": [{"email": "kari@fjord.no", "kind": "contact", "company_id": 7, "contact_id": 3,
                        "company_name": "Fjord <Bemanning> AS", "first_name": "Kari", "last_name": "Nordmann"},
                       {"email": "post@fjord.no", "kind": "company", "company_id": 7, "contact_id": None,
                        "company_name": "Fjord <Bemanning> AS", "first_name": None, "last_name": None}]}


def campaign(**over):
    data = {"id": 5, "status": "sending", "subject": "Hei {{ first_name }}", "body": "Tekst", "kinds": ["company"],
            "from_address": "crm@x.no", "sender_name": "Ada Admin", "sender_title": None, "reply_to": "ada@example.com",
            "user_id": 1, "total": 3, "created_at": "2026-12-02T10:00:00+00:00", "finished_at": None,
            "counts": {"pending": 1, "sending": 0, "sent": 1, "failed": 1, "skipped": 2}, "done": 2}
    data.update(over)
    return data


@pytest.fixture
def mail_rpc(rpc):
    rpc.on("audience", lambda a: AUDIENCE)
    rpc.on("list_templates", [{"id": 2, "name": "Nyhetsbrev", "subject": "Nytt", "body": "Hei {{ first_name }}",
                               "updated_at": "2026-12-01T10:00:00+00:00"}])
    rpc.on("get_template", lambda tid: {"id": tid, "name": "Nyhetsbrev", "subject": "Nytt fra oss",
                                        "body": "Hei {{ first_name }}", "updated_at": None})
    return rpc


def test_compose_shows_counts_after_dedup_and_skips(client, mail_rpc):
    r = client.post("/mail/compose", headers=HX, data={"selection": SELECTION, "selection_count": "2"})
    assert r.status_code == 200
    assert mail_rpc.last("audience").args[0] == {"selection": {"ids": [7, 8]}, "kinds": ["company", "contacts"]}
    assert mail_rpc.last("audience").timeout >= 30
    assert "<strong data-mail-addresses>3</strong> addresses" in r.text and "1 duplicate removed" in r.text
    assert "1 no e-mail address" in r.text and "1 unsubscribed" in r.text and "inactive" not in r.text.split("Skipped")[1][:200]
    assert "Fjord &lt;Bemanning&gt; AS" in r.text and "<Bemanning>" not in r.text.replace("&quot;", '"').split("sample")[0]
    # the recipients choice re-renders with one kind only
    r = client.post("/mail/compose", headers=HX, data={"selection": SELECTION, "kinds_given": "1", "kinds": "company"})
    assert mail_rpc.last("audience").args[0]["kinds"] == ["company"]
    r = client.post("/mail/compose", headers=HX, data={"selection": SELECTION, "kinds_given": "1"})
    assert "Choose who gets the e-mail." in r.text


def test_compose_refuses_a_bad_selection_and_loads_a_template(client, mail_rpc):
    r = client.post("/mail/compose", headers=HX, data={"selection": "{bad"})
    assert r.status_code == 422
    r = client.post("/mail/compose", headers=HX, data={"selection": SELECTION, "template_id": "2", "load_template": "1"})
    assert 'value="Nytt fra oss"' in r.text and "Hei {{ first_name }}" in r.text


def test_preview_and_test_send_pass_the_chosen_recipient(client, mail_rpc):
    seen = {}

    def preview(message):
        seen["preview"] = message
        return {"subject": "Hei Kari", "text": "Hei Kari <script>", "html": "", "from": "Ada Admin <crm@x.no>",
                "reply_to": "ada@example.com", "to": "kari@fjord.no", "to_name": "Kari Nordmann", "unsubscribe_url": "u"}

    mail_rpc.on("preview", preview)
    mail_rpc.on("send_test", lambda m: {"to": "ada@example.com", "message_id": "<t@x>"})
    form = {"selection": SELECTION, "subject": "Hei {{ first_name }}", "body": "Hei\r\n", "sender_title": "Sjef",
            "sample": json.dumps(AUDIENCE["sample"]), "recipient": "0"}
    r = client.post("/mail/preview", headers=HX, data=form)
    assert r.status_code == 200 and "Hei Kari &lt;script&gt;" in r.text
    assert seen["preview"]["recipient"]["first_name"] == "Kari" and seen["preview"]["body"] == "Hei\n"
    r = client.post("/mail/test", headers=HX, data=form)
    assert "Test sent to ada@example.com" in r.text
    mail_rpc.on("preview", validation_error("subject", "must be a single line (no line breaks)"))
    r = client.post("/mail/preview", headers=HX, data=form)
    assert r.status_code == 422 and "single line" in r.text


def test_send_creates_the_campaign_once_per_form_and_shows_progress(client, mail_rpc):
    mail_rpc.on("create_campaign", lambda c: campaign())
    form = {"selection": SELECTION, "kinds": ["company", "contacts"], "subject": "Hei", "body": "Tekst",
            "idempotency_key": "a" * 32}
    r = client.post("/mail/send", headers=HX, data=form)
    assert r.status_code == 200 and 'id="mail-progress"' in r.text and 'hx-trigger="every 1s"' in r.text
    sent = mail_rpc.last("create_campaign")
    assert sent.args[0]["idempotency_key"] == "a" * 32 and sent.args[0]["selection"] == {"ids": [7, 8]}
    assert sent.args[0]["kinds"] == ["company", "contacts"] and sent.timeout >= 30
    assert sent.args[0]["unsubscribe_text"] == "Unsubscribe"  # the link's words in the sender's language
    r = client.post("/mail/send", headers=HX, data={**form, "subject": ""})
    assert r.status_code == 422 and "Write a subject." in r.text
    mail_rpc.on("create_campaign", validation_error("selection", "None of the selected recipients can be e-mailed"))
    r = client.post("/mail/send", headers=HX, data=form)
    assert r.status_code == 422 and "None of the selected recipients" in r.text


def test_progress_stops_polling_when_done_and_campaign_page_lists_recipients(client, mail_rpc):
    mail_rpc.on("get_campaign", lambda cid: campaign(status="done", finished_at="2026-12-02T10:01:00+00:00"))
    r = client.get("/mail/campaigns/5/progress", headers=HX)
    assert "every 1s" not in r.text and r.headers["HX-Trigger"] == "mail-campaign-done"
    mail_rpc.on("list_messages", lambda cid, q: {"items": [
        {"id": 1, "email": "bad@x.no", "kind": "company", "company_id": 7, "contact_id": None,
         "company_name": "Fjord <b>AS</b>", "first_name": None, "last_name": None, "status": "failed", "skip_reason": None,
         "attempts": 1, "sent_at": None, "smtp_code": 550, "smtp_response": "5.1.1 mailbox unavailable",
         "message_id": "<m@x>"}], "total": 1, "page": 1, "per_page": 100})
    r = client.get("/mail/campaigns/5?status=failed")
    assert r.status_code == 200 and "550 5.1.1 mailbox unavailable" in r.text and "Retry the 1 failed" in r.text
    assert "Fjord &lt;b&gt;AS&lt;/b&gt;" in r.text
    assert mail_rpc.last("list_messages").args[1]["status"] == "failed"
    mail_rpc.on("retry_failed", lambda cid: {**campaign(), "retried": 1})
    r = client.post("/mail/campaigns/5/retry")
    assert r.status_code == 302 and mail_rpc.last("retry_failed").args == [5]


def test_templates_crud_with_field_errors(client, mail_rpc):
    mail_rpc.on("save_template", validation_error("body", "unknown merge field {{ nope }}"))
    r = client.post("/mail/templates", data={"name": "X", "subject": "S", "body": "{{ nope }}"})
    assert r.status_code == 422 and "unknown merge field" in r.text
    mail_rpc.on("save_template", lambda t, tid=None: {**t, "id": 3})
    assert client.post("/mail/templates/2", data={"name": "X", "subject": "S", "body": "B"}).status_code == 302
    assert mail_rpc.last("save_template").args == [{"name": "X", "subject": "S", "body": "B"}, 2]
    mail_rpc.on("delete_template", lambda tid: {"id": tid, "deleted": True})
    assert client.post("/mail/templates/2/delete").status_code == 302


def test_dev_outbox_is_for_admins_only(rpc, mail_rpc):
    mail_rpc.on("dev_outbox", lambda q: {"enabled": True, "total": 1, "items": [
        {"id": 1, "received_at": "2026-12-02T10:00:00+00:00", "mail_from": "crm@x.no", "rcpt_tos": ["k@x.no"],
         "message_id": "<m@x>", "subject": "Hei <Kari>", "from": "Ada <crm@x.no>", "to": "k@x.no", "text": "Hei",
         "list_unsubscribe": "<http://x/u/t>"}]})
    app = make_app(rpc)
    admin = log_in(app.test_client())
    r = admin.get("/mail/outbox")
    assert r.status_code == 200 and "Hei &lt;Kari&gt;" in r.text
    coworker = {**USER, "id": 2, "role": "user"}
    rpc.on("session_state", lambda version, *rest: session_state(version, coworker))
    user = log_in(app.test_client(), coworker)
    assert user.get("/mail/outbox").status_code == 403


def test_unsubscribe_page_needs_no_login_and_one_click_post_works(rpc):
    rpc.on("unsubscribe_info", lambda t: {"email": "kari@fjord.no"})
    rpc.on("unsubscribe", lambda t: {"email": "kari@fjord.no", "unsubscribed": True})
    app = make_app(rpc, WTF_CSRF_ENABLED=True)
    anonymous = app.test_client()
    token = "MTprYXJpQGZqb3JkLm5v.abcdefghijklmnop"
    r = anonymous.get(f"/u/{token}")
    assert r.status_code == 200 and "kari@fjord.no" in r.text and "Unsubscribe" in r.text
    assert rpc.last("unsubscribe_info").claims.get("typ") == "gateway"  # the gateway's own identity, no tenant
    assert "unsubscribe" not in rpc.methods()  # only asking: a link scanner unsubscribes nobody
    r = anonymous.post(f"/u/{token}")
    assert r.status_code == 200 and "will not get these e-mails" in r.text
    r = anonymous.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and r.text == ""
    rpc.on("unsubscribe_info", validation_error("token", "This unsubscribe link is not valid."))
    r = anonymous.get(f"/u/{token}")
    assert r.status_code == 400 and "not valid" in r.text


def test_contacts_tab_shows_the_opt_out_and_when(client, rpc):
    rpc.on("list_contacts", lambda cid, inactive=False: [
        {"id": 3, "company_id": cid, "first_name": "Kari", "last_name": "N", "name": "Kari N", "title": None,
         "email": "kari@fjord.no", "phone": None, "notes": None, "active": True}])
    rpc.on("list_opt_outs", lambda cid: {"3": {"email": "kari@fjord.no", "opted_out": True,
                                               "at": "2026-12-01T09:00:00+00:00", "source": "unsubscribe_link"}})
    r = client.get("/companies/7?tab=contacts")
    assert r.status_code == 200 and "Unsubscribed from e-mail on 1 Dec 2026 10:00" in r.text and "unsubscribe link" in r.text
