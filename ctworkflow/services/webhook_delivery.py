"""Sending webhook deliveries from the outbox: one signed POST per attempt, bounded retries.

:func:`send` claims a due delivery (compare-and-set, so a twin send finds nothing to do), fixes
its body at the first attempt, signs and POSTs it, and records how it went. A failure is retried
after a doubling delay up to ``CTW_WEBHOOK_MAX_ATTEMPTS`` sends, then the delivery is failed.
Nothing here touches a session: a webhook that fails never changes a session's outcome.
:func:`lost` finds the deliveries whose send never happened (a lost message, a dead worker).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from ctworkflow import errors
from ctworkflow.config import Settings, get_settings
from ctworkflow.domain import model
from ctworkflow.domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    Delivery,
    DeliveryStatus,
    signature_header,
)
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.persistence.tables import utcnow
from ctworkflow.ports import Dispatcher
from ctworkflow.services import session_views, webhooks
from ctworkflow.services.summary import SessionSummary

logger = logging.getLogger(__name__)

USER_AGENT = "ctworkflow-webhooks/1"
#: Longest error text kept on a delivery.
ERROR_MAX = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """How one attempt went; ``retry_in_s`` is set when another attempt is due."""

    delivery_id: uuid.UUID
    status: DeliveryStatus
    attempts: int
    retry_in_s: float | None = None


def body_of(delivery: Delivery, now: datetime) -> str:
    """The JSON body of a delivery: the event, and the session's summary as it is now."""
    scope = model.Scope(account_id=delivery.account_id, project_id=delivery.project_id)
    details = session_views.session_details(scope, delivery.session_id)
    document = {
        "id": str(delivery.id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "session": SessionSummary.of(details, now).to_json(),
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def send(
    delivery_id: uuid.UUID, *, settings: Settings | None = None, client: httpx.Client | None = None
) -> Sent | None:
    """Make one attempt at a delivery; None if it is not due or another send holds it."""
    settings = settings or get_settings()
    now = utcnow()
    hold = timedelta(seconds=settings.webhook_timeout_s * 3 + 30)
    with unit_of_work() as uow:
        if not uow.webhooks.claim(delivery_id, now=now, until=now + hold):
            return None
        delivery = uow.webhooks.get_delivery(delivery_id)
        webhook = uow.webhooks.find_webhook(delivery.webhook_id) if delivery else None
    assert delivery is not None, "a claimed delivery exists"
    if webhook is None or (webhook.account_id, webhook.project_id) != (
        delivery.account_id,
        delivery.project_id,
    ):
        return _record(delivery, settings, None, "the webhook was deleted", final=True)
    try:
        body = delivery.body or _fix_body(delivery, now)
        code, error = _post(webhook.url, delivery, body, settings, client)
    except (errors.CtWorkflowError, OSError) as failure:
        code, error = None, f"{type(failure).__name__}: {failure}"
    return _record(delivery, settings, code, error, final=False)


def _fix_body(delivery: Delivery, now: datetime) -> str:
    body = body_of(delivery, now)
    with unit_of_work() as uow:
        uow.webhooks.set_body(delivery.id, body)
    return body


def _post(
    url: str, delivery: Delivery, body: str, settings: Settings, client: httpx.Client | None
) -> tuple[int | None, str | None]:
    payload = body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.id),
        SIGNATURE_HEADER: signature_header(
            webhooks.secret_of(delivery.webhook_id), int(time.time()), payload
        ),
    }
    own = client is None
    http = client or httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False)
    try:
        # Streamed and closed unread: a receiver's answer body is never loaded.
        with http.stream("POST", url, content=payload, headers=headers) as response:
            code, reason = response.status_code, response.reason_phrase
    except httpx.HTTPError as failure:
        return None, f"{type(failure).__name__}: {failure}"
    finally:
        if own:
            http.close()
    if 200 <= code < 300:
        return code, None
    return code, f"HTTP {code} {reason}".strip()


def _record(
    delivery: Delivery, settings: Settings, code: int | None, error: str | None, *, final: bool
) -> Sent:
    attempts = delivery.attempts  # the claim counted this one
    now = utcnow()
    if error is None:
        status, retry_in = DeliveryStatus.DELIVERED, None
    elif final or not settings.webhook_retry.allows(attempts + 1):
        status, retry_in = DeliveryStatus.FAILED, None
    else:
        status = DeliveryStatus.PENDING
        retry_in = settings.webhook_retry.delay_before(attempts + 1)
    line = error.strip().splitlines()[0][:ERROR_MAX] if error and error.strip() else error
    with unit_of_work() as uow:
        uow.webhooks.record_attempt(
            delivery.id,
            status=status,
            status_code=code,
            error=line,
            next_attempt_at=now + timedelta(seconds=retry_in) if retry_in is not None else None,
            delivered_at=now if status is DeliveryStatus.DELIVERED else None,
        )
    log = logger.info if status is DeliveryStatus.DELIVERED else logger.warning
    log(
        "webhook delivery %s (%s) attempt %d: %s",
        delivery.id,
        delivery.event,
        attempts,
        status.value if error is None else f"{status.value}: {line}",
        extra={"action": "deliver_webhook", "session_id": str(delivery.session_id)},
    )
    return Sent(delivery_id=delivery.id, status=status, attempts=attempts, retry_in_s=retry_in)


def lost(*, settings: Settings | None = None, limit: int = 500) -> list[uuid.UUID]:
    """Deliveries due for longer than one sweep interval and not being sent: their send was
    lost (a message dropped with the broker, a worker killed mid-send)."""
    settings = settings or get_settings()
    now = utcnow()
    overdue_since = now - timedelta(seconds=settings.webhook_sweep_interval_s)
    with unit_of_work() as uow:
        return uow.webhooks.due(now, overdue_since=overdue_since, limit=limit)


def attempt(delivery_id: uuid.UUID, dispatcher: Dispatcher) -> Sent | None:
    """One attempt at a delivery (:func:`send`); a failed one that may be retried is sent
    again, after its delay."""
    sent = send(delivery_id)
    if sent is not None and sent.retry_in_s is not None:
        dispatcher.send_webhook(sent.delivery_id, countdown_s=sent.retry_in_s)
    return sent


def resend_lost(dispatcher: Dispatcher) -> int:
    """Send again every delivery whose send was lost (:func:`lost`); how many."""
    found = lost()
    for delivery_id in found:
        dispatcher.send_webhook(delivery_id)
    if found:
        logger.warning("resent %d webhook deliveries whose send was lost", len(found))
    return len(found)
