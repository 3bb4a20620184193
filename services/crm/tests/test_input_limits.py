"""Input limits (issue 11) over real RabbitMQ, on SQLite and PostgreSQL: every crm RPC
that takes ids, dates or amounts answers out-of-range input with a ValidationError
naming the field (or NotFound), never an OverflowError or a database error; NUL bytes
in text are refused. Also: calendar files and logos that cannot smuggle anything in."""
from __future__ import annotations

import base64
import inspect
import io
import struct
import uuid
import zlib

import pytest
from nameko.rpc import Rpc
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.service import CrmService

from conftest import remote_error

HUGE = 10**20  # a 20-digit id
BIG = 2**40  # fits 64 bits, not PostgreSQL's INTEGER
EXPECTED_TYPES = {"ValidationError", "NotFound"}
SKIP = {"health", "login", "login_totp",  # no ids (login has its own tests)
        "session_state"}  # its argument is a session version: a wrong one is Unauthenticated (test_accounts)


def entrypoints() -> list[tuple[str, int]]:
    found = []
    for name, fn in inspect.getmembers(CrmService, inspect.isfunction):
        if name in SKIP or not any(isinstance(e, Rpc) for e in getattr(fn, "nameko_entrypoints", ())):
            continue
        params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
        found.append((name, len([p for p in params if p.default is inspect.Parameter.empty])))
    return sorted(found)


def _expected(err, field: str | None = None) -> None:
    assert err.exc_type in EXPECTED_TYPES, (err.exc_type, str(err))
    if field and err.exc_type == "ValidationError":
        assert field in str(err), (field, str(err))


def test_every_positional_argument_out_of_range_is_a_typed_error(clients, world):
    """Each entrypoint, each required argument in turn a 20-digit number, then 2**40 (the rest valid-ish):
    a typed refusal (Forbidden: refused before the input is looked at), never a failure."""
    rpc = clients["admin"]
    cid = rpc.create_company({"name": "Limits AS", "country": "NO"})["id"]
    swept = 0
    for name, count in entrypoints():
        if count == 0:
            continue
        for position in range(count):
            for bad in (HUGE, BIG, -HUGE):
                args = [cid] * count
                args[position] = bad
                try:
                    getattr(rpc, name)(*args)
                except Exception as exc:  # noqa: BLE001 - we look at what came back
                    assert exc.exc_type in EXPECTED_TYPES | {"Forbidden"}, (name, position, exc.exc_type, str(exc))
                swept += 1
    assert swept > 60


