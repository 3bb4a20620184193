"""The per-campaign message prototype (plain logic, no broker): what it writes reads back
through Python's e-mail parser as the same message ``build_message`` (EmailMessage) makes,
with RFC 5322 line lengths, RFC 2047 UTF-8 headers and no header injection."""
import email.header
from email import message_from_bytes, policy

import pytest

from mailer import render
from service_common.errors import ValidationError

BODY = ("Hei {{ first_name }} {{ last_name }} i {{ company_name }},\n\nMvh\n{{ sender_name }}, {{ sender_title }}\n"
        + "lang linje " * 30 + "\n. a line with a dot\n=3D literal\n")
NAMES = [("Åsa <b>Øberg</b>", "asa@aero.dk"), ("Kari Nordmann", "k@x.no"), ('Kari "K" N.', "k@x.no"), (None, "k@x.no"),
         ("=?utf-8?q?x?=", "a@b.no"), ("A" * 90, "a@b.no"), ("😀 Emoji ‘quoted’ " * 5, "e@x.com"),
         ("Ærø Søfart ApS", "post@aero.dk"), ("Ærø Søfart og Transport Aktieselskab Nordvest Avdeling Bergen", "x@y.no"),
         ("Ærø" * 30, "z@y.no"), ("Line\r\nBcc: evil@x.com", "n@x.no")]
SUBJECTS = ["Hei {{ first_name }} – nytt fra oss", "Plain subject", "x" * 100, "word " * 60,
            "=?utf-8?q?fake?= {{ company_name }}", "{{ first_name }}"]
UNSUBSCRIBE = "http://crm.test/u/" + "x" * 80


def _proto(subject):
    return render.Prototype(from_address="crm@agency-a.no", sender_name="Åse Øvre", reply_to="ase@agency-a.no",
                            subject=subject, body=BODY, sender_title="Salgssjef")


def _display_name(raw: bytes) -> str:
    """The To display name as a mail client decodes it (RFC 2047: adjacent encoded words join)."""
    value = raw.split(b"\r\nTo: ", 1)[1].split(b"\r\nSubject:", 1)[0].decode().replace("\r\n", "")
    shown = value.rsplit(" <", 1)[0] if value.endswith(">") else ""
    if shown.startswith('"'):
        return shown[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return str(email.header.make_header(email.header.decode_header(shown)))


@pytest.mark.parametrize("subject", SUBJECTS)
def test_prototype_matches_email_message(subject):
    proto = _proto(subject)
    for name, to in NAMES:
        values = {"company_name": name or "Firma", "first_name": name, "last_name": "<b>x</b>"}
        raw = proto.render(to=to, to_name=name, values=values, message_id="<c1.abc@agency-a.no>",
                           unsubscribe_url=UNSUBSCRIBE)
        ours = message_from_bytes(raw, policy=policy.default)
        ref_name = " ".join(render._CRLF.sub(" ", name).split()) if name else None
        ref = message_from_bytes(proto.message(to=to, to_name=ref_name, values=values, message_id="<c1.abc@agency-a.no>",
                                               unsubscribe_url=UNSUBSCRIBE).as_bytes(policy=policy.SMTP),
                                 policy=policy.default)
        assert not ours.defects and ours["Date"].datetime is not None
        for h in ("From", "Reply-To", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
            assert str(ours[h]) == str(ref[h]) and not ours[h].defects, h
        # Python's own folder loses spaces or literal "=?...?=" text in some of these; compare with the intent
        assert str(ours["Subject"]) == render.merge_header(subject, proto.values(values))
        assert ours["To"].addresses[0].addr_spec == to
        assert _display_name(raw) == " ".join((name or "").split())
        assert ours.get_content_type() == "multipart/alternative"
        for kind in ("plain", "html"):
            assert (ours.get_body((kind,)).get_content().replace("\r\n", "\n")
                    == ref.get_body((kind,)).get_content().replace("\r\n", "\n"))
        assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
        assert raw.isascii()
        for line in raw.split(b"\r\n"):  # an unfoldable URL or a 90-letter word may be longer, never beyond 998
            assert len(line) <= 78 or line.startswith(b"List-Unsubscribe:") or b"A" * 80 in line, line
        assert not any(line.lower().startswith(b"bcc") for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"))


def test_header_injection_is_refused_and_values_lose_line_breaks():
    with pytest.raises(ValidationError):
        _proto("Hi\r\nBcc: evil@x.com")
    with pytest.raises(ValidationError):
        render.Prototype(from_address="crm@x.no", sender_name="A\nB", reply_to=None, subject="S", body="B",
                         sender_title=None)
    raw = _proto("Hei {{ first_name }}").render(to="k@x.no", to_name="K\r\nBcc: evil@x.com",
                                                 values={"first_name": "Kari\r\nBcc: evil@x.com"},
                                                 message_id="<m@x>", unsubscribe_url=None)
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None and msg["Subject"] == "Hei Kari  Bcc: evil@x.com"
    assert msg["List-Unsubscribe"] is None and "Unsubscribe" not in msg.get_body(("plain",)).get_content()


def test_addresses_the_fast_path_cannot_write_take_email_message():
    proto = _proto("S")
    assert proto.render(to="ærlig@x.no", to_name=None, values={}, message_id="<m@x>", unsubscribe_url=None) is None
    assert proto.render(to='"a b"@x.no', to_name=None, values={}, message_id="<m@x>", unsubscribe_url=None) is None
    assert proto.render(to="a@x.no", to_name=None, values={}, message_id="<m@x>", unsubscribe_url=None) is not None


def test_the_unsubscribe_link_speaks_the_senders_language():
    """issue 14: the gateway sends the link's words translated; both paths write them (escaped in HTML)."""
    proto = render.Prototype(from_address="crm@agency-a.no", sender_name="Åse Øvre", reply_to=None, subject="Hei",
                             body="Tekst", sender_title=None, unsubscribe_text="Meld av <nå>")
    for raw in (proto.render(to="k@x.no", to_name=None, values={}, message_id="<m@x>", unsubscribe_url=UNSUBSCRIBE),
                proto.message(to="k@x.no", to_name=None, values={}, message_id="<m@x>",
                              unsubscribe_url=UNSUBSCRIBE).as_bytes(policy=policy.SMTP)):
        msg = message_from_bytes(raw, policy=policy.default)
        assert f"Meld av <nå>: {UNSUBSCRIBE}" in msg.get_body(("plain",)).get_content()
        assert ">Meld av &lt;nå&gt;</a>" in msg.get_body(("html",)).get_content()
    english = _proto("Hei").render(to="k@x.no", to_name=None, values={}, message_id="<m@x>", unsubscribe_url=UNSUBSCRIBE)
    assert f"Unsubscribe: {UNSUBSCRIBE}" in message_from_bytes(english, policy=policy.default).get_body(("plain",)).get_content()
    with pytest.raises(ValidationError):
        from mailer.schemas import CampaignIn

        CampaignIn.model_validate({"subject": "Hei", "body": "x", "selection": {"ids": [1]}, "kinds": ["company"],
                                   "idempotency_key": "k" * 10, "unsubscribe_text": "Meld av\r\nBcc: x@y"})
