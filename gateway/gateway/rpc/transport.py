"""A small, fast client for nameko's AMQP RPC protocol, built on pika.

Why not nameko's ClusterRpcProxy: it is single-threaded and every ``start()``
opens a connection and a reply queue. Here each thread keeps one connection,
one channel and one exclusive reply queue for its whole life (gunicorn
threads), made lazily, so after fork; rebuilt after a broker disconnect.
Every call has a timeout, and a request that times out expires in the
broker too (per-message TTL), so a slow service never works through a pile
of requests nobody waits for.

The wire format is nameko 2.x's: publish ``{"args", "kwargs"}`` JSON to the
``nameko-rpc`` topic exchange with routing key ``<service>.<method>``,
``reply_to`` a routing key bound to our reply queue on the same exchange,
``correlation_id``; context travels in ``nameko.*`` headers. The reply is
``{"result": ..., "error": {"exc_type", "exc_path", "exc_args", "value"} | null}``.
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pika
from pika.exceptions import AMQPError

EXCHANGE = "nameko-rpc"
_UNROUTABLE = object()


class TransportError(Exception):
    """The broker could not be reached, or the connection broke."""


class NoSuchService(TransportError):
    """Nobody has ever declared the service's queue (the message was returned)."""


class NotAnswering(NoSuchService):
    """The service's queue exists but no instance consumes it (it died or was stopped)."""


# A call not answered after this long checks whether anyone consumes the queue (cheap, and only then)
PROBE_AFTER = 0.5


class CallTimeout(Exception):
    pass


class RemoteFailure(Exception):
    """The service answered with an error. ``error`` is nameko's dict."""

    def __init__(self, error: dict):
        super().__init__(error.get("value") or error.get("exc_type"))
        self.error = error


class _Channel:
    """One connection + channel + reply queue, used by one thread only."""

    def __init__(self, params: pika.URLParameters):
        self.connection = pika.BlockingConnection(params)
        self.channel = self.connection.channel()
        self.channel.exchange_declare(EXCHANGE, "topic", durable=True)
        self.reply_key = str(uuid.uuid4())
        queue = self.channel.queue_declare(f"rpc.reply-gateway-{self.reply_key}", exclusive=True, auto_delete=True)
        self.channel.queue_bind(queue.method.queue, EXCHANGE, routing_key=self.reply_key)
        self.replies: dict[str, object] = {}
        self.waiting: set[str] = set()
        self.channel.basic_consume(queue.method.queue, self._on_reply, auto_ack=True)
        self.channel.add_on_return_callback(self._on_return)

    def _on_reply(self, _ch, _method, props, body):
        if props.correlation_id in self.waiting:
            self.replies[props.correlation_id] = body

    def _on_return(self, _ch, _method, props, _body):
        if props.correlation_id in self.waiting:
            self.replies[props.correlation_id] = _UNROUTABLE

    @property
    def is_open(self) -> bool:
        return self.connection.is_open and self.channel.is_open

    def publish(self, routing_key: str, body: bytes, cid: str, headers: dict, timeout: float) -> None:
        self.waiting.add(cid)
        self.channel.basic_publish(
            EXCHANGE,
            routing_key,
            body,
            pika.BasicProperties(
                reply_to=self.reply_key,
                correlation_id=cid,
                content_type="application/json",
                delivery_mode=1,
                expiration=str(max(1, int(timeout * 1000))),
                headers=headers,
            ),
            mandatory=True,
        )

    def wait(self, cid: str, timeout: float):
        deadline = time.monotonic() + timeout
        try:
            while cid not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CallTimeout()
                self.connection.process_data_events(time_limit=left)
            return self.replies.pop(cid)
        finally:
            self.waiting.discard(cid)
            self.replies.pop(cid, None)

    def close(self) -> None:
        try:
            if self.connection.is_open:
                self.connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


