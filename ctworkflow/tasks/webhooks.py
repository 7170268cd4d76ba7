"""Webhook tasks: send one delivery (and schedule its retry), and sweep for lost sends.

Loading this module also hands the outbox a hook: once a transaction that ended sessions
commits, its new deliveries are sent at once instead of waiting for the sweep.
"""

from __future__ import annotations

import uuid
from typing import Any

from celery.utils.log import get_task_logger

from ctworkflow import constants
from ctworkflow.persistence import webhook_store
from ctworkflow.services import webhook_delivery as delivery
from ctworkflow.tasks.app import app

logger = get_task_logger(__name__)


def enqueue(delivery_id: uuid.UUID, countdown: float | None = None) -> None:
    """Send the task that makes one attempt at a delivery (after ``countdown`` seconds)."""
    app.send_task(
        constants.DELIVER_WEBHOOK,
        args=(str(delivery_id),),
        queue=constants.ORCHESTRATION_QUEUE,
        countdown=countdown,
        ignore_result=True,
        # Fail fast with the broker down: the delivery is in the outbox and the sweep sends it.
        retry=False,
    )


def _send_committed(delivery_ids: list[uuid.UUID]) -> None:
    for delivery_id in delivery_ids:
        enqueue(delivery_id)


webhook_store.on_committed(_send_committed)


@app.task(name=constants.DELIVER_WEBHOOK, ignore_result=True, acks_late=True)
def deliver(delivery_id: str) -> None:
    """One attempt at a delivery; a failed one that may be retried is sent again later."""
    sent = delivery.send(uuid.UUID(delivery_id))
    if sent is not None and sent.retry_in_s is not None:
        enqueue(sent.delivery_id, countdown=sent.retry_in_s)


@app.task(name=constants.SWEEP_WEBHOOKS, ignore_result=True, acks_late=True)
def sweep() -> dict[str, Any]:
    """Send again every delivery whose send was lost (Celery beat runs it periodically)."""
    found = delivery.lost()
    for delivery_id in found:
        enqueue(delivery_id)
    if found:
        logger.warning("resent %d webhook deliveries whose send was lost", len(found))
    return {"resent": len(found)}
