"""How many messages wait in each queue: what an autoscaler reads.

Asked through kombu (a passive queue declaration), so it works on every broker: with Redis it
is the length of the queue's lists (all priority levels); with the embedded SQLAlchemy broker
the count of its visible messages. Messages a worker has already taken (prefetched or running)
are not counted.
"""

from __future__ import annotations

from typing import Any

from kombu.exceptions import ChannelError, OperationalError

from ctworkflow import constants
from ctworkflow.tasks.app import app

QUEUES = constants.QUEUES


def queue_depths(timeout_s: int = 3) -> dict[str, int] | None:
    """Messages waiting per queue; None when the broker cannot be reached."""
    depths: dict[str, int] = {}
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout_s)
            channel: Any = connection.default_channel  # a kombu virtual channel
            for queue in QUEUES:
                try:
                    depths[queue] = int(
                        channel.queue_declare(queue=queue, passive=True).message_count
                    )
                except ChannelError:  # never declared, or emptied and gone: nothing waits
                    depths[queue] = 0
    except (OperationalError, OSError):
        return None
    return depths
