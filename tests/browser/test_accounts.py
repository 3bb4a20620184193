"""Accounts in a real browser (issue 11): an admin adds a coworker, who must choose their own
password at first login; changing the password on the account page; setting up two-factor
sign-in from the QR page and signing in with a code."""
from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import expect

from tests.browser.ui import login

FIRST = "browser-first-pass-2931"
OWN = "lantern-orchard-pebble-64"
NEWER = "quartz-saddle-mango-train-7"


def _log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def _change(page, current: str, new: str, confirm: str | None = None) -> None:
    page.fill("input[name=current]", current)
    page.fill("input[name=new]", new)
    page.fill("input[name=confirm]", new if confirm is None else confirm)
    page.get_by_role("button", name="Change password").click()


def _fresh_code(secret: str) -> str:
    """A code with a few seconds of life left (one that is about to roll over may be refused as used)."""
    if 30 - time.time() % 30 < 3:
        time.sleep(30 - time.time() % 30 + 0.5)
    return pyotp.TOTP(secret).now()


def test_first_login_change_password_and_two_factor_sign_in(page, browser, suite):
    # the admin adds Vera with a first password
    login(page)
    page.goto("/admin/users")
    page.fill("input[name=name]", "Vera Vik")
    page.fill("input[name=email]", "vera@example.com")
    page.fill("input[name=password]", FIRST)
    page.get_by_role("button", name="Add coworker").click()
    expect(page.locator("#coworkers")).to_contain_text("vera@example.com")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login"))

    # first login: she must choose her own password before anything else
    _log_in(page, "vera@example.com", FIRST)
    expect(page).to_have_url(re.compile(r"/account/password"))
    expect(page.locator("#must-change")).to_be_visible()
    page.goto("/companies")
    expect(page).to_have_url(re.compile(r"/account/password"))
    _change(page, FIRST, "password1234")
    expect(page.locator("#new-error")).to_contain_text("easy to guess")
    _change(page, FIRST, OWN, confirm=OWN + "x")
    expect(page.locator("#confirm-error")).to_contain_text("not the same")
    _change(page, FIRST, OWN)
    expect(page).to_have_url(re.compile(r"/companies"))

    # change it again from the account page
    page.locator("#account-link").click()
    page.get_by_role("link", name="Change password").click()
    _change(page, "wrong-current-password", NEWER)
    expect(page.locator("#current-error")).to_contain_text("not your current password")
    _change(page, OWN, NEWER)
    expect(page.locator("#password-changed")).to_be_visible()

    # set up two-factor sign-in: QR code (inline SVG made by the server), then a code
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.locator("#totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("input[name=code]", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#code-error")).to_contain_text("not right")
    page.fill("input[name=code]", _fresh_code(secret))
    page.get_by_role("button", name="Turn on").click()
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text().strip()
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("button", name="Log out").click()

    # sign in: password, then the code from the app
    _log_in(page, "vera@example.com", NEWER)
    expect(page).to_have_url(re.compile(r"/login/2fa"))
    page.fill("input[name=code]", "12345")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_contain_text("Wrong code")
    # the enrolment code cannot be used again; the next one (a step ahead: clocks drift) works
    page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/companies"))
    page.locator("#account-link").click()
    expect(page.locator("#totp-status")).to_contain_text("10 recovery codes left")
    page.get_by_role("button", name="Log out").click()

    # a lost phone: a recovery code signs in once
    _log_in(page, "vera@example.com", NEWER)
    page.fill("input[name=code]", recovery)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/companies"))
