"""RPC reply publishing tuned for request/response latency.

nameko 2.x publishes every RPC reply persistent and with publisher
confirms: a broker round trip per call for a message that goes to the
caller's exclusive, non-durable reply queue and is worthless once the
caller's timeout has passed (the caller waits for it and times out if it
is lost). Replies here are transient and unconfirmed; requests and events
keep nameko's defaults.
"""
from __future__ import annotations

from kombu.entity import TRANSIENT_DELIVERY_MODE
from nameko import rpc
from nameko.amqp.publish import Publisher


class ReplyPublisher(Publisher):
    use_confirms = False
    delivery_mode = TRANSIENT_DELIVERY_MODE


def tune_rpc_replies() -> None:
    rpc.Responder.publisher_cls = ReplyPublisher
