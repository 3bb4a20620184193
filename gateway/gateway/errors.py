"""Remote errors mapped to local classes, and each class to an HTTP status
and a user-facing message. The one table: ``STATUS``."""
from __future__ import annotations

import re

from flask_babel import gettext as _, lazy_gettext as _l


class GatewayError(Exception):
    status = 502
    title = _l("Something went wrong")

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationFailed(GatewayError):
    status = 422
    title = _l("Please check the form")

    @property
    def field_errors(self) -> dict[str, str]:
        errors = self.details.get("errors") or []
        out: dict[str, str] = {}
        for err in errors:
            out.setdefault(err.get("field") or "__root__", say(err.get("message") or "is invalid"))
        if not out and self.details.get("field"):
            out[self.details["field"]] = say(self.message)
        return out


class NotFound(GatewayError):
    status = 404
    title = _l("Not found")


class Conflict(GatewayError):
    status = 409
    title = _l("Conflict")


class Unauthenticated(GatewayError):
    status = 401
    title = _l("Please log in")


class Forbidden(GatewayError):
    status = 403
    title = _l("Not allowed")


class RateLimited(GatewayError):
    status = 429
    title = _l("Too many attempts")


class ServiceUnavailable(GatewayError):
    """The service is not answering: no instance consumes its queue, or the broker refuses us."""

    status = 503
    title = _l("Service not answering")


class ServiceTimeout(ServiceUnavailable):
    """The service is running but did not answer in time."""

    status = 504
    title = _l("Service too slow")


# Said after a timed-out (or cut-off) write: the gateway sends an idempotency key with every write,
# so sending the same form again returns the first result instead of saving twice.
MAYBE_SAVED = _l("It may have been saved; retrying is safe.")
TRY_AGAIN = _l("Try again in a moment.")


def not_answering(service: str, write: bool = False) -> ServiceUnavailable:
    message = _("The %(service)s service is not answering (it is not running).", service=service)
    message += f" {TRY_AGAIN}" + (f" {MAYBE_SAVED}" if write else "")
    return ServiceUnavailable(message, {"service": service, "reason": "down"})


def too_slow(service: str, timeout: float, write: bool = False) -> ServiceTimeout:
    seconds = "%g" % timeout
    message = _("The %(service)s service is too slow: no answer within %(seconds)s s.", service=service,
                seconds=seconds)
    message += f" {MAYBE_SAVED}" if write else f" {TRY_AGAIN}"
    return ServiceTimeout(message, {"service": service, "reason": "timeout"})


def broker_unreachable(write: bool = False) -> ServiceUnavailable:
    message = _("The message broker cannot be reached. Try again in a moment.")
    return ServiceUnavailable(message + (f" {MAYBE_SAVED}" if write else ""), {"reason": "broker"})


# issue 14: what the services say (in English, their contract), in the user's language. Matched by the
# service's exact text, or by a pattern for the ones that carry a number; anything else passes unchanged.
SERVICE_MESSAGES = {
    "Wrong e-mail or password": _l("Wrong e-mail or password"),
    "Your session has ended. Log in again.": _l("Your session has ended. Log in again."),
    "That is not your current password.": _l("That is not your current password."),
    "That code is not right. Enter the 6 digits your app shows now.":
        _l("That code is not right. Enter the 6 digits your app shows now."),
    "Start the set-up again: scan the new QR code.": _l("Start the set-up again: scan the new QR code."),
    "Turn on two-factor sign-in first.": _l("Turn on two-factor sign-in first."),
    "Your organisation requires two-factor sign-in for everyone.":
        _l("Your organisation requires two-factor sign-in for everyone."),
    "Only an administrator can do this.": _l("Only an administrator can do this."),
    "Field required": _l("This field is required."),
    "is invalid": _l("is invalid"),
    "Company not found": _l("Company not found"),
    "Use more different characters.": _l("Use more different characters."),
    "This password is easy to guess.": _l("This password is easy to guess."),
    # service_common.images (logo uploads, checked in the gateway and again in the crm)
    "The file is damaged or not really a PNG, JPEG or WebP image.":
        _l("The file is damaged or not really a PNG, JPEG or WebP image."),
    "Choose an image file to upload.": _l("Choose an image file to upload."),
}
_PATTERNS = [
    (re.compile(r"^Wrong code\. Check the time on your phone and try again \((\d+) tries left\)\.$"),
     lambda m: _("Wrong code. Check the time on your phone and try again (%(n)s tries left).", n=m.group(1))),
    (re.compile(r"^Use at least (\d+) characters \(this one has (\d+)\)\.$"),
     lambda m: _("Use at least %(min)s characters (this one has %(n)s).", min=m.group(1), n=m.group(2))),
    (re.compile(r"^The image is larger than (\d+) × (\d+) pixels\. Scale it down and upload it again\.$"),
     lambda m: _("The image is larger than %(w)s × %(h)s pixels. Scale it down and upload it again.", w=m.group(1),
                 h=m.group(2))),
    (re.compile(r"^String should have at most (\d+) characters?$"),
     lambda m: _("At most %(n)s characters.", n=m.group(1))),
]


def say(message) -> str:
    """A service's message in the request's language where we know it, else as it came."""
    if not isinstance(message, str):
        return str(message)
    known = SERVICE_MESSAGES.get(message)
    if known is not None:
        return str(known)
    for pattern, render in _PATTERNS:
        m = pattern.match(message)
        if m:
            return render(m)
    return message


class RemoteError(GatewayError):
    """A service failed unexpectedly (a bug or an outage of its database)."""

    status = 502
    title = _l("The service failed")


# exc_type sent by a service -> local class
REMOTE = {
    "ValidationError": ValidationFailed,
    "NotFound": NotFound,
    "Conflict": Conflict,
    "Unauthenticated": Unauthenticated,
    "Forbidden": Forbidden,
    "RateLimited": RateLimited,
    "SourceUnavailable": ServiceUnavailable,
    "CrmUnavailable": ServiceUnavailable,  # the mailer could not ask the crm (issue 9)
}


def from_remote(error: dict) -> GatewayError:
    cls = REMOTE.get(error.get("exc_type"), RemoteError)
    args = error.get("exc_args") or []
    message = args[0] if args and isinstance(args[0], str) else (error.get("value") or error.get("exc_type") or "error")
    details = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
    if cls is RemoteError:
        # never show a stack trace or internals to the user
        return RemoteError(_("The service failed to answer. Try again; if it persists, tell your administrator."),
                           {"exc_type": error.get("exc_type")})
    return cls(message, details)
