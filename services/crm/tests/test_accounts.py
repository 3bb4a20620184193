"""Sessions and accounts (issue 11) over real RabbitMQ, on SQLite and PostgreSQL:
session versions that end sessions at once, password rules and forced changes,
lockout per account and client (never everywhere), TOTP 2FA with recovery codes,
the same e-mail in two tenants, coworker admin."""
from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy.orm import Session

from crm import auth
from crm.models import Tenant, User

from conftest import remote_error

STRONG = "plum-harbour-quietly-47"
STRONG_2 = "violet-engine-sandwich-9"
STRONG_3 = "copper-meadow-lantern-58"


@pytest.fixture
def people(engine):
    """Tenant A (slug agency-a): admin Anne (no forced change), coworker Kari; tenant B: admin Bo.
    Kari's e-mail also exists in B, with another password."""
    with Session(engine) as s:
        a, anne, _ = auth.create_tenant(s, "Agency A", "anne@example.com", "Anne Admin", STRONG, must_change=False)
        b, bo, _ = auth.create_tenant(s, "Agency B", "bo@example.com", "Bo Admin", STRONG, must_change=False)
        kari = User(tenant_id=a.id, email="kari@example.com", name="Kari User", role="user", active=True,
                    password_hash=auth.hasher.hash(STRONG_2), session_version=1, must_change_password=False)
        kari_b = User(tenant_id=b.id, email="kari@example.com", name="Kari in B", role="user", active=True,
                      password_hash=auth.hasher.hash(STRONG_3), session_version=1, must_change_password=False)
        s.add_all([kari, kari_b])
        s.commit()
        return {"a": a.id, "b": b.id, "anne": anne.id, "bo": bo.id, "kari": kari.id, "kari_b": kari_b.id}


@pytest.fixture
def gw(running_service, rpc_factory):
    """The gateway's own identity (login steps), from client 10.0.0.1."""
    return rpc_factory(client_ip="10.0.0.1").crm


def as_user(rpc_factory, tenant, user, **claims):
    return rpc_factory(tenant_id=tenant, user_id=user, **claims).crm


def test_logout_password_change_role_and_deactivation_end_sessions(gw, rpc_factory, people):
    ok = gw.login({"email": "kari@example.com", "password": STRONG_2, "tenant": "agency-a"})
    assert ok["status"] == "ok" and ok["must"] is None and ok["tenant"]["slug"] == "agency-a"
    version = ok["user"]["session_version"]
    kari = as_user(rpc_factory, people["a"], people["kari"])
    admin = as_user(rpc_factory, people["a"], people["anne"])
    assert kari.session_state(version)["user"]["id"] == people["kari"]

    # her own password change: the old session ends, the new version goes on
    changed = kari.change_password({"current": STRONG_2, "new": STRONG_3})
    assert remote_error(kari.session_state, version).exc_type == "Unauthenticated"
    version = changed["user"]["session_version"]
    assert kari.session_state(version)["status"] == "ok"

    kari.logout()  # ends every session of hers
    assert remote_error(kari.session_state, version).exc_type == "Unauthenticated"
    version = gw.login({"email": "kari@example.com", "password": STRONG_3, "tenant": "agency-a"})["user"]["session_version"]

    admin.update_user(people["kari"], {"role": "admin"})  # a new role ends her sessions
    assert remote_error(kari.session_state, version).exc_type == "Unauthenticated"
    version = gw.login({"email": "kari@example.com", "password": STRONG_3, "tenant": "agency-a"})["user"]["session_version"]
    admin.update_user(people["kari"], {"name": "Kari Nordmann"})  # a new name does not
    assert kari.session_state(version)["user"]["name"] == "Kari Nordmann"

    admin.update_user(people["kari"], {"active": False})
    assert remote_error(kari.session_state, version).exc_type == "Unauthenticated"
    err = remote_error(gw.login, {"email": "kari@example.com", "password": STRONG_3, "tenant": "agency-a"})
    assert err.exc_type == "Unauthenticated"  # the same answer as a wrong password
    admin.update_user(people["kari"], {"active": True})
    assert gw.login({"email": "kari@example.com", "password": STRONG_3, "tenant": "agency-a"})["status"] == "ok"

    # an admin cannot lock themselves out, a coworker cannot administer
    err = remote_error(admin.update_user, people["anne"], {"active": False})
    assert err.exc_type == "ValidationError" and "yourself" in str(err)
    err = remote_error(admin.update_user, people["anne"], {"role": "user"})
    assert err.exc_type == "ValidationError" and "role" in str(err)
    admin.update_user(people["kari"], {"role": "user"})
    assert remote_error(kari.update_user, people["anne"], {"name": "x"}).exc_type == "Forbidden"
    # another tenant's coworker is not found
    assert remote_error(admin.update_user, people["kari_b"], {"name": "x"}).exc_type == "NotFound"