def _payloads(cid: int, world: dict):
    """(method, args, field): payloads with ids, dates, amounts and text out of range."""
    day = "2026-05-01"
    for year in ("0001-01-01", "9999-12-31"):
        yield "create_project", ({"company_id": cid, "name": "P", "start_date": year},), "start_date"
        yield "create_agreement", ({"company_id": cid, "title": "A", "valid_to": year},), "valid_to"
        yield "create_task", ({"company_id": cid, "title": "T", "due_date": year},), "due_date"
        yield "create_meeting", ({"company_id": cid, "title": "M", "starts_at": year + "T10:00:00Z"},), "starts_at"
        yield "log_activity", ({"company_id": cid, "kind": "call", "at": year + "T10:00:00Z"},), "at"
        yield "company_timeline", (cid, {"before": year + "T00:00:00Z"}), "before"
        yield "record_invoice", ({"invoice_number": "I-1", "company_id": cid, "issued_on": year, "amount": "10",
                                  "currency": "NOK"},), "issued_on"
        yield "credit_invoice", ({"invoice_number": "I-1", "credit_note_number": "C-1", "issued_on": year},), "issued_on"
    for bad_id in (HUGE, BIG):
        yield "create_contact", ({"company_id": bad_id, "first_name": "X"},), "company_id"
        yield "create_project", ({"company_id": cid, "name": "P", "owner_id": bad_id},), "owner_id"
        yield "create_task", ({"company_id": cid, "title": "T", "assignee_id": bad_id},), "assignee_id"
        yield "create_task", ({"company_id": cid, "title": "T", "contact_id": bad_id},), "contact_id"
        yield "create_meeting", ({"company_id": cid, "title": "M", "starts_at": day + "T10:00:00Z",
                                  "user_ids": [bad_id]},), "user_ids"
        yield "create_agreement", ({"company_id": cid, "title": "A", "project_id": bad_id},), "project_id"
        yield "log_activity", ({"company_id": cid, "kind": "call", "user_id": bad_id},), "user_id"
        yield "update_company", (cid, {"parent_id": bad_id}), "parent_id"
        yield "update_company", (cid, {"owner_ids": [bad_id]}), "owner_ids"
        yield "update_company", (cid, {"department_id": bad_id}), "department_id"
        yield "create_company", ({"name": "X", "country": "NO", "owner_ids": [bad_id]},), "owner_ids"
        yield "list_companies", ({"owner": [bad_id]},), "owner"
        yield "list_companies", ({"department": [bad_id]},), "department"
        yield "create_user", ({"email": "x@example.com", "name": "X", "password": "plum-harbour-quietly-47",
                               "department_id": bad_id},), "department_id"
        yield "record_invoice", ({"invoice_number": "I-2", "company_id": bad_id, "issued_on": day, "amount": "10",
                                  "currency": "NOK"},), "company_id"
        yield "update_user", (world["kari"], {"department_id": bad_id}), "department_id"
    yield "list_companies", ({"page": HUGE},), "page"
    yield "search_companies", ({"page": HUGE},), "page"
    yield "update_company", (cid, {"employees": HUGE},), "employees"
    for amount in ("1e30", "NaN", "Infinity", "-5", "0.001"):
        yield "record_invoice", ({"invoice_number": "I-3", "company_id": cid, "issued_on": day, "amount": amount,
                                  "currency": "NOK"},), "amount"
    for method, args, field in (
        ("create_company", ({"name": "Nul\x00 AS", "country": "NO"},), "name"),
        ("update_company", (cid, {"website": "https://x.example/\x00"}), "website"),
        ("create_contact", ({"company_id": cid, "first_name": "A\x00"},), "first_name"),
        ("create_task", ({"company_id": cid, "title": "T\x00"},), "title"),
        ("list_companies", ({"q": "a\x00b"},), "q"),
        ("list_companies", ({"city": ["Os\x00lo"]},), "city"),
        ("set_tags", (cid, ["ok", "b\x00d"]), "tags"),
        ("save_view", ({"name": "V\x00"},), "name"),
        ("create_department", ({"name": "D\x00"},), "name"),
    ):
        yield method, args, field


def test_ids_dates_amounts_and_nul_bytes_in_payloads_name_the_field(clients, world):
    rpc = clients["admin"]
    cid = rpc.create_company({"name": "Payload Limits AS", "country": "NO"})["id"]
    attr = rpc.create_attribute({"name": "Note", "type": "text"})
    for method, args, field in _payloads(cid, world):
        err = remote_error(getattr(rpc, method), *args)
        _expected(err, field)
    err = remote_error(rpc.set_attribute_value, cid, attr["id"], "x\x00y")
    _expected(err, "value")
    # nothing was half-saved
    assert [c["name"] for c in rpc.list_companies({"q": "limits"})["items"]] == ["Payload Limits AS"]
    assert rpc.list_tasks(cid) == [] and rpc.list_projects(cid) == []


# -- calendar files ------------------------------------------------------------------------
def test_meeting_invites_escape_line_breaks_and_control_characters(clients, world):
    from icalendar import Calendar

    rpc = clients["admin"]
    cid = rpc.create_company({"name": "Ics AS", "country": "NO"})["id"]
    meeting = rpc.create_meeting({"company_id": cid, "title": "Plan\rATTENDEE:mailto:evil@example.com\nX",
                                  "place": "Room; 2, left\r\nEND:VEVENT", "starts_at": "2026-06-01T10:00:00Z",
                                  "notes": "Line one\rLine two", "user_ids": [world["kari"]]})
    content = rpc.get_meeting_ics(meeting["id"])["content"]
    assert "\r" not in content.replace("\r\n", "")  # no bare CR anywhere
    assert all(line[:1] == " " or ":" in line or ";" in line for line in content.split("\r\n") if line)
    lines = content.replace("\r\n ", "").split("\r\n")
    assert not any(line.startswith("ATTENDEE:mailto:evil") for line in lines)
    assert sum(line.startswith("END:VEVENT") for line in lines) == 1
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Plan\nATTENDEE:mailto:evil@example.com\nX"
    assert str(event["LOCATION"]) == "Room; 2, left\nEND:VEVENT"
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == ["mailto:kari@example.com"]


