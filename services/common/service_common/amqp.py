"""RPC reply publishing tuned for request/response latency.

nameko 2.x publishes every RPC reply persistent and with publisher
confirms: a broker round trip per call for a message that goes to the
caller's exclusive, non-durable reply queue and is worthless once the
caller's timeout has passed (the caller waits for it and times out if it
is lost). Replies here are transient and unconfirmed; requests and events
keep nameko's defaults.
"""
from __future__ import annotations

import logging

from amqp.exceptions import ConnectionError as AMQPConnectionError
from kombu.entity import TRANSIENT_DELIVERY_MODE
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko import rpc
from nameko.amqp.publish import Publisher

log = logging.getLogger(__name__)


class ReplyPublisher(Publisher):
    use_confirms = False
    delivery_mode = TRANSIENT_DELIVERY_MODE
    retry_policy = {"max_retries": 1, "interval_start": 0.2}

    def publish(self, payload, **kwargs):
        # A reply that cannot be sent (the broker is gone) is lost for a caller that will time out anyway;
        # raising here would make nameko kill the whole container (issue 12: a broker restart must not take
        # the services down with it). The work itself is done and committed; a retry with the same
        # idempotency key returns its result.
        try:
            return super().publish(payload, **kwargs)
        except (OSError, KombuOperationalError, AMQPConnectionError) as exc:
            log.warning("RPC reply not sent (broker unreachable): %s", exc)
            return None


def tune_rpc_replies() -> None:
    rpc.Responder.publisher_cls = ReplyPublisher
    tune_reconnect()
    guard_malformed_requests()


def guard_malformed_requests() -> None:
    """nameko 2.x answers a request in the encoding it came in, and dies (KeyError in
    ``send_response``) when the request names no known content type: any broker user
    allowed to publish a request could stop a service that way. Such a request, or one
    whose body is not a JSON object, is acknowledged and dropped with one log line."""
    import logging

    import kombu.serialization

    if getattr(rpc.RpcConsumer, "_guarded", False):
        return
    log = logging.getLogger("service_common.amqp")
    original = rpc.RpcConsumer.handle_message

    def handle_message(self, body, message):
        content_type = message.properties.get("content_type")
        if content_type not in kombu.serialization.registry.type_to_name or not isinstance(body, dict):
            log.warning("dropped a malformed RPC request to %s (content type %r)",
                        message.delivery_info.get("routing_key"), content_type)
            self.queue_consumer.ack_message(message)
            return
        return original(self, body, message)

    rpc.RpcConsumer.handle_message = handle_message
    rpc.RpcConsumer._guarded = True


# After the broker went away, nameko's consumer (kombu's ConsumerMixin) tries again after 2, 4, 6 ... 30 s:
# a service could stay deaf for up to 30 s after the broker is back. Here it tries every 0.1-1 s (issue 12:
# full service within 5 s of the broker's return; tests/faults).
RECONNECT = {"interval_start": 0.1, "interval_step": 0.3, "interval_max": 1.0}


def tune_reconnect() -> None:
    from contextlib import contextmanager

    from nameko.messaging import QueueConsumer

    if getattr(QueueConsumer, "_fast_reconnect", False):
        return

    @contextmanager
    def establish_connection(self):
        with self.create_connection() as conn:
            conn.ensure_connection(self.on_connection_error, self.connect_max_retries, **RECONNECT)
            yield conn

    QueueConsumer.establish_connection = establish_connection
    QueueConsumer._fast_reconnect = True
