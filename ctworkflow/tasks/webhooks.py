"""Webhook tasks: doorways into :mod:`ctworkflow.services.webhook_delivery` (one attempt, and
the sweep).

Loading this module also hands the outbox a hook: once a transaction that ended sessions
commits, its new deliveries are sent at once instead of waiting for the sweep.
"""

from __future__ import annotations

import uuid
from typing import Any

from ctworkflow import constants
from ctworkflow.services import webhook_delivery as delivery
from ctworkflow.tasks.app import app
from ctworkflow.tasks.dispatch import dispatcher, send_deliveries_on_commit

send_deliveries_on_commit()


@app.task(name=constants.DELIVER_WEBHOOK, ignore_result=True, acks_late=True)
def deliver(delivery_id: str) -> None:
    """One attempt at a delivery; a failed one that may be retried is sent again later."""
    delivery.attempt(uuid.UUID(delivery_id), dispatcher)


@app.task(name=constants.SWEEP_WEBHOOKS, ignore_result=True, acks_late=True)
def sweep() -> dict[str, Any]:
    """Send again every delivery whose send was lost (Celery beat runs it periodically)."""
    return {"resent": delivery.resend_lost(dispatcher)}
