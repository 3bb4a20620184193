"""Sessions and accounts through the gateway (issue 11): the per-request session check,
login steps (tenant choice, second factor), forced password change and 2FA enrolment,
the account page, coworker admin, route converters that bound ids, logo re-encoding."""
from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest

from gateway_fakes import HX, TENANT, USER, log_in, make_app, session_state, validation_error
from gateway.rpc.transport import RemoteFailure


def unauthenticated(message="Your session has ended. Log in again.") -> RemoteFailure:
    return RemoteFailure({"exc_type": "Unauthenticated", "exc_args": [message, {}], "value": message})


def ok_result(user=None, must=None, version=1):
    return session_state(version, user=user, must=must)


@pytest.fixture
def fresh(rpc):
    """An app that checks the session on every request (no cache), as the revocation tests need."""
    app = make_app(rpc, SESSION_CHECK_SECONDS=0)
    return log_in(app.test_client())


# -- the per-request session check ----------------------------------------------------------------------
def test_every_request_checks_the_session_version(fresh, rpc):
    assert fresh.get("/companies").status_code == 200
    assert rpc.session_checks == [(1,)]
    assert fresh.get("/companies").status_code == 200
    assert rpc.session_checks == [(1,), (1,)]  # no cache here: asked again


def test_an_ended_session_is_logged_out_at_once(fresh, rpc):
    rpc.on("session_state", unauthenticated())
    response = fresh.get("/companies")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with fresh.session_transaction() as session:
        assert "user" not in session
    response = fresh.get("/companies", headers=HX)
    assert response.status_code == 401 and "/login" in response.headers["HX-Redirect"]


def test_the_check_is_cached_for_a_few_seconds_per_process(rpc):
    app = make_app(rpc, SESSION_CHECK_SECONDS=30)
    client = log_in(app.test_client())
    client.get("/companies")
    client.get("/companies")
    assert rpc.session_checks == [(1,)]


def test_a_cookie_without_a_session_version_is_not_trusted(app, rpc):
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = USER  # an old cookie: no version
        session["tenant"] = TENANT
    assert client.get("/companies").status_code == 302
    assert rpc.session_checks == []


def test_a_role_change_shows_on_the_next_request(fresh, rpc):
    rpc.on("session_state", lambda v: ok_result({**USER, "role": "user", "name": "Ada Demoted"}))
    assert fresh.get("/admin/users").status_code == 403
    assert "Ada Demoted" in fresh.get("/companies").text


def test_a_forced_password_change_comes_before_anything_else(fresh, rpc):
    rpc.on("session_state", lambda v: ok_result(must="change_password"))
    response = fresh.get("/companies")
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/password")
    assert fresh.get("/companies/7", headers=HX).headers["HX-Redirect"].startswith("/account/password")
    # a background request of the password page itself (a polling bell) is not sent round in circles
    assert fresh.get("/companies/7/head", headers={**HX, "HX-Current-URL": "http://x/account/password"}).status_code == 204
    page = fresh.get("/account/password")
    assert page.status_code == 200 and 'id="must-change"' in page.text


def test_a_required_authenticator_comes_before_anything_else(fresh, rpc):
    rpc.on("session_state", lambda v: ok_result(must="enrol_totp"))
    rpc.on("totp_begin", lambda opts: {"secret": "JBSWY3DPEHPK3PXP",
                                       "uri": "otpauth://totp/CRM:ada%40example.com?secret=JBSWY3DPEHPK3PXP"})
    assert fresh.get("/companies").headers["Location"] == "/account/2fa"
    page = fresh.get("/account/2fa")
    assert page.status_code == 200 and 'id="must-enrol"' in page.text
    qr = page.text.split('id="totp-qr">')[1].split("</div>")[0]
    assert qr.startswith("<svg") and "<script" not in qr and "style=" not in qr and "JBSWY3DPEHPK3PXP" in page.text


# -- login steps -------------------------------------------------------------------------------------------
def test_login_starts_a_session_with_the_version(anonymous, rpc):
    rpc.on("login", lambda data: {**ok_result(version=7)})
    response = anonymous.post("/login", data={"email": "ada@example.com", "password": "pw"})
    assert response.status_code == 303 and response.headers["Location"] == "/companies"
    assert rpc.last("login").args[0] == {"email": "ada@example.com", "password": "pw"}  # no ip: the token has it
    with anonymous.session_transaction() as session:
        assert session["user"]["session_version"] == 7