def test_password_rules_reset_and_forced_change_at_first_login(gw, rpc_factory, people):
    admin = as_user(rpc_factory, people["a"], people["anne"])
    for weak, words in (("short-pw", "at least 12 characters"), ("password1234", "easy to guess"),
                        ("aaaaaaaaaaaaaaaa", "different characters")):
        err = remote_error(admin.create_user, {"email": "ola@example.com", "name": "Ola Nordmann", "password": weak})
        assert err.exc_type == "ValidationError" and "password" in str(err) and words in str(err), weak
    ola = admin.create_user({"email": "Ola@Example.com", "name": "Ola Nordmann", "password": STRONG_2})
    assert ola["email"] == "ola@example.com"
    first = gw.login({"email": "ola@example.com", "password": STRONG_2})
    assert first["status"] == "ok" and first["must"] == "change_password"
    me = as_user(rpc_factory, people["a"], ola["id"], role="user")
    err = remote_error(me.change_password, {"current": "not-it", "new": STRONG_3})
    assert err.exc_type == "ValidationError" and "current" in str(err)
    err = remote_error(me.change_password, {"current": STRONG_2, "new": STRONG_2})
    assert "different" in str(err)
    err = remote_error(me.change_password, {"current": STRONG_2, "new": "ola-nordmann"})
    assert err.exc_type == "ValidationError" and "new" in str(err)
    done = me.change_password({"current": STRONG_2, "new": STRONG_3})
    assert done["must"] is None
    assert gw.login({"email": "ola@example.com", "password": STRONG_3})["must"] is None

    # an admin resets it: sessions end, and the next login must choose a new one
    version = done["user"]["session_version"]
    admin.reset_password(ola["id"], {"password": STRONG})
    assert remote_error(me.session_state, version).exc_type == "Unauthenticated"
    assert remote_error(gw.login, {"email": "ola@example.com", "password": STRONG_3}).exc_type == "Unauthenticated"
    assert gw.login({"email": "ola@example.com", "password": STRONG})["must"] == "change_password"
    assert remote_error(me.reset_password, people["anne"], {"password": STRONG}).exc_type == "Forbidden"


def test_wrong_passwords_slow_that_account_from_that_client_only(running_service, rpc_factory, people):
    attacker = rpc_factory(client_ip="203.0.113.7").crm
    for _ in range(auth.MAX_PER_ACCOUNT_CLIENT):
        assert remote_error(attacker.login, {"email": "anne@example.com", "password": "guess-guess-guess"}).exc_type \
            == "Unauthenticated"
    err = remote_error(attacker.login, {"email": "anne@example.com", "password": STRONG})
    assert err.exc_type == "RateLimited"  # even the right password, from there
    # the real Anne, from her own client, is not locked out
    assert rpc_factory(client_ip="198.51.100.20").crm.login({"email": "anne@example.com", "password": STRONG})["status"] == "ok"
    # the per-client limit: many accounts guessed from one address
    spray = rpc_factory(client_ip="203.0.113.99").crm
    for i in range(auth.MAX_PER_CLIENT):
        remote_error(spray.login, {"email": f"nobody{i}@example.com", "password": "guess-guess-guess"})
    assert remote_error(spray.login, {"email": "bo@example.com", "password": STRONG}).exc_type == "RateLimited"
    assert rpc_factory(client_ip="198.51.100.21").crm.login({"email": "bo@example.com", "password": STRONG})["status"] == "ok"
    # login takes the client address from the signed token: an "ip" in the arguments changes nothing
    err = remote_error(attacker.login, {"email": "anne@example.com", "password": STRONG, "ip": "198.51.100.20"})
    assert err.exc_type == "RateLimited"


def _code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset * 30)


