"""Browser fixtures. Real: Debian's Chromium driven by Playwright against the suite
started by tests/conftest.py. Faked: nothing. A page fails its test on any JavaScript
error or console error (CSP violations included), except a 401/422 the page explains."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.ui import ARGS, CHROMIUM


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, suite):
    context = browser.new_context(base_url=suite.url)
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    expected = re.compile(r"status of (401|422)")  # a refused login or an invalid form: the page says why

    def on_console(msg):
        if msg.type == "error" and not expected.search(msg.text):
            errors.append(msg.text)

    pg.on("console", on_console)
    yield pg
    context.close()
    assert errors == [], errors  # no JavaScript errors, no CSP violations