def test_login_with_a_forced_change_goes_to_the_password_page(anonymous, rpc):
    rpc.on("login", lambda data: ok_result(must="change_password"))
    response = anonymous.post("/login?next=/companies/7", data={"email": "ada@example.com", "password": "pw"})
    assert response.headers["Location"].startswith("/account/password?next=")


def test_login_asks_which_organisation_when_the_email_is_in_several(anonymous, rpc):
    rpc.on("login", lambda data: {"status": "choose_tenant", "tenants": [{"slug": "agency-a", "name": "Agency A"},
                                                                         {"slug": "agency-b", "name": "Agency <B>"}]}
           if "tenant" not in data else ok_result())
    page = anonymous.post("/login", data={"email": "kari@example.com", "password": "pw"})
    assert page.status_code == 409 and 'name="tenant"' in page.text and "Agency &lt;B&gt;" in page.text
    assert 'value="pw"' not in page.text  # the password is never echoed
    done = anonymous.post("/login", data={"email": "kari@example.com", "password": "pw", "tenant": "agency-b"})
    assert done.status_code == 303 and rpc.last("login").args[0]["tenant"] == "agency-b"


def test_second_factor_step(anonymous, rpc):
    rpc.on("login", lambda data: {"status": "totp", "challenge": "c" * 43})
    response = anonymous.post("/login", data={"email": "ada@example.com", "password": "pw"})
    assert response.status_code == 303 and response.headers["Location"] == "/login/2fa"
    with anonymous.session_transaction() as session:
        assert "user" not in session  # not signed in yet
    assert anonymous.get("/companies").status_code == 302
    rpc.on("login_totp", unauthenticated("Wrong code. Check the time on your phone and try again (4 tries left)."))
    wrong = anonymous.post("/login/2fa", data={"code": "123456"})
    assert wrong.status_code == 401 and "4 tries left" in wrong.text
    rpc.on("login_totp", lambda data: ok_result())
    done = anonymous.post("/login/2fa", data={"code": "654321"})
    assert done.status_code == 303 and rpc.last("login_totp").args[0] == {"challenge": "c" * 43, "code": "654321"}
    with anonymous.session_transaction() as session:
        assert session["user"]["id"] == 1 and "pending_2fa" not in session


def test_an_expired_second_factor_goes_back_to_the_password(anonymous, rpc):
    with anonymous.session_transaction() as session:
        session["pending_2fa"] = {"challenge": "c" * 43, "next": "/companies"}
    rpc.on("login_totp", unauthenticated("The sign-in has expired. Enter your e-mail and password again."))
    page = anonymous.post("/login/2fa", data={"code": "123456"})
    assert page.status_code == 401 and 'name="password"' in page.text and "expired" in page.text


def test_logout_ends_the_sessions_in_the_crm(client, rpc):
    rpc.on("logout", {"ended": True})
    response = client.post("/logout")
    assert response.status_code == 303 and "logout" in rpc.methods()
    with client.session_transaction() as session:
        assert "user" not in session


# -- the account page --------------------------------------------------------------------------------------
ACCOUNT = {**ok_result(), "totp_enabled": False, "recovery_codes_left": 0, "password_changed_at": None}


def test_change_password_checks_the_confirmation_then_keeps_this_session(client, rpc):
    page = client.post("/account/password", data={"current": "old", "new": "a-new-one-here", "confirm": "other"})
    assert page.status_code == 422 and "not the same" in page.text and "change_password" not in rpc.methods()
    rpc.on("change_password", validation_error("new", "Use at least 12 characters (this one has 5)."))
    page = client.post("/account/password", data={"current": "old", "new": "short", "confirm": "short"})
    assert page.status_code == 422 and "at least 12 characters" in page.text and 'id="new-error"' in page.text
    rpc.on("change_password", lambda data: ok_result(version=2))
    done = client.post("/account/password", data={"current": "old", "new": "plum-harbour-quietly-47",
                                                  "confirm": "plum-harbour-quietly-47"})
    assert done.status_code == 303 and done.headers["Location"] == "/account?changed=1"
    with client.session_transaction() as session:
        assert session["user"]["session_version"] == 2


