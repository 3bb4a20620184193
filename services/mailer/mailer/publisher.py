"""Publishing the outbox: many events in one AMQP transaction.

nameko's ``EventDispatcher`` publishes one message and waits for its confirm: a round
trip per event, ~10,000 of them for a campaign. The relay instead publishes a claimed
group of outbox rows (up to 500) on one channel in an AMQP transaction: ``tx.commit-ok``
comes back once the broker has taken every message of the group (persistent messages on
durable queues are written), so a row is marked published only after the broker has it.
Same exchange, routing key (the event type), serializer and delivery mode as
``EventDispatcher``, so nameko ``@event_handler`` consumers (the crm, ``mailer_sender``)
see no difference.
"""
from __future__ import annotations

from kombu import Connection, Producer
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange


class OutboxPublisher:
    def __init__(self, amqp_uri: str, exchange, connect_timeout: float = 5.0):
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.connect_timeout = connect_timeout

    def __call__(self, events: list[tuple[str, dict]]) -> None:
        """Publish ``(event_type, payload)`` pairs; returns once the broker has them all
        (raises otherwise: nothing may be taken as published)."""
        if not events:
            return
        with Connection(self.amqp_uri, connect_timeout=self.connect_timeout) as conn:
            conn.ensure_connection(max_retries=1)
            channel = conn.channel()
            try:
                producer = Producer(channel, exchange=self.exchange, serializer="json", auto_declare=False)
                self.exchange(channel).declare()
                channel.tx_select()
                for event_type, payload in events:
                    producer.publish(payload, routing_key=event_type, delivery_mode=2, retry=False)
                channel.tx_commit()
            finally:
                channel.close()


class Publisher(DependencyProvider):
    """``self.publish([(event_type, payload), ...])`` on the ``mailer.events`` exchange."""

    def setup(self):
        config = self.container.config
        self.publisher = OutboxPublisher(config["AMQP_URI"], get_event_exchange("mailer", config))

    def get_dependency(self, worker_ctx):
        return self.publisher
