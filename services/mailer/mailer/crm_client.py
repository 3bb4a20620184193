"""Questions to the crm on a user's behalf: ``service_common.rpc_client.ServiceClient``
with the caller's token (the gateway mints mailer tokens that the crm also accepts),
a timeout, and pages. Remote errors come back as ``service_common.errors`` types;
a crm that is down or too slow is ``CrmUnavailable`` (a typed error for our callers).
"""
from __future__ import annotations

from collections.abc import Iterator

from service_common import errors
from service_common.rpc_client import CallTimeout, ServiceClient, ServiceDown


class CrmUnavailable(errors.ServiceError):
    code = "unavailable"


class Crm:
    """``with Crm(amqp_uri, caller) as crm: crm.me(); crm.recipients(...)``"""

    def __init__(self, amqp_uri: str, caller, timeout: float = 10.0):
        self._client = ServiceClient(amqp_uri, token=caller.token, timeout=timeout)

    def __enter__(self):
        self._client.__enter__()
        return self

    def __exit__(self, *exc):
        self._client.__exit__(*exc)

    def _call(self, method, *args, **kwargs):
        try:
            return self._client.call("crm", method, *args, **kwargs)
        except CallTimeout:
            raise CrmUnavailable("The crm did not answer in time; try again in a moment.") from None
        except ServiceDown:
            raise CrmUnavailable("The crm service is not running; try again in a moment.") from None

    def me(self, user_id: int | None) -> dict:
        for user in self._call("list_users"):
            if user["id"] == user_id:
                return user
        raise errors.Unauthenticated("Your user is unknown to the crm")

    def recipients(self, selection: dict, kinds: list[str], page: int = 1000) -> Iterator[dict]:
        """Every recipient row of the selection, in company id order, ``page`` companies a call
        (the crm's maximum). A selection of ids is asked for one slice of the ids at a time
        (each call carries and checks ``page`` ids, not all of them); a filter is paged by
        keyset on the company id."""
        if selection.get("ids") is not None:
            ids = sorted(set(selection["ids"]))
            for i in range(0, len(ids), page):
                yield from self._pages({**selection, "ids": ids[i:i + page]}, kinds, page)
            return
        yield from self._pages(selection, kinds, page)

    def _pages(self, selection: dict, kinds: list[str], page: int) -> Iterator[dict]:
        after = 0
        while True:
            reply = self._call("list_recipients", selection, kinds, after, page)
            yield from reply["items"]
            if reply.get("next_after_id") is None:
                return
            after = reply["next_after_id"]
