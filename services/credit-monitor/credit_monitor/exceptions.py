"""The credit_monitor error contract: service_common's typed errors plus
``Unavailable`` (Creditsafe could not be reached for an action that needs it)."""
from service_common.errors import EXPECTED as COMMON, Forbidden, NotFound, ServiceError, Unauthenticated, ValidationError


class Unavailable(ServiceError):
    code = "unavailable"


EXPECTED = COMMON
__all__ = ["EXPECTED", "Forbidden", "NotFound", "Unauthenticated", "Unavailable", "ValidationError"]
