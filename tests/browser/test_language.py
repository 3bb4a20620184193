"""Languages in a real browser (issue 14): a user switches to Norwegian on the account page and
sees the overview, the new-company dialog and the card (its timeline and credit box too: text the
services write) in Norwegian, with `1 250 000 kr`-style
amounts and Norwegian dates; the registry's own data (legal form `AS`) stays as the registry wrote
it; then back to English. The browser itself asks for English (Playwright's default Accept-Language)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.ui import login

NB_MONEY = re.compile(r"^\d{1,3}(\u00a0\d{3})+\u00a0kr$")  # 1 250 000 kr (no-break spaces)
NB_DATE = re.compile(r"\b\d{1,2}\. (jan|feb|mar|apr|mai|jun|jul|aug|sep|okt|nov|des)\.? \d{4}\b")
NB_CREDIT_STATUS = re.compile(r"^(Venter på å bli meldt inn i Creditsafe-overvåkingen|Overvåkes av Creditsafe|"
                              r"Creditsafe kjenner ikke dette organisasjonsnummeret|Overvåkingen er stoppet|"
                              r"Kredittovervåking er slått av for organisasjonen din|Ikke overvåket .*)$")


def _choose(page, language: str) -> None:
    page.goto("/account")
    page.select_option("#language-select", language)
    page.locator("#language-save").click()
    expect(page).to_have_url(re.compile(r"/account$"))


def test_switch_to_norwegian_and_back(page):
    login(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    try:
        _choose(page, "nb")
        expect(page.locator("html")).to_have_attribute("lang", "nb")
        expect(page.get_by_role("heading", name="Kontoen din")).to_be_visible()

        # the overview, biggest invoiced first: Norwegian words and amounts
        page.goto("/companies?country=NO&sort=-invoiced_this_year")
        expect(page.get_by_role("heading", name="Selskaper", exact=True)).to_be_visible()
        expect(page.locator("#results thead")).to_contain_text("Fakturert i år")
        expect(page.locator("#results .count")).to_contain_text("selskaper")
        first_amount = page.locator("#results tbody tr").first.locator("td.money")
        expect(first_amount).to_have_text(NB_MONEY)
        expect(page.get_by_role("searchbox", name="Søk i selskaper")).to_be_visible()
        # the selection bar's words come from the catalog too (static/selection.js reads them from the template)
        page.locator("#results tbody tr").first.locator("input.row-select").check()
        expect(page.locator("#bulk-bar")).to_contain_text("1 selskap valgt")
        page.locator("#bulk-bar").get_by_role("button", name="Fjern utvalget").click()
        expect(page.locator("#bulk-bar")).to_be_hidden()

        # the new-company dialog
        page.get_by_role("link", name="+ Nytt selskap").click()
        dialog = page.locator("#new-company-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Finn selskapet i de nasjonale registrene")
        expect(dialog.get_by_role("combobox", name="Søk i selskapsregistrene")).to_be_visible()
        expect(dialog).to_contain_text("Legg inn for hånd")
        dialog.get_by_role("button", name="Lukk").click()
        expect(dialog).to_be_hidden()

        # the card of a Norwegian company: boxes, counts and the invoices tab with Norwegian dates
        page.goto("/companies?country=NO&sort=-invoiced_this_year")
        page.locator("#results tbody tr").first.locator("td.name-cell a").click()
        expect(page).to_have_url(re.compile(r"/companies/\d+$"))
        expect(page.locator("#box-general")).to_contain_text("Generelt")
        expect(page.locator("#box-general")).to_contain_text("Organisasjonsnummer")
        expect(page.locator("#box-ownership")).to_contain_text("Ansvarlige")
        expect(page.locator("#box-invoice")).to_contain_text("Fakturainformasjon")
        expect(page.locator("#card-head")).to_contain_text("Aktive prosjekter")
        expect(page.locator("#count-invoiced_this_year")).to_have_text(NB_MONEY)
        # the registry's data as the registry wrote it: the legal form stays "AS"
        expect(page.locator("#box-general dl")).to_contain_text(re.compile(r"Organisasjonsform\s*(AS|ASA|ANS|DA|ENK|SA)\b"))
        page.get_by_role("tab", name="Fakturaer").click()
        invoices = page.locator("#records")
        expect(invoices.get_by_role("heading", name="Fakturaer")).to_be_visible()
        expect(invoices.locator("tbody tr").first.locator("td").nth(2)).to_have_text(NB_DATE)
        expect(invoices).to_contain_text("Fakturert i år:")
        # what the services write is worded in Norwegian too: the credit box's status, and the timeline entry
        # of a save on the card (the crm sends codes and parameters next to its English sentence)
        expect(page.locator("#box-credit .credit-status")).to_have_text(NB_CREDIT_STATUS)
        box = page.locator("#box-general")
        box.get_by_role("button", name="Rediger").click()
        employees = page.locator("#gen-employees")
        new_count = "58" if employees.input_value() != "58" else "59"
        employees.fill(new_count)
        box.get_by_role("button", name=re.compile("Lagre")).click()
        expect(box).to_contain_text(new_count)
        page.locator("#tab-timeline").click()
        entry = page.locator("#records .tl-change").first
        expect(entry.locator(".tl-title")).to_have_text("Endret ansatte")
        expect(entry.locator(".tl-detail")).to_contain_text(re.compile(rf"^Ansatte: .+ → {new_count}$"))
        expect(page.locator("#records")).not_to_contain_text("Changed")

        # and back to English
        _choose(page, "en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="Your account")).to_be_visible()
        page.goto("/companies?country=NO&sort=-invoiced_this_year")
        expect(page.get_by_role("heading", name="Companies", exact=True)).to_be_visible()
        expect(page.locator("#results tbody tr").first.locator("td.money")).to_have_text(
            re.compile(r"^NOK\u00a0\d{1,3}(,\d{3})+$"))
    finally:
        _choose(page, "")  # the organisation's default (the browser's English) for every other test
