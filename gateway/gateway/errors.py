"""Remote errors mapped to local classes, and each class to an HTTP status
and a user-facing message. The one table: ``STATUS``."""
from __future__ import annotations


class GatewayError(Exception):
    status = 502
    title = "Something went wrong"

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationFailed(GatewayError):
    status = 422
    title = "Please check the form"

    @property
    def field_errors(self) -> dict[str, str]:
        errors = self.details.get("errors") or []
        out: dict[str, str] = {}
        for err in errors:
            out.setdefault(err.get("field") or "__root__", err.get("message") or "is invalid")
        if not out and self.details.get("field"):
            out[self.details["field"]] = self.message
        return out


class NotFound(GatewayError):
    status = 404
    title = "Not found"


class Conflict(GatewayError):
    status = 409
    title = "Conflict"


class Unauthenticated(GatewayError):
    status = 401
    title = "Please log in"


class Forbidden(GatewayError):
    status = 403
    title = "Not allowed"


class RateLimited(GatewayError):
    status = 429
    title = "Too many attempts"


class ServiceUnavailable(GatewayError):
    """The service is not answering: no instance consumes its queue, or the broker refuses us."""

    status = 503
    title = "Service not answering"


class ServiceTimeout(ServiceUnavailable):
    """The service is running but did not answer in time."""

    status = 504
    title = "Service too slow"


# Said after a timed-out (or cut-off) write: the gateway sends an idempotency key with every write,
# so sending the same form again returns the first result instead of saving twice.
MAYBE_SAVED = "It may have been saved; retrying is safe."


def not_answering(service: str, write: bool = False) -> ServiceUnavailable:
    message = f"The {service} service is not answering (it is not running). Try again in a moment."
    return ServiceUnavailable(message + (f" {MAYBE_SAVED}" if write else ""), {"service": service, "reason": "down"})


def too_slow(service: str, timeout: float, write: bool = False) -> ServiceTimeout:
    message = f"The {service} service is too slow: no answer within {timeout:g} s."
    message += f" {MAYBE_SAVED}" if write else " Try again in a moment."
    return ServiceTimeout(message, {"service": service, "reason": "timeout"})


def broker_unreachable(write: bool = False) -> ServiceUnavailable:
    message = "The message broker cannot be reached. Try again in a moment."
    return ServiceUnavailable(message + (f" {MAYBE_SAVED}" if write else ""), {"reason": "broker"})


class RemoteError(GatewayError):
    """A service failed unexpectedly (a bug or an outage of its database)."""

    status = 502
    title = "The service failed"


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
        return RemoteError("The service failed to answer. Try again; if it persists, tell your administrator.",
                           {"exc_type": error.get("exc_type")})
    return cls(message, details)
