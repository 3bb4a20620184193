"""Who may do what on the broker: one RabbitMQ user per service and one for the gateway.

The one table (``PRINCIPALS``) that deploy/rabbitmq/definitions.py turns into a RabbitMQ
definitions file and that tests/deploy checks, against the code and against a real broker.
Standard library only: compose runs definitions.py in a bare python image.

RabbitMQ grants, per user and vhost, three regular expressions over resource names
(https://www.rabbitmq.com/docs/access-control):

* configure: declare and delete queues and exchanges;
* write: publish to an exchange; bind a queue (the queue's side of queue.bind);
* read: consume from or purge a queue; bind from an exchange (its side of queue.bind);

and, per topic exchange, two more over routing keys (topic permissions): write for the keys
it may publish with, read for the binding keys it may bind with.

nameko 2.x names (nameko/rpc.py, nameko/events.py, nameko/standalone/rpc.py):

* ``nameko-rpc``: the one RPC topic exchange. Requests go out with routing key
  ``<service>.<method>``; replies come back on it with the caller's reply routing key, a uuid4.
* ``rpc-<service>``: a service's RPC queue, bound with ``<service>.*``, shared by its instances.
* ``rpc.reply-<service>-<uuid>``: a nameko service's reply queue (its RpcProxy, if it has one),
  ``rpc.reply-standalone_rpc_proxy-<uuid>``: a standalone ClusterRpcProxy's (the service-to-service
  ServiceClient and the probe ``python -m service_common.probe``), ``rpc.reply-gateway-<uuid>``:
  the gateway's pika transport (gateway/gateway/rpc/transport.py). Each bound with its uuid.
* ``<service>.events``: the topic exchange a service's EventDispatcher publishes to (routing key
  = the event type); it is declared by the dispatcher and by every handler of its events.
* ``evt-<source>-<event>--<service>.<method>``: a SERVICE_POOL event handler's queue (one
  dash after the source, two before the handling service), bound to ``<source>.events``.

What follows:

* Only ``S`` may consume ``rpc-S`` and bind it, and only with ``S.*``: nobody else gets the
  calls meant for S, and S cannot take another service's calls.
* Only ``S`` may publish to ``S.events``. A service that handles S's events may declare and bind
  from ``S.events``; nobody else may.
* Everyone may publish requests to ``nameko-rpc`` for the services it calls (every call carries
  a signed caller token, checked by the service), and reply queues bind only with a uuid: a user
  cannot bind ``crm.*`` or ``#`` to its reply queue to read other callers' requests and tokens.
  Only services (which answer calls) may publish with a uuid routing key, i.e. send replies.
* The gateway answers nothing: it may publish requests and read its own reply queues, no more.
* ``partner`` is for other teams' programs calling the RPC API with an API client's token
  (README.md, "Calling the RPC API"): it may call the crm and read a standalone proxy's reply
  queues, no more. It exists only when its password is set; give each partner team a row of its own.
* The ``admin`` user (management UI, operators) has the administrator tag and no permissions in
  the vhost: it sees everything and can grant itself rights, but no process uses it.

Left open, because nameko needs it: every user declares ``nameko-rpc`` (so it could delete it,
which stops the suite until a service re-declares it on reconnect, but reads nothing), and a
handler declares its source's events exchange. Reply queues are not exclusive in nameko; their
names hold a random uuid4 that only the broker and the caller see.
"""
from __future__ import annotations

from dataclasses import dataclass

