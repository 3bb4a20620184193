"""Sessions, accounts and input limits end to end (issue 11): HTTP -> gateway ->
RabbitMQ -> crm -> SQLite, on the suite started from deploy/Procfile."""
from __future__ import annotations

import time

import pyotp
import requests

from tests.conftest import csrf_token

FIRST = "first-temporary-pass-77"
OWN = "harbour-violet-engine-12"
NEWER = "meadow-copper-lantern-58"


def _deadline_until(check, limit: float = 8.0):
    """The session check is cached a few seconds per gateway process: poll until it shows."""
    deadline = time.monotonic() + limit
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.25)


def _add_coworker(suite, admin, email: str, name: str) -> int:
    r = admin.post(f"{suite.url}/admin/users", data={"name": name, "email": email, "password": FIRST, "role": "user"})
    assert r.status_code == 200 and email in r.text, r.text[:400]
    row = r.text.split('id="coworkers"')[1].split(email)[0].rsplit('href="/admin/users/', 1)[1]
    return int(row.split('"')[0])


def _ended(session: requests.Session, url: str) -> bool:
    r = session.get(f"{url}/companies", allow_redirects=False)
    return r.status_code == 302 and "/login" in r.headers["Location"]


def test_first_login_change_then_other_sessions_end_on_password_change(suite, admin):
    _add_coworker(suite, admin, "siri@example.com", "Siri Strand")
    siri = suite.login("siri@example.com", FIRST)
    r = siri.get(f"{suite.url}/companies", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/account/password")
    weak = siri.post(f"{suite.url}/account/password", data={"current": FIRST, "new": "password1234",
                                                           "confirm": "password1234"})
    assert weak.status_code == 422 and "easy to guess" in weak.text
    r = siri.post(f"{suite.url}/account/password", data={"current": FIRST, "new": OWN, "confirm": OWN},
                  allow_redirects=False)
    assert r.status_code == 303
    assert siri.get(f"{suite.url}/companies").status_code == 200

    laptop = suite.login("siri@example.com", OWN)  # a second session
    r = siri.post(f"{suite.url}/account/password", data={"current": OWN, "new": NEWER, "confirm": NEWER},
                  allow_redirects=False)
    assert r.status_code == 303
    assert siri.get(f"{suite.url}/companies").status_code == 200  # the session that changed it goes on
    assert _deadline_until(lambda: _ended(laptop, suite.url)), "the other session outlived the password change"
    # logging out ends every session of hers
    phone = suite.login("siri@example.com", NEWER)
    siri.post(f"{suite.url}/logout")
    assert _deadline_until(lambda: _ended(phone, suite.url))


def test_deactivation_role_change_and_reset_end_a_coworkers_sessions(suite, admin):
    uid = _add_coworker(suite, admin, "tor@example.com", "Tor Tveit")
    tor = suite.login("tor@example.com", FIRST)
    tor.post(f"{suite.url}/account/password", data={"current": FIRST, "new": OWN, "confirm": OWN})
    assert tor.get(f"{suite.url}/companies").status_code == 200

    admin.post(f"{suite.url}/admin/users/{uid}", data={"name": "Tor Tveit", "email": "tor@example.com",
                                                       "role": "admin", "department_id": "", "active": "1"})
    assert _deadline_until(lambda: _ended(tor, suite.url)), "a new role did not end the session"
    tor = suite.login("tor@example.com", OWN)
    assert tor.get(f"{suite.url}/admin/users").status_code == 200  # the new role works at once

    admin.post(f"{suite.url}/admin/users/{uid}/active", data={"active": "0"})
    assert _deadline_until(lambda: _ended(tor, suite.url))
    s = requests.Session()
    token = csrf_token(s.get(f"{suite.url}/login").text)
    r = s.post(f"{suite.url}/login", data={"csrf_token": token, "email": "tor@example.com", "password": OWN})
    assert r.status_code == 401 and "Wrong e-mail or password" in r.text
    admin.post(f"{suite.url}/admin/users/{uid}/active", data={"active": "1"})
    tor = suite.login("tor@example.com", OWN)

    r = admin.post(f"{suite.url}/admin/users/{uid}/password", data={"password": NEWER}, allow_redirects=False)
    assert r.status_code == 303
    assert _deadline_until(lambda: _ended(tor, suite.url))
    tor = suite.login("tor@example.com", NEWER)
    r = tor.get(f"{suite.url}/companies", allow_redirects=False)
    assert r.headers["Location"].startswith("/account/password")  # must choose a new one


def test_two_factor_sign_in(suite, admin):
    _add_coworker(suite, admin, "una@example.com", "Una Uhl")
    una = suite.login("una@example.com", FIRST)
    una.post(f"{suite.url}/account/password", data={"current": FIRST, "new": OWN, "confirm": OWN})
    page = una.get(f"{suite.url}/account/2fa").text
    assert '<svg' in page.split('id="totp-qr"')[1]
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    done = una.post(f"{suite.url}/account/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and 'id="recovery-codes"' in done.text
    codes = [c.split("</code>")[0] for c in done.text.split('id="recovery-codes"')[1].split("<code>")[1:]]
    assert len(codes) == 10

    s = requests.Session()
    token = csrf_token(s.get(f"{suite.url}/login").text)
    r = s.post(f"{suite.url}/login", data={"csrf_token": token, "email": "una@example.com", "password": OWN},
               allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/login/2fa"
    assert s.get(f"{suite.url}/companies", allow_redirects=False).status_code == 302  # not signed in yet
    token = csrf_token(s.get(f"{suite.url}/login/2fa").text)
    r = s.post(f"{suite.url}/login/2fa", data={"csrf_token": token, "code": codes[0]}, allow_redirects=False)
    assert r.status_code == 303
    assert s.get(f"{suite.url}/companies").status_code == 200


def test_out_of_range_input_through_the_gateway_is_never_a_502(suite, admin):
    page = admin.get(f"{suite.url}/companies", params={"q": "a"}, headers={"HX-Request": "true"}).text
    cid = int(page.split('href="/companies/')[1].split('"')[0])
    huge = "9" * 20
    statuses = []
    for path in (f"/companies/{huge}", f"/companies/{huge}/general", f"/companies/{huge}/logo",
                 f"/meetings/{huge}.ics", f"/companies/{cid}/tasks/{huge}", f"/admin/users/{huge}",
                 f"/companies?page={huge}", f"/companies?owner={huge}", f"/companies?department={huge}",
                 f"/companies?q=a%00b"):
        r = admin.get(suite.url + path, headers={"HX-Request": "true"})
        statuses.append((path, r.status_code))
        assert r.status_code in (200, 404, 422), (path, r.status_code, r.text[:300])
    for data, field in (({"title": "T", "due_date": "0001-01-01", "priority": "normal"}, "due_date"),
                        ({"title": "T", "due_date": "9999-12-31", "priority": "normal"}, "due_date"),
                        ({"title": "T\x00", "priority": "normal"}, "title"),
                        ({"title": "T", "priority": "normal", "assignee_id": huge}, "assignee_id")):
        r = admin.post(f"{suite.url}/companies/{cid}/tasks", data=data, headers={"HX-Request": "true"})
        assert r.status_code == 422, (data, r.status_code, r.text[:300])
    r = admin.post(f"{suite.url}/companies/{cid}/meetings", headers={"HX-Request": "true"},
                   data={"title": "M", "starts_at": "9999-12-31T10:00", "duration_minutes": "60"})
    assert r.status_code == 422, r.text[:300]
    r = admin.post(f"{suite.url}/admin/users", data={"name": "X", "email": "x9@example.com", "password": OWN,
                                                     "role": "user", "department_id": huge})
    assert r.status_code == 422
