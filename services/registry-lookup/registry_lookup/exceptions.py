"""The registry_lookup service's error contract (see service_common.errors).

``SourceUnavailable``: a registry could not answer (down, timing out, sent
HTML or an error, rejected our credentials, or its circuit breaker is open).
``details`` carries ``country`` and ``source``.
"""
from service_common.errors import NotFound, ServiceError, ValidationError  # noqa: F401 - re-exported contract


class SourceUnavailable(ServiceError):
    code = "source_unavailable"


EXPECTED = (ServiceError,)
