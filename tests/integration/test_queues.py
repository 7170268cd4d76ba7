"""Each queue has its own exchange and routing key: a message routed to one reaches it only."""

from __future__ import annotations

import pytest
import redis
from celery import Celery

from ctworkflow import constants
from tests import servers

QUEUES = constants.QUEUES


@pytest.mark.parametrize("target", QUEUES)
def test_a_message_routed_to_one_queue_reaches_only_that_queue(
    redis_server: servers.RedisServer, target: str
) -> None:
    # Given our configuration on a Redis database no worker consumes from.
    url = redis_server.url(7)
    client = redis.Redis.from_url(url)
    client.flushdb()
    app = Celery("ctworkflow")
    app.config_from_object("ctworkflow.celery_defaults")
    app.conf.update(broker_url=url, result_backend=redis_server.url(8))
    with app.connection_for_write() as connection:  # declare both queues, as workers do
        for queue in app.amqp.queues.values():
            queue.bind(connection.default_channel).declare()

    # When a message is published through the exchange and routing key its queue declares
    # (what a producer that routes by key, or an AMQP broker, does).
    queue = app.amqp.queues[target]
    with app.producer_or_acquire() as producer:
        producer.publish({"hello": target}, exchange=queue.exchange, routing_key=queue.routing_key)

    # Then it waits in that queue alone.
    lengths = {name: client.llen(name) for name in QUEUES}
    assert lengths == {name: int(name == target) for name in QUEUES}
    client.flushdb()
