"""Merge fields, header checks and the MIME message. Plain logic (no nameko).

A body is plain text with merge fields ``{{ company_name }}``, ``{{ first_name }}``,
``{{ last_name }}``, ``{{ sender_name }}``, ``{{ sender_title }}``. The plain part
gets the values as they are; the HTML part is built from the escaped text, with
every merge value escaped, so nothing a user typed becomes markup.
"""
from __future__ import annotations

import hashlib
import hmac
import base64
import html
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formatdate

from service_common.errors import ValidationError

FIELDS = ("company_name", "first_name", "last_name", "sender_name", "sender_title")
FIELD_LABELS = {"company_name": "Company name", "first_name": "Contact's first name",
                "last_name": "Contact's last name", "sender_name": "Your name", "sender_title": "Your title"}
_TOKEN = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_CRLF = re.compile(r"[\r\n]")


def check_header(value: str | None, field: str) -> None:
    """Refuse CR/LF (header injection) in anything that goes into a header."""
    if value and _CRLF.search(value):
        raise ValidationError("must be a single line (no line breaks)", field=field)


def check_template(text: str, field: str) -> None:
    """Every ``{{ name }}`` must be a known merge field."""
    for match in _TOKEN.finditer(text or ""):
        if match.group(1) not in FIELDS:
            raise ValidationError(f"unknown merge field {{{{ {match.group(1)} }}}}; use one of: "
                                  + ", ".join(FIELDS), field=field)


def _values(values: dict) -> dict:
    return {k: ("" if values.get(k) is None else str(values.get(k))) for k in FIELDS}


def merge_text(template: str, values: dict) -> str:
    vals = _values(values)
    return _TOKEN.sub(lambda m: vals.get(m.group(1), ""), template)


def merge_header(template: str, values: dict) -> str:
    """Merge into a header value: line breaks in a value become spaces."""
    vals = {k: _CRLF.sub(" ", v) for k, v in _values(values).items()}
    return _TOKEN.sub(lambda m: vals.get(m.group(1), ""), template).strip()


def merge_html(template: str, values: dict) -> str:
    """The HTML body: literal text and merge values escaped, paragraphs from blank lines."""
    vals = _values(values)
    out, pos = [], 0
    for match in _TOKEN.finditer(template):
        out.append(html.escape(template[pos:match.start()]))
        out.append(html.escape(vals.get(match.group(1), "")))
        pos = match.end()
    out.append(html.escape(template[pos:]))
    text = "".join(out).replace("\r\n", "\n")
    paragraphs = [p.replace("\n", "<br>\n") for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "\n".join(f"<p>{p}</p>" for p in paragraphs)


# -- unsubscribe tokens ------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsubscribe_token(secret: str, tenant_id: int, address: str) -> str:
    """``<b64 "tenant:address">.<b64 hmac-sha256[:16]>``: names tenant and address, unforgeable."""
    body = f"{tenant_id}:{address.lower()}".encode()
    sig = hmac.new(secret.encode(), b"unsubscribe:" + body, hashlib.sha256).digest()[:16]
    return f"{_b64(body)}.{_b64(sig)}"


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str]:
    """-> (tenant_id, address) or ValidationError(field="token")."""
    try:
        body_b64, sig_b64 = (token or "").split(".", 1)
        body = _unb64(body_b64)
        sig = _unb64(sig_b64)
        expected = hmac.new(secret.encode(), b"unsubscribe:" + body, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(sig, expected):
            raise ValueError
        tenant, address = body.decode().split(":", 1)
        return int(tenant), address
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("This unsubscribe link is not valid.", field="token") from None


def message_id(secret: str, campaign_id: int, address: str, domain: str) -> str:
    """Stable per (campaign, recipient): the same on every attempt."""
    digest = hmac.new(secret.encode(), f"mid:{campaign_id}:{address.lower()}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"<c{campaign_id}.{digest}@{domain}>"


# -- the message ---------------------------------------------------------------
def _address(name: str | None, email: str) -> Address:
    local, _, domain = email.rpartition("@")
    return Address(display_name=name or "", username=local, domain=domain)


def build_message(*, from_address: str, sender_name: str, reply_to: str | None, to: str, to_name: str | None,
                  subject: str, text: str, html_body: str, message_id: str, unsubscribe_url: str | None,
                  date=None) -> EmailMessage:
    """multipart/alternative (plain + HTML), UTF-8 headers, List-Unsubscribe (RFC 2369)
    and List-Unsubscribe-Post (RFC 8058) when an unsubscribe URL is given."""
    for value, field in ((subject, "subject"), (sender_name, "sender_name"), (to_name, "to_name")):
        check_header(value, field)
    msg = EmailMessage()
    msg["From"] = _address(sender_name, from_address)
    if reply_to:
        msg["Reply-To"] = _address(sender_name, reply_to)
    msg["To"] = _address(to_name, to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date) if date else formatdate(localtime=False)
    msg["Message-ID"] = message_id
    footer_text = ""
    footer_html = ""
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        footer_text = f"\n\n--\nUnsubscribe: {unsubscribe_url}\n"
        footer_html = (f'\n<p style="font-size:small;color:#666">'
                       f'<a href="{html.escape(unsubscribe_url)}">Unsubscribe</a></p>')
    msg.set_content(text + footer_text, charset="utf-8")
    msg.add_alternative(f"<!doctype html>\n<html><body>\n{html_body}{footer_html}\n</body></html>\n",
                        subtype="html", charset="utf-8")
    return msg
