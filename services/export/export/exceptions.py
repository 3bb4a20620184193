"""The export service's error contract: the shared typed errors."""
from service_common.errors import EXPECTED, Conflict, Forbidden, NotFound, ServiceError, Unauthenticated, ValidationError

__all__ = ["EXPECTED", "Conflict", "Forbidden", "NotFound", "ServiceError", "Unauthenticated", "ValidationError"]
