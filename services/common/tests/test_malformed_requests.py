"""A request without a content type, or with a body that is not a JSON object,
never stops a service (nameko 2.x would die in send_response). Real RabbitMQ."""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()  # noqa: E402

import uuid

import pika
from nameko.containers import ServiceContainer
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

from service_common.amqp import tune_rpc_replies
from service_common.testing import amqp_uri


class EchoService:
    name = f"echo_{uuid.uuid4().hex[:8]}"

    @rpc
    def echo(self, value):
        return value


def test_malformed_requests_are_dropped_and_the_service_keeps_answering():
    tune_rpc_replies()
    container = ServiceContainer(EchoService, {"AMQP_URI": amqp_uri()})
    container.start()
    try:
        conn = pika.BlockingConnection(pika.URLParameters(amqp_uri()))
        ch = conn.channel()
        key = f"{EchoService.name}.echo"
        ch.basic_publish("nameko-rpc", key, b"\\x00not json", pika.BasicProperties(reply_to="nowhere"))
        ch.basic_publish("nameko-rpc", key, b"[1, 2]",
                         pika.BasicProperties(reply_to="nowhere", content_type="application/json"))
        conn.close()
        with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=10) as proxy:
            assert getattr(proxy, EchoService.name).echo("still here") == "still here"
        assert container._died.ready() is False
    finally:
        container.stop()
