"""The SMTP client (smtplib) and its nameko dependency provider.

``SmtpClient.session()`` opens one connection (STARTTLS / implicit TLS / plain,
AUTH when a user is configured) and sends many messages over it; callers keep
it for a batch. Each send returns a ``Delivery`` or raises ``Permanent`` (the
server refused: 5xx) or ``Transient`` (4xx, dropped connection, timeout).
"""
from __future__ import annotations

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from nameko.extensions import DependencyProvider


class SmtpFailure(Exception):
    def __init__(self, code: int | None, reason: str):
        super().__init__(code, reason)
        self.code = code
        self.reason = reason[:500]


class Permanent(SmtpFailure):
    """The server refused this recipient or message (5xx): do not retry."""


class Transient(SmtpFailure):
    """Try again (4xx, connection lost, timeout)."""


@dataclass
class Delivery:
    code: int
    response: str


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 8825
    security: str = "none"  # none | starttls | tls
    user: str | None = None
    password: str | None = None
    timeout: float = 20.0

    @classmethod
    def from_mapping(cls, cfg: dict) -> "SmtpConfig":
        security = str(cfg.get("MAILER_SMTP_SECURITY") or "none").lower()
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"MAILER_SMTP_SECURITY must be none, starttls or tls, not {security!r}")
        return cls(host=str(cfg.get("MAILER_SMTP_HOST") or "127.0.0.1"), port=int(cfg.get("MAILER_SMTP_PORT") or 8825),
                   security=security, user=cfg.get("MAILER_SMTP_USER") or None,
                   password=cfg.get("MAILER_SMTP_PASSWORD") or None,
                   timeout=float(cfg.get("MAILER_SMTP_TIMEOUT") or 20.0))


def _text(resp) -> str:
    return resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _pipelined(conn: smtplib.SMTP, envelope_from: str, rcpt: str, msg: bytes) -> dict:
    """One transaction in two round trips (RFC 2920 PIPELINING): MAIL, RCPT and DATA in
    one write, their three replies, then the content. ``msg``: ASCII, CRLF line ends.
    Raises what ``SMTP.sendmail`` raises."""
    size = f" SIZE={len(msg)}" if conn.has_extn("size") else ""
    conn.send(f"MAIL FROM:<{envelope_from}>{size}\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n")
    mail, to, data = conn.getreply(), conn.getreply(), conn.getreply()
    ok = mail[0] == 250 and to[0] in (250, 251)
    if data[0] == 354:
        if not ok:  # a server that opens DATA anyway: send an empty message's end, then refuse below
            conn.send(b".\r\n")
            conn.getreply()
        else:
            if not msg.endswith(b"\r\n"):
                msg += b"\r\n"
            conn.send(_LEADING_DOT.sub(b"..", msg) + b".\r\n")
            code, resp = conn.getreply()
            if code != 250:
                raise smtplib.SMTPDataError(code, resp)
            return {}
    if mail[0] != 250:
        raise smtplib.SMTPSenderRefused(mail[0], mail[1], envelope_from)
    if to[0] not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({rcpt: to})
    raise smtplib.SMTPDataError(*data)


class SmtpSession:
    """One open connection; reconnects lazily after a failure."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self.conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c.security == "tls":
                conn = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
            conn.ehlo_or_helo_if_needed()
            if c.user:
                conn.login(c.user, c.password or "")
            return conn
        except smtplib.SMTPAuthenticationError as exc:
            raise Permanent(exc.smtp_code, f"SMTP login refused: {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Transient(None, f"cannot connect to {c.host}:{c.port}: {exc}") from None

    def send(self, msg: EmailMessage | bytes, envelope_from: str, rcpt: str) -> Delivery:
        """One SMTP transaction (MAIL, RCPT, DATA) on the open connection. ``msg`` is an
        ``EmailMessage`` or the finished message as bytes with CRLF line ends
        (``render.Prototype``), sent as it is."""
        if self.conn is None:
            self.conn = self._connect()
        try:
            if isinstance(msg, bytes) and self.conn.has_extn("pipelining"):
                refused = _pipelined(self.conn, envelope_from, rcpt, msg)
            elif isinstance(msg, bytes):
                refused = self.conn.sendmail(envelope_from, [rcpt], msg)
            else:
                refused = self.conn.send_message(msg, from_addr=envelope_from, to_addrs=[rcpt])
        except smtplib.SMTPRecipientsRefused as exc:
            code, resp = next(iter(exc.recipients.values()))
            self._reset()
            raise (Permanent if code >= 500 else Transient)(code, _text(resp)) from None
        except smtplib.SMTPResponseException as exc:
            code = exc.smtp_code
            if code in (421,) or code < 400:
                self.close()
            else:
                self._reset()
            raise (Permanent if code >= 500 else Transient)(code, _text(exc.smtp_error)) from None
        except (smtplib.SMTPServerDisconnected, OSError, socket.timeout) as exc:
            self.close()
            raise Transient(None, f"connection lost: {exc or type(exc).__name__}") from None
        except smtplib.SMTPException as exc:
            self.close()
            raise Transient(None, str(exc)) from None
        if refused:  # pragma: no cover - one recipient: refused raises above
            code, resp = next(iter(refused.values()))
            raise Permanent(code, _text(resp))
        return Delivery(250, "accepted")

    def _reset(self) -> None:
        try:
            if self.conn is not None:
                self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                try:
                    conn.close()
                except OSError:  # pragma: no cover
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SmtpClient:
    def __init__(self, config: SmtpConfig):
        self.config = config

    def session(self) -> SmtpSession:
        return SmtpSession(self.config)


class Smtp(DependencyProvider):
    """Dependency provider: ``self.smtp.session()`` in a worker."""

    def setup(self):
        self.client = SmtpClient(SmtpConfig.from_mapping(self.container.config))

    def get_dependency(self, worker_ctx):
        return self.client
