"""Merge fields, header checks and the MIME message. Plain logic (no nameko).

A body is plain text with merge fields ``{{ company_name }}``, ``{{ first_name }}``,
``{{ last_name }}``, ``{{ sender_name }}``, ``{{ sender_title }}``. The plain part
gets the values as they are; the HTML part is built from the escaped text, with
every merge value escaped, so nothing a user typed becomes markup.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import re
import secrets
import time
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


def header_text(value: str | None) -> str:
    """A value for a header: line breaks become spaces."""
    return _CRLF.sub(" ", value or "")


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


UNSUBSCRIBE = "Unsubscribe"  # the link's words when the campaign names none


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
    return message_ids(secret, campaign_id, domain)(address)


def message_ids(secret: str, campaign_id: int, domain: str):
    """``message_id`` for many addresses of one campaign (the keyed hash set up once)."""
    base = hmac.new(secret.encode(), f"mid:{campaign_id}:".encode(), hashlib.sha256)

    def one(address: str) -> str:
        h = base.copy()
        h.update(address.lower().encode())
        return f"<c{campaign_id}.{h.hexdigest()[:20]}@{domain}>"

    return one


# -- the message ---------------------------------------------------------------
def _address(name: str | None, email: str) -> Address:
    local, _, domain = email.rpartition("@")
    return Address(display_name=name or "", username=local, domain=domain)


def build_message(*, from_address: str, sender_name: str, reply_to: str | None, to: str, to_name: str | None,
                  subject: str, text: str, html_body: str, message_id: str, unsubscribe_url: str | None,
                  unsubscribe_text: str | None = None,
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
        words = unsubscribe_text or UNSUBSCRIBE
        footer_text = f"\n\n--\n{words}: {unsubscribe_url}\n"
        footer_html = (f'\n<p style="font-size:small;color:#666">'
                       f'<a href="{html.escape(unsubscribe_url)}">{html.escape(words)}</a></p>')
    msg.set_content(text + footer_text, charset="utf-8")
    msg.add_alternative(f"<!doctype html>\n<html><body>\n{html_body}{footer_html}\n</body></html>\n",
                        subtype="html", charset="utf-8")
    return msg


# -- the fast path: one prototype per campaign ------------------------------------------
# ``build_message`` (EmailMessage) parses and folds every header through the header
# registry and flattens through the generator: ~1 ms per message. A campaign's messages
# differ only in To, Subject, Date, Message-ID, List-Unsubscribe and the two bodies, so
# ``Prototype`` renders the constant headers once and formats the rest with a few string
# operations: RFC 5322 header lines (folded at 78), RFC 2047 encoded words (UTF-8, "B")
# for anything that is not plain printable ASCII, quoted-printable UTF-8 bodies under a
# boundary that QP can never produce ("=_" is not a QP escape). Addresses that are not
# plain ASCII dot-atoms (SMTPUTF8, quoted local parts) take ``build_message`` instead.
_ATEXT_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_DOT_ATOM_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                               r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")
_WORD_BYTES = 39  # 39 UTF-8 bytes -> 52 base64 chars -> a 64-char encoded word; "Reply-To: " + one fits in 76
CRLF = "\r\n"


def plain_address(address: str | None) -> bool:
    """An ASCII dot-atom address the fast path can write as it is."""
    return bool(address) and _DOT_ATOM_ADDRESS.fullmatch(address) is not None


def encoded_words(value: str) -> list[str]:
    """RFC 2047 "B" encoded words (UTF-8) of at most 64 characters, cut between characters.
    Adjacent encoded words decode as one text (the folding whitespace between them is not
    part of it); Python's own address parser adds a space there, mail clients do not."""
    data = value.encode("utf-8")
    words, start = [], 0
    while start < len(data):
        end = min(start + _WORD_BYTES, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # do not cut a character
            end -= 1
        words.append("=?utf-8?b?" + base64.b64encode(data[start:end]).decode("ascii") + "?=")
        start = end
    return words


def fold(name: str, tokens: list[str]) -> str:
    """``Name: token token ...`` folded before a token (at its separating space) so that
    lines stay within 78 characters where the tokens allow it. Empty tokens (runs of
    spaces) are kept and never start a line."""
    lines, line = [], f"{name}:"
    for token in tokens:
        if len(line) + 1 + len(token) > 78 and token and line.strip() != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + token
    lines.append(line)
    return CRLF.join(lines)


def unstructured(name: str, value: str) -> str:
    """One unstructured header (Subject): printable ASCII as it is, folded at spaces;
    anything else (or a word too long to fold, or "=?" that would read as an encoded
    word) as encoded words."""
    value = _CRLF.sub(" ", value)
    if _PRINTABLE.fullmatch(value) and "=?" not in value:
        words = value.split(" ")
        if all(len(w) <= 76 - len(name) for w in words):
            return fold(name, words)
    return fold(name, encoded_words(value))


def _plain_word(word: str) -> bool:
    return _ATEXT_PHRASE.fullmatch(word) is not None and "=?" not in word


def phrase(name: str | None) -> list[str]:
    """A display name as tokens: atoms as they are, a quoted string for other short
    printable ASCII, else each run of words that are not atoms as encoded words (the
    plain words between runs stay readable, as Python's own folder does it)."""
    words = _CRLF.sub(" ", name or "").split()
    if not words:
        return []
    if all(_plain_word(w) for w in words):
        return words
    text = " ".join(words)
    if _PRINTABLE.fullmatch(text) and "=?" not in text and len(text) <= 60:
        return ['"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"']
    tokens, run = [], []
    for w in words + [None]:
        if w is not None and not _plain_word(w):
            run.append(w)
            continue
        if run:
            tokens += encoded_words(" ".join(run))
            run = []
        if w is not None:
            tokens.append(w)
    return tokens


def address_header(header: str, name: str | None, address: str) -> str:
    return fold(header, [*phrase(name), f"<{address}>"] if name and name.strip() else [address])


def _qp(text: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends (always ends with one)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return binascii.b2a_qp(text.replace("\n", CRLF).encode("utf-8"), istext=True)


_date_cache: tuple[int, str] = (0, "")


def _now_date() -> str:
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, formatdate(second, localtime=False))
    return _date_cache[1]


class Prototype:
    """The messages of one campaign. ``render(...)`` -> the message as bytes (CRLF), ready
    for ``SMTP.sendmail``; ``None`` when an address needs the general path."""

    def __init__(self, *, from_address: str, sender_name: str, reply_to: str | None, subject: str, body: str,
                 sender_title: str | None, subject_prefix: str = "", boundary: str | None = None,
                 unsubscribe_text: str | None = None):
        check_header(subject, "subject")
        check_header(sender_name, "sender_name")
        self.from_address, self.sender_name, self.reply_to = from_address, sender_name, reply_to
        self.subject, self.body, self.subject_prefix = subject, body, subject_prefix
        self.unsubscribe_text = unsubscribe_text or UNSUBSCRIBE
        self.base = {"sender_name": sender_name, "sender_title": sender_title}
        self.ok = plain_address(from_address) and (not reply_to or plain_address(reply_to))
        self.boundary = boundary or f"=_m{secrets.token_hex(12)}"
        head = [address_header("From", sender_name, from_address)]
        if reply_to:
            head.append(address_header("Reply-To", sender_name, reply_to))
        self.head = CRLF.join(head) + CRLF
        self.mime = (f"MIME-Version: 1.0{CRLF}Content-Type: multipart/alternative;{CRLF}"
                     f' boundary="{self.boundary}"{CRLF}{CRLF}').encode("ascii")
        part = "--{b}\r\nContent-Type: text/{t}; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        self.plain_head = part.format(b=self.boundary, t="plain").encode("ascii")
        self.html_head = (CRLF + part.format(b=self.boundary, t="html")).encode("ascii")
        self.end = f"{CRLF}--{self.boundary}--{CRLF}".encode("ascii")

    def values(self, row_values: dict) -> dict:
        return {**row_values, **self.base}

    def merged_subject(self, values: dict) -> str:
        return self.subject_prefix + merge_header(self.subject, values)

    def render(self, *, to: str, to_name: str | None, values: dict, message_id: str,
               unsubscribe_url: str | None) -> bytes | None:
        if not self.ok or not plain_address(to):
            return None
        values = self.values(values)
        text = merge_text(self.body, values)
        body_html = merge_html(self.body, values)
        lines = [self.head, address_header("To", to_name, to), CRLF, unstructured("Subject", self.merged_subject(values)),
                 CRLF, "Date: ", _now_date(), CRLF, "Message-ID: ", message_id, CRLF]
        footer_html = ""
        if unsubscribe_url:
            # a URL cannot be folded: one line (under 998 characters: the token is at most ~450)
            lines += ["List-Unsubscribe: <", unsubscribe_url, ">", CRLF,
                      "List-Unsubscribe-Post: List-Unsubscribe=One-Click", CRLF]
            text += f"\n\n--\n{self.unsubscribe_text}: {unsubscribe_url}\n"
            footer_html = (f'\n<p style="font-size:small;color:#666">'
                           f'<a href="{html.escape(unsubscribe_url)}">{html.escape(self.unsubscribe_text)}</a></p>')
        page = f"<!doctype html>\n<html><body>\n{body_html}{footer_html}\n</body></html>\n"
        return b"".join((("".join(lines)).encode("ascii"), self.mime, self.plain_head, _qp(text), self.html_head,
                         _qp(page), self.end))

    def message(self, *, to: str, to_name: str | None, values: dict, message_id: str,
                unsubscribe_url: str | None) -> EmailMessage:
        """The same message through ``email.message.EmailMessage`` (any address)."""
        values = self.values(values)
        return build_message(from_address=self.from_address, sender_name=self.sender_name, reply_to=self.reply_to,
                             to=to, to_name=to_name, subject=self.merged_subject(values),
                             text=merge_text(self.body, values), html_body=merge_html(self.body, values),
                             message_id=message_id, unsubscribe_url=unsubscribe_url,
                             unsubscribe_text=self.unsubscribe_text)
