"""Service-to-service RPC with a timeout (nameko 2.x's ``RpcProxy`` has none).

Used where a service asks another a question on a user's behalf (the export
reading companies from the crm, the mailer reading recipients): the caller's
token is passed on, so the other service checks the same tenant and rights::

    with ServiceClient(amqp_uri, token=caller.token, timeout=5.0) as client:
        page = client.call("crm", "export_rows", selection, columns, after_id=0, limit=2000)

One client = one connection and one reply queue (nameko's standalone proxy):
open it once per job or per batch of calls, not per call. Remote typed errors
come back as the classes of :mod:`service_common.errors` (message kept);
a call that takes longer than ``timeout`` raises :class:`CallTimeout`.
"""
from __future__ import annotations

from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from . import errors


class CallTimeout(Exception):
    """The other service did not answer in time (the call may still run there)."""


class ServiceDown(Exception):
    """No instance of the other service is consuming its queue."""


_BY_NAME = {cls.__name__: cls for cls in (errors.ValidationError, errors.NotFound, errors.Conflict,
                                          errors.Unauthenticated, errors.Forbidden, errors.RateLimited)}


def _typed(exc: RemoteError) -> Exception:
    cls = _BY_NAME.get(exc.exc_type)
    message = exc.value or exc.exc_type or "remote error"
    if cls is errors.ValidationError:
        field = message.split(":", 1)[0] if ":" in message else None
        return errors.ValidationError(message, field=field)
    return cls(message) if cls else exc


class ServiceClient:
    def __init__(self, amqp_uri: str, token: str | None, timeout: float = 5.0):
        if not token:
            raise errors.Unauthenticated("A service-to-service call needs the caller's token")
        self._config = {"AMQP_URI": amqp_uri}
        self._token = token
        self.timeout = timeout
        self._proxy = None
        self._rpc = None

    def __enter__(self) -> "ServiceClient":
        self._proxy = ClusterRpcProxy(self._config, context_data={"auth": self._token}, timeout=self.timeout)
        self._rpc = self._proxy.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._proxy is not None:
            self._proxy.stop()
        self._proxy = self._rpc = None

    def call(self, service: str, method: str, *args, **kwargs):
        if self._rpc is None:
            raise RuntimeError("use ServiceClient as a context manager")
        try:
            return getattr(getattr(self._rpc, service), method)(*args, **kwargs)
        except RpcTimeout:
            raise CallTimeout(f"{service}.{method} did not answer within {self.timeout:g} s") from None
        except UnknownService:
            raise ServiceDown(f"no {service} service is running") from None
        except RemoteError as exc:
            raise _typed(exc) from None