def test_totp_enrolment_sign_in_replay_and_recovery_codes(gw, rpc_factory, people):
    kari = as_user(rpc_factory, people["a"], people["kari"], role="user")
    begun = kari.totp_begin()
    assert begun["uri"].startswith("otpauth://totp/") and "kari%40example.com" in begun["uri"]
    assert kari.totp_begin({"fresh": False})["secret"] == begun["secret"]  # after a wrong code: the same one
    err = remote_error(kari.totp_enable, {"code": "000000" if _code(begun["secret"]) != "000000" else "111111"})
    assert err.exc_type == "ValidationError" and "code" in str(err)
    enabled = kari.totp_enable({"code": _code(begun["secret"])})
    codes = enabled["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert kari.get_account()["totp_enabled"] is True and kari.get_account()["recovery_codes_left"] == 10

    step = gw.login({"email": "kari@example.com", "password": STRONG_2, "tenant": "agency-a"})
    assert step["status"] == "totp" and "user" not in step
    err = remote_error(gw.login_totp, {"challenge": step["challenge"], "code": "12345"})
    assert err.exc_type == "Unauthenticated" and "tries left" in str(err)
    # the code used at enrolment cannot be replayed; the next one works
    err = remote_error(gw.login_totp, {"challenge": step["challenge"], "code": _code(begun["secret"])})
    assert err.exc_type == "Unauthenticated"
    signed = gw.login_totp({"challenge": step["challenge"], "code": _code(begun["secret"], 1)})
    assert signed["status"] == "ok" and signed["user"]["id"] == people["kari"]
    # the challenge is used up
    assert "expired" in str(remote_error(gw.login_totp, {"challenge": step["challenge"], "code": codes[0]}))

    # a recovery code works once; a challenge only from the client that got it
    step = gw.login({"email": "kari@example.com", "password": STRONG_2, "tenant": "agency-a"})
    other_client = rpc_factory(client_ip="10.9.9.9").crm
    assert "expired" in str(remote_error(other_client.login_totp, {"challenge": step["challenge"], "code": codes[0]}))
    assert gw.login_totp({"challenge": step["challenge"], "code": codes[0].upper()})["status"] == "ok"
    step = gw.login({"email": "kari@example.com", "password": STRONG_2, "tenant": "agency-a"})
    assert remote_error(gw.login_totp, {"challenge": step["challenge"], "code": codes[0]}).exc_type == "Unauthenticated"
    assert kari.get_account()["recovery_codes_left"] == 9
    # five wrong codes and the challenge is gone
    for _ in range(auth.CHALLENGE_TRIES - 1):
        remote_error(gw.login_totp, {"challenge": step["challenge"], "code": "000001"})
    assert "expired" in str(remote_error(gw.login_totp, {"challenge": step["challenge"], "code": codes[1]}))

    # turning it off needs the password
    assert "password" in str(remote_error(kari.totp_disable, {"password": "wrong"}))
    assert kari.totp_disable({"password": STRONG_2})["status"] == "ok"
    assert gw.login({"email": "kari@example.com", "password": STRONG_2, "tenant": "agency-a"})["status"] == "ok"


def test_a_tenant_can_require_2fa_for_everyone(gw, rpc_factory, people):
    admin = as_user(rpc_factory, people["a"], people["anne"])
    kari = as_user(rpc_factory, people["a"], people["kari"], role="user")
    assert remote_error(kari.set_tenant_settings, {"require_2fa": True}).exc_type == "Forbidden"
    settings = admin.set_tenant_settings({"require_2fa": True})
    assert settings["require_2fa"] is True and settings["users_without_2fa"] == 2
    first = gw.login({"email": "kari@example.com", "password": STRONG_2, "tenant": "agency-a"})
    assert first["must"] == "enrol_totp"
    assert kari.session_state(first["user"]["session_version"])["must"] == "enrol_totp"
    secret = kari.totp_begin()["secret"]
    assert kari.totp_enable({"code": _code(secret)})["must"] is None
    assert remote_error(kari.totp_disable, {"password": STRONG_2}).exc_type == "Forbidden"
    assert gw.login({"email": "kari@example.com", "password": STRONG_2, "tenant": "agency-a"})["status"] == "totp"
    # B is not affected
    assert gw.login({"email": "bo@example.com", "password": STRONG})["must"] is None


def test_the_same_email_in_two_tenants(gw, rpc_factory, people, engine):
    # different passwords: the one that matches decides, nothing tells of the other tenant
    assert gw.login({"email": "kari@example.com", "password": STRONG_3})["tenant"]["id"] == people["b"]
    assert gw.login({"email": "kari@example.com", "password": STRONG_2})["tenant"]["id"] == people["a"]
    # the same password in both: login asks which organisation
    with Session(engine) as s:
        s.get(User, people["kari_b"]).password_hash = auth.hasher.hash(STRONG_2)
        s.commit()
    choose = gw.login({"email": "kari@example.com", "password": STRONG_2})
    assert choose["status"] == "choose_tenant"
    assert {t["slug"] for t in choose["tenants"]} == {"agency-a", "agency-b"}
    assert gw.login({"email": "kari@example.com", "password": STRONG_2, "tenant": "agency-b"})["user"]["id"] == people["kari_b"]
    assert remote_error(gw.login, {"email": "kari@example.com", "password": STRONG_2, "tenant": "nope"}).exc_type \
        == "Unauthenticated"
    # a wrong password never lists tenants
    assert remote_error(gw.login, {"email": "kari@example.com", "password": "wrong-wrong"}).exc_type == "Unauthenticated"
    # B's admin adds an address that exists in A: fine, and nothing says so
    bo = as_user(rpc_factory, people["b"], people["bo"])
    assert bo.create_user({"email": "anne@example.com", "name": "Another Anne", "password": STRONG_3})["tenant_id"] == people["b"]
    err = remote_error(bo.create_user, {"email": "anne@example.com", "name": "Again", "password": STRONG_3})
    assert err.exc_type == "ValidationError" and "email" in str(err)
    err = remote_error(bo.update_user, people["kari_b"], {"email": "anne@example.com"})
    assert err.exc_type == "ValidationError" and "already exists" in str(err)


def test_operator_creates_a_tenant_and_its_first_admin(engine, gw, people):
    with Session(engine) as s:
        tenant, admin, password = auth.create_tenant(s, "Nordic Talent AB", "Boss@Nordic.example", "Boss")
        assert tenant.slug == "nordic-talent-ab" and admin.role == "admin" and len(password) >= 12
        with pytest.raises(auth.ValidationError) as info:
            auth.create_tenant(s, "Nordic Talent AB", "x@nordic.example")
        assert info.value.field == "slug"
    first = gw.login({"email": "boss@nordic.example", "password": password})
    assert first["must"] == "change_password" and first["tenant"]["name"] == "Nordic Talent AB"
    with Session(engine) as s:
        assert s.get(Tenant, tenant.id).require_2fa is False


def test_language_of_a_user_and_default_language_and_zone_of_a_tenant(gw, rpc_factory, people):
    """issue 14: a user's own UI language (stored, in the session result), the tenant's default
    language and time zone (admins only), unknown values refused."""
    kari = as_user(rpc_factory, people["a"], people["kari"], role="user")
    admin = as_user(rpc_factory, people["a"], people["anne"])
    ok = gw.login({"email": "kari@example.com", "password": STRONG_2, "tenant": "agency-a"})
    assert ok["user"]["language"] is None and ok["tenant"]["language"] is None and ok["tenant"]["timezone"] is None
    assert kari.set_account_language({"language": "nb"})["user"]["language"] == "nb"
    assert kari.session_state(ok["user"]["session_version"])["user"]["language"] == "nb"  # the session goes on
    assert kari.get_account()["user"]["language"] == "nb"
    assert remote_error(kari.set_account_language, {"language": "xx"}).exc_type == "ValidationError"
    assert kari.set_account_language({"language": None})["user"]["language"] is None

    assert remote_error(kari.set_tenant_settings, {"language": "sv"}).exc_type == "Forbidden"
    settings = admin.set_tenant_settings({"language": "sv", "timezone": "Europe/Stockholm"})
    assert settings["language"] == "sv" and settings["timezone"] == "Europe/Stockholm"
    assert settings["require_2fa"] is False  # untouched when not given
    assert remote_error(admin.set_tenant_settings, {"timezone": "Mars/Olympus"}).exc_type == "ValidationError"
    assert kari.get_account()["tenant"]["language"] == "sv"