# -- logos -----------------------------------------------------------------------------------
def _png(width: int, height: int, body: bytes | None = None) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    if body is None:
        body = zlib.compress(b"\x00" * (width + 1) * min(height, 4), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _real(fmt: str, size=(300, 120)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, fmt)
    return out.getvalue()


def test_logos_are_decoded_bounded_reencoded_and_scaled(clients):
    from PIL import Image

    rpc = clients["admin"]
    cid = rpc.create_company({"name": "Pixels AS", "country": "NO"})["id"]

    def send(data: bytes, kind: str = "image/png"):
        return rpc.set_logo(cid, {"content_type": kind, "data": base64.b64encode(data).decode()})

    # a decompression bomb: 30000 × 30000 in the header, refused before decoding
    err = remote_error(send, _png(30000, 30000))
    assert err.exc_type == "ValidationError" and "4096 × 4096" in str(err)
    err = remote_error(send, _png(64, 64, body=b"not zlib at all"))
    assert err.exc_type == "ValidationError" and "damaged" in str(err)
    # polyglots: a real PNG / JPEG carrying HTML and SVG; only the pixels are kept
    for data, kind in ((_real("PNG") + b"<html><script>alert(1)</script></html>", "image/png"),
                       (_real("JPEG")[:2] + b"\xff\xfe\x00\x20<svg onload=alert(1)></svg>........" + _real("JPEG")[2:],
                        "image/jpeg")):
        send(data, kind)
        stored = base64.b64decode(rpc.get_logo(cid)["data"])
        assert b"<html" not in stored and b"<svg" not in stored and b"script" not in stored
        with Image.open(io.BytesIO(stored)) as im:
            assert im.format == ("PNG" if kind == "image/png" else "JPEG")
            assert max(im.size) == 192 and im.size == (192, 77)  # scaled to the card's size, aspect kept


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path, postgres_admin_url):
    from service_common.testing import _create_pg_database, _drop_pg_database

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    name = f"t_crm_mig_{uuid.uuid4().hex[:10]}"
    url = _create_pg_database(postgres_admin_url, name)
    try:
        yield url
    finally:
        _drop_pg_database(postgres_admin_url, name)


def test_migration_keeps_users_and_allows_an_email_per_tenant(empty_database):
    """0003_accounts on a database with rows: users survive (with every reference to them),
    the e-mail becomes unique per tenant, existing tenants get a slug."""
    from service_common.db import make_engine
    from service_common.migrate import upgrade

    from crm.models import CompanyOwner, Tenant, User

    url = empty_database
    upgrade("crm", url, revision="0002")
    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (id, name, currency) VALUES (1, 'Fjord Bemanning AS', 'NOK'), "
                          "(2, 'Fjord Bemanning AS', 'SEK')"))
        conn.execute(text("INSERT INTO users (id, tenant_id, email, name, password_hash, role, active) VALUES "
                          "(1, 1, 'kari@example.com', 'Kari', 'x', 'admin', true)"))
        conn.execute(text("INSERT INTO companies (id, tenant_id, name, sort_name, country, relationship) VALUES "
                          "(1, 1, 'C AS', 'c as', 'NO', 'customer')"))
        conn.execute(text("INSERT INTO company_owners (company_id, user_id, tenant_id) VALUES (1, 1, 1)"))
    upgrade("crm", url, revision="0003_accounts")
    upgrade("crm", url)  # and on to the head
    with Session(engine) as s:
        assert [(t.id, t.slug) for t in s.scalars(select(Tenant).order_by(Tenant.id))] == \
            [(1, "fjord-bemanning-as"), (2, "fjord-bemanning-as-2")]
        kari = s.get(User, 1)
        assert kari.email == "kari@example.com" and kari.session_version == 1 and kari.must_change_password is False
        assert s.scalar(select(CompanyOwner.user_id)) == 1
        s.add(User(id=50, tenant_id=2, email="kari@example.com", name="Kari B", password_hash="x", role="user", active=True))
        s.commit()
        s.add(User(id=51, tenant_id=2, email="kari@example.com", name="Twice", password_hash="x", role="user", active=True))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()
