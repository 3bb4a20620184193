"""E-mail the selected companies (issue 9) in a real browser against the running suite:
select companies, write a message with merge fields, preview, test-send, send; watch the
progress; the dev outbox has one message per recipient with the right names; the company's
timeline shows the e-mail; the unsubscribe link works (no login) and the next campaign
skips that address."""
from __future__ import annotations

import re
import uuid

from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.browser.ui import login

SLOW = 30_000


def _companies(suite, tag):
    with ClusterRpcProxy({"AMQP_URI": suite.env["AMQP_URI"]}, context_data={"auth": suite.token(1, 1)},
                         timeout=20) as rpc:
        a = rpc.crm.create_company({"name": f"Ærø Søfart {tag}", "country": "DK", "email": f"post-{tag}@aero.dk"})["id"]
        b = rpc.crm.create_company({"name": f"Fjord Bygg {tag}", "country": "NO", "email": f"post-{tag}@fjord.no"})["id"]
        rpc.crm.create_contact({"company_id": a, "first_name": "Åsa", "last_name": "Øberg", "email": f"asa-{tag}@aero.dk"})
        rpc.crm.create_contact({"company_id": b, "first_name": "Kari", "last_name": "Nordmann",
                                "email": f"kari-{tag}@fjord.no"})
    return a, b


def _open_compose(page, tag):
    page.goto(f"/companies?q={tag}")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2, timeout=SLOW)
    for i in range(2):
        rows.nth(i).locator("input.row-select").check()
    bar = page.locator("#bulk-bar")
    expect(bar.locator("[data-bulk-count]")).to_have_text("2")
    bar.get_by_role("button", name="E-mail").click()
    dialog = page.locator("#bulk-modal")
    expect(dialog.locator("#mail-compose")).to_be_visible(timeout=SLOW)
    return dialog


def test_select_write_preview_test_send_progress_outbox_timeline_unsubscribe(page, browser, suite):
    tag = uuid.uuid4().hex[:8]
    a, _b = _companies(suite, tag)
    login(page)
    dialog = _open_compose(page, tag)
    expect(dialog.locator("[data-mail-addresses]")).to_have_text("4")
    dialog.locator("#mail-subject").fill("Hei {{ first_name }}")
    dialog.locator("#mail-body").fill("Hei {{ first_name }} {{ last_name }} i {{ company_name }}!\n\nHilsen {{ sender_name }}")
    dialog.locator("#mail-recipient").select_option(index=1)
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.locator("[data-preview-subject]")).to_have_text(re.compile(r"^Hei"), timeout=SLOW)
    expect(dialog.locator("[data-preview-text]")).to_contain_text(tag)
    dialog.get_by_role("button", name="Send a test to me").click()
    expect(dialog.locator("[data-test-sent]")).to_contain_text("admin@example.com", timeout=SLOW)
    dialog.get_by_role("button", name=re.compile(r"^Send to 4")).click()
    progress = dialog.locator("#mail-progress")
    expect(progress).to_have_attribute("data-status", "done", timeout=SLOW)
    expect(progress.locator("[data-sent]")).to_have_text("4")
    progress.get_by_role("link", name="Open the campaign").click()
    expect(page.locator("#mail-messages tr[data-status=sent]")).to_have_count(4)

    page.goto(f"/mail/outbox?to={tag}")
    rows = page.locator("table.dev-outbox tbody tr")
    expect(rows).to_have_count(4)
    asa = page.locator(f'tr[data-rcpt="asa-{tag}@aero.dk"]')
    asa.locator("summary").click()
    expect(asa).to_contain_text(f"Hei Åsa Øberg i Ærø Søfart {tag}!")
    expect(asa).to_contain_text("Åsa")
    unsubscribe = re.search(r"(http\S+/u/[A-Za-z0-9_.-]+)", asa.locator("pre").inner_text()).group(1)

    page.goto(f"/companies/{a}")
    expect(page.locator("body")).to_contain_text(f"asa-{tag}@aero.dk", timeout=SLOW)

    anonymous = browser.new_context()
    public = anonymous.new_page()
    public.goto(unsubscribe)
    expect(public.locator("main")).to_contain_text(f"asa-{tag}@aero.dk")
    public.get_by_role("button", name="Unsubscribe").click()
    expect(public.locator("[data-unsubscribed]")).to_be_visible()
    anonymous.close()

    page.goto("/companies")
    page.locator("#bulk-bar [data-bulk-clear]").first.click()
    dialog = _open_compose(page, tag)
    expect(dialog.locator("[data-mail-addresses]")).to_have_text("3", timeout=SLOW)
    expect(dialog.locator('[data-skip="unsubscribed"]')).to_contain_text("1 unsubscribed")