class RpcTransport:
    """Thread-safe by construction: one ``_Channel`` per thread, per process."""

    def __init__(self, amqp_uri: str, connect_timeout: float = 2.0):
        params = pika.URLParameters(amqp_uri)
        params.socket_timeout = connect_timeout
        params.blocked_connection_timeout = connect_timeout
        params.stack_timeout = connect_timeout
        params.connection_attempts = 1
        params.heartbeat = 0  # idle threads cannot answer heartbeats; broken sockets surface on use
        self.params = params
        self._local = threading.local()
        self._pid = os.getpid()
        self._pool: ThreadPoolExecutor | None = None

    def fanout(self, fn, items, workers: int = 5):
        """Run ``fn`` over ``items`` on a long-lived pool (its threads keep their connections)."""
        if self._pool is None or os.getpid() != self._pid:
            self._channel_reset_after_fork()
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="rpc-fanout")
        return list(self._pool.map(fn, items))

    def _channel_reset_after_fork(self) -> None:
        if os.getpid() != self._pid:
            self._local = threading.local()
            self._pool = None
            self._pid = os.getpid()

    def _channel(self) -> _Channel:
        self._channel_reset_after_fork()  # forked: never share a socket with the parent
        ch = getattr(self._local, "channel", None)
        if ch is None or not ch.is_open:
            if ch is not None:
                ch.close()
            try:
                ch = _Channel(self.params)
            except (AMQPError, OSError) as exc:
                raise TransportError(f"cannot reach RabbitMQ: {exc!r}") from exc
            self._local.channel = ch
        return ch

    def _drop(self) -> None:
        ch = getattr(self._local, "channel", None)
        if ch is not None:
            ch.close()
        self._local.channel = None

    def call(self, service: str, method: str, args=(), kwargs=None, context: dict | None = None, timeout: float = 2.0):
        cid = str(uuid.uuid4())
        body = json.dumps({"args": list(args), "kwargs": kwargs or {}}).encode()
        headers = {f"nameko.{k}": v for k, v in (context or {}).items() if v is not None}
        headers["nameko.call_id_stack"] = [f"gateway.{service}.{method}.{cid}"]
        for attempt in (1, 2):
            ch = self._channel()
            try:
                ch.publish(f"{service}.{method}", body, cid, headers, timeout)
                break
            except (AMQPError, OSError) as exc:  # publish failed: nothing reached a service, safe to retry
                self._drop()
                if attempt == 2:
                    raise TransportError(f"cannot publish to RabbitMQ: {exc!r}") from exc
        try:
            if timeout > PROBE_AFTER:
                try:
                    reply = ch.wait(cid, PROBE_AFTER)
                except CallTimeout:
                    # slow so far: if no instance consumes the queue (the service died), say so now
                    if self.consumer_count(service) == 0:
                        raise NotAnswering(f"no {service} instance is running") from None
                    ch.waiting.add(cid)
                    reply = ch.wait(cid, timeout - PROBE_AFTER)
            else:
                reply = ch.wait(cid, timeout)
        except (AMQPError, OSError) as exc:
            self._drop()
            raise TransportError(f"connection lost while waiting for {service}.{method}: {exc!r}") from exc
        if reply is _UNROUTABLE:
            raise NoSuchService(f"no {service} service has ever started on this broker")
        payload = json.loads(reply)
        if payload.get("error"):
            raise RemoteFailure(payload["error"])
        return payload.get("result")

    def consumer_count(self, service: str) -> int | None:
        """How many instances consume ``service``'s RPC queue (0: it is down), None if unknown.

        Asked only after a call timed out, to tell "not answering" from "too slow"; on a
        channel of its own, since a passive declare of a missing queue closes the channel."""
        try:
            ch = self._channel()
            probe = ch.connection.channel()
            try:
                return probe.queue_declare(f"rpc-{service}", passive=True).method.consumer_count
            finally:
                if probe.is_open:
                    probe.close()
        except Exception:  # noqa: BLE001 - missing queue or broken connection: unknown
            return None

    def close(self) -> None:
        self._drop()
