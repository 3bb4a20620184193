"""The admin's "Add coworker" form (issue 15): errors in words at each field, as the card's forms show them
(a message with an id, aria-invalid and aria-describedby on the control, the first field in error focused),
never the service's raw validator text inside the label; the values kept, the password not."""
from __future__ import annotations

import re

from gateway_fakes import USER, validation_error


def _field(html: str, name: str) -> str:
    match = re.search(r'<input id="coworker-%s"[^>]*>' % name, html)
    assert match, f"no #coworker-{name} input"
    return match.group(0)


def test_an_empty_form_says_what_each_field_needs_without_asking_the_crm(client, rpc):
    page = client.post("/admin/users", data={"name": " ", "email": "not-an-address", "password": "short",
                                             "role": "admin", "department_id": "2"})
    assert page.status_code == 422
    assert "create_user" not in rpc.methods()  # checked here first
    html = page.text
    assert '<span class="field-error" id="coworker-name-err">Name is required.</span>' in html
    assert 'id="coworker-email-err">Enter a valid e-mail address, like name@example.com.</span>' in html
    assert 'id="coworker-password-err">Use at least 12 characters (this one has 5).</span>' in html
    assert "String should have" not in html
    name, email, password = _field(html, "name"), _field(html, "email"), _field(html, "password")
    assert 'aria-invalid="true" aria-describedby="coworker-name-err"' in name and "autofocus" in name
    assert 'aria-describedby="coworker-email-err"' in email and "autofocus" not in email
    assert 'value="not-an-address"' in email  # what was typed stays
    assert 'value=""' in password and "short" not in password  # a password is never sent back
    assert '<option value="admin" selected>' in html and '<option value="2" selected>' in html
    assert 'role="alert"' in html  # the summary above the form


def test_the_crms_own_refusal_shows_at_its_field(client, rpc):
    rpc.on("create_user", validation_error("password", "This password is easy to guess."))
    page = client.post("/admin/users", data={"name": "Vera Vik", "email": "vera@example.com",
                                             "password": "password1234", "role": "user"})
    assert page.status_code == 422
    assert 'id="coworker-password-err">This password is easy to guess.</span>' in page.text
    assert 'aria-describedby="coworker-password-err"' in _field(page.text, "password")
    assert 'value="Vera Vik"' in _field(page.text, "name")


def test_a_good_form_adds_the_coworker(client, rpc):
    rpc.on("create_user", lambda data: {**USER, "id": 5, "name": data["name"], "email": data["email"]})
    page = client.post("/admin/users", data={"name": "Vera Vik", "email": "vera@example.com",
                                             "password": "plum-harbour-quietly-47", "role": "user", "department_id": ""})
    assert page.status_code == 200 and 'id="coworker-added"' in page.text
    assert rpc.last("create_user").args == [{"name": "Vera Vik", "email": "vera@example.com",
                                             "password": "plum-harbour-quietly-47", "role": "user",
                                             "department_id": None}]
    assert "field-error" not in page.text and "aria-invalid" not in page.text