VHOST = "crm-suite"
RPC_EXCHANGE = "nameko-rpc"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
IDENT = "[A-Za-z0-9_]+"  # a method or event name
STANDALONE = "standalone_rpc_proxy"  # nameko's standalone ClusterRpcProxy's service name
SERVICES = ("crm", "registry_lookup", "credit_monitor", "mailer", "export")
GATEWAY = "gateway"
PARTNER = "partner"
ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """One broker user: a nameko service (``serves``) or the gateway."""

    user: str
    serves: bool  # answers RPC calls on rpc-<user>
    calls: tuple[str, ...] = ()  # services it calls on a user's behalf (a service may always call itself: the probe)
    listens_to: tuple[str, ...] = ()  # event sources it handles (its own, for work queues)
    dispatches: bool = False  # publishes events to <user>.events
    reply_owner: str | None = None  # whose name its reply queues carry, if not its own (standalone proxies)
    optional: bool = False  # defined only when its password is set
    also_runs: tuple[str, ...] = ()  # other nameko services its process runs (their event-handler queues)

    @property
    def replies_as(self) -> str:
        return self.reply_owner or self.user

    @property
    def password_variable(self) -> str:
        return f"RABBITMQ_{self.user.upper()}_PASSWORD"

    # -- resource names ------------------------------------------------------------------
    def queues(self) -> list[str]:
        if not self.serves:
            return [rf"rpc\.reply-{self.replies_as}-{UUID}"]
        out = [f"rpc-{self.user}", rf"rpc\.reply-{self.user}-{UUID}", rf"rpc\.reply-{STANDALONE}-{UUID}"]
        if self.listens_to:
            out.append(rf"evt-{_alt(self.listens_to)}-{IDENT}--{_alt((self.user, *self.also_runs))}\.{IDENT}")
        return out

    def configure(self) -> str:
        names = [RPC_EXCHANGE, *self.queues()]
        events = sorted({*self.listens_to, *([self.user] if self.dispatches else [])})
        if events:
            names.append(rf"{_alt(events)}\.events")
        return _regex(names)

    def write(self) -> str:
        names = [RPC_EXCHANGE, *self.queues()]
        if self.dispatches:
            names.append(rf"{self.user}\.events")
        return _regex(names)

    def read(self) -> str:
        names = [RPC_EXCHANGE, *self.queues()]
        if self.listens_to:
            names.append(rf"{_alt(self.listens_to)}\.events")
        return _regex(names)

    # -- routing keys on nameko-rpc (topic permissions) -------------------------------------
    def topic_write(self) -> str:
        """Keys it may publish with: requests to the services it calls; replies if it serves."""
        targets = sorted({*self.calls, *([self.user] if self.serves else [])})
        keys = [rf"{_alt(targets)}\.{IDENT}"]
        if self.serves:
            keys.append(UUID)
        return _regex(keys)

    def topic_read(self) -> str:
        """Binding keys it may bind with: its reply uuids; ``<user>.*`` for its RPC queue."""
        keys = [UUID]
        if self.serves:
            keys.append(rf"{self.user}\.\*")
        return _regex(keys)


def _alt(names) -> str:
    names = sorted(names)
    for n in names:
        assert n.replace("_", "").isalnum(), n
    return names[0] if len(names) == 1 else "(" + "|".join(names) + ")"


def _regex(alternatives: list[str]) -> str:
    return "^(" + "|".join(alternatives) + ")$"


PRINCIPALS: tuple[Principal, ...] = (
    # bulk edits travel on its own events (crm.bulk_requested); campaign results come from the
    # mailer, rating changes from the credit monitor; the crm's bulk worker (crm/bulk_worker.py, the
    # nameko service "crm_bulk", Procfile line crm_bulk) runs as this user and takes crm.bulk_requested
    Principal("crm", serves=True, listens_to=("crm", "credit_monitor", "mailer"), dispatches=True,
              also_runs=("crm_bulk",)),
    Principal("registry_lookup", serves=True),
    # polls Creditsafe with its own service identity, may ask the crm; reacts to companies getting an org number
    Principal("credit_monitor", serves=True, calls=("crm",), listens_to=("crm",), dispatches=True),
    # reads recipients from the crm on the user's behalf; sends batches through its own events
    # the mailer process also runs its send loop as the nameko service "mailer_sender" (mailer/service.py)
    Principal("mailer", serves=True, calls=("crm",), listens_to=("mailer",), dispatches=True,
              also_runs=("mailer_sender",)),
    # reads companies from the crm on the user's behalf; export jobs through its own events
    Principal("export", serves=True, calls=("crm",), listens_to=("export",), dispatches=True),
    Principal(GATEWAY, serves=False, calls=SERVICES),
    # other teams' programs (nameko's standalone ClusterRpcProxy) with API client tokens
    Principal(PARTNER, serves=False, calls=("crm",), reply_owner=STANDALONE, optional=True),
)

BY_USER = {p.user: p for p in PRINCIPALS}
ADMIN_PASSWORD_VARIABLE = "RABBITMQ_ADMIN_PASSWORD"
assert sorted(p.user for p in PRINCIPALS if p.serves) == sorted(SERVICES)