def test_totp_setup_shows_a_qr_code_then_recovery_codes_once(client, rpc):
    rpc.on("totp_begin", lambda opts: {"secret": "JBSWY3DPEHPK3PXP", "uri": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"})
    page = client.get("/account/2fa")
    assert '<svg' in page.text and 'id="totp-qr"' in page.text
    rpc.on("totp_enable", validation_error("code", "That code is not right."))
    again = client.post("/account/2fa", data={"code": "000000"})
    assert again.status_code == 422 and "not right" in again.text
    assert rpc.last("totp_begin").args[0] == {"fresh": False}  # the same secret after a wrong code
    rpc.on("totp_enable", lambda data: {**ok_result(), "recovery_codes": ["abcd-efgh-jkmn"] * 10})
    done = client.post("/account/2fa", data={"code": "123456"})
    assert done.status_code == 200 and done.text.count("abcd-efgh-jkmn") == 10


# -- coworkers admin ---------------------------------------------------------------------------------------
def test_admin_edits_deactivates_and_resets_a_coworker(client, rpc):
    rpc.on("update_user", lambda uid, changes: {**USER, "id": uid, **changes})
    page = client.get("/admin/users/2")
    assert page.status_code == 200 and "Bo Berg" in page.text and "Reset password" in page.text
    saved = client.post("/admin/users/2", data={"name": "Bo Berg", "email": "bo@example.com", "role": "admin",
                                               "department_id": "2", "active": "1"})
    assert saved.status_code == 303 and rpc.last("update_user").args == [2, {"name": "Bo Berg", "email": "bo@example.com",
                                                                            "role": "admin", "department_id": 2,
                                                                            "active": True}]
    client.post("/admin/users/2/active", data={"active": "0"})
    assert rpc.last("update_user").args == [2, {"active": False}]
    rpc.on("reset_password", validation_error("password", "Too easy to guess."))
    page = client.post("/admin/users/2/password", data={"password": "password1234"})
    assert page.status_code == 422 and "Too easy to guess." in page.text
    rpc.on("reset_password", lambda uid, data: {**USER, "id": uid})
    done = client.post("/admin/users/2/password", data={"password": "plum-harbour-quietly-47", "remove_2fa": "1"})
    assert done.status_code == 303 and rpc.last("reset_password").args == [2, {"password": "plum-harbour-quietly-47",
                                                                               "remove_2fa": True}]


def test_tenant_can_require_2fa(client, rpc):
    rpc.on("get_tenant_settings", {**TENANT, "slug": "demo", "require_2fa": False, "users_without_2fa": 3})
    rpc.on("set_tenant_settings", lambda data: {**TENANT, **data})
    assert "3 active coworkers" in client.get("/admin/security").text
    assert client.post("/admin/security", data={"require_2fa": "1"}).status_code == 303
    assert rpc.last("set_tenant_settings").args == [{"require_2fa": True}]


# -- input limits at the routes -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/companies/99999999999999999999", "/companies/2147483648", "/companies/0",
                                  "/companies/99999999999999999999/logo", "/meetings/99999999999999999999.ics",
                                  "/admin/users/99999999999999999999"])
def test_out_of_range_ids_in_urls_are_404_without_a_call(client, rpc, path):
    assert client.get(path).status_code == 404
    assert rpc.methods() == []


# -- logos ---------------------------------------------------------------------------------------------------
def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    body = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def _image(fmt: str, size=(400, 200), mode="RGB") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size, (10, 120, 200, 128) if mode == "RGBA" else (10, 120, 200)).save(out, fmt)
    return out.getvalue()


def _upload(client, data: bytes):
    return client.post("/companies/7/logo", headers=HX, content_type="multipart/form-data",
                       data={"logo": (io.BytesIO(data), "logo.png")})


def test_a_decompression_bomb_is_refused_from_its_header(client, rpc):
    response = _upload(client, _png_header(30000, 30000))
    assert response.status_code == 422 and "4096 × 4096" in response.text
    assert "set_logo" not in rpc.methods()


@pytest.mark.parametrize("fmt,mode", [("PNG", "RGBA"), ("JPEG", "RGB"), ("WEBP", "RGB")])
def test_polyglots_lose_everything_but_the_pixels_and_are_scaled(client, rpc, fmt, mode):
    from PIL import Image

    rpc.on("set_logo", lambda cid, payload: {"logo_version": 2})
    evil = _image(fmt, mode=mode) + b"<html><body><script>alert(1)</script></body></html>"
    assert _upload(client, evil).status_code == 200
    sent = base64.b64decode(rpc.last("set_logo").args[1]["data"])
    assert b"<html" not in sent and b"script" not in sent
    with Image.open(io.BytesIO(sent)) as im:
        assert im.format == fmt and im.size == (192, 96)


def test_the_list_gets_a_small_copy(client, rpc):
    from PIL import Image

    stored = _image("PNG", size=(192, 96))
    rpc.on("get_logo", {"content_type": "image/png", "data": base64.b64encode(stored).decode(), "version": 3})
    response = client.get("/companies/7/logo?v=3&size=list")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(response.data)) as im:
        assert im.size == (40, 20)
