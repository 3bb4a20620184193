"""The crm service's error contract (see service_common.errors)."""
from service_common.errors import (  # noqa: F401 - re-exported contract
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ServiceError,
    Unauthenticated,
    ValidationError,
)

EXPECTED = (ServiceError,)
