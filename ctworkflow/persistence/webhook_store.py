"""Queries on webhooks and their outbox of deliveries.

The outbox is filled by :func:`record_session_ends`, which ``SessionStore.set_status`` calls in
the transaction that ends sessions, so an event exists exactly when its session's end was
committed. Once that transaction commits, the hooks given to :func:`on_committed` are told the
new deliveries' ids (the Celery layer sends them at once); a sweep finds any whose send was lost.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, orm

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.domain.states import SessionStatus, SessionType
from ctworkflow.domain.webhooks import Delivery, DeliveryStatus, Webhook, event_name
from ctworkflow.persistence import rows
from ctworkflow.persistence.tables import SessionRow, WebhookDeliveryRow, WebhookRow, utcnow

logger = logging.getLogger(__name__)

#: Told the ids of new deliveries once the transaction that wrote them has committed.
CommitHook = Callable[[list[uuid.UUID]], None]
_COMMIT_HOOKS: list[CommitHook] = []
_PENDING_KEY = "ctw_new_deliveries"


def on_committed(hook: CommitHook) -> None:
    """Call ``hook`` with the ids of the deliveries each committed transaction created."""
    if hook not in _COMMIT_HOOKS:
        _COMMIT_HOOKS.append(hook)


def _after_commit(db: orm.Session) -> None:
    ids = db.info.pop(_PENDING_KEY, [])
    for hook in _COMMIT_HOOKS if ids else ():
        try:
            hook(list(ids))
        except Exception:  # the session has ended whatever happens here; the sweep resends
            logger.exception("could not hand over new webhook deliveries")


def record_session_ends(
    db: orm.Session, session_ids: Sequence[uuid.UUID], target: SessionStatus
) -> list[uuid.UUID]:
    """Write one delivery per ended session and webhook of its project that wants the event.

    Context sessions' ends go to every webhook of the project; component sessions' only to
    webhooks with ``component_events``. Runs inside the caller's transaction.
    """
    if not session_ids:
        return []
    pairs = db.execute(
        sa.select(
            SessionRow.id,
            SessionRow.account_id,
            SessionRow.project_id,
            SessionRow.parent_id,
            WebhookRow.id,
        )
        .join(
            WebhookRow,
            sa.and_(
                WebhookRow.account_id == SessionRow.account_id,
                WebhookRow.project_id == SessionRow.project_id,
            ),
        )
        .where(
            SessionRow.id.in_(session_ids),
            sa.or_(SessionRow.parent_id.is_(None), WebhookRow.component_events),
        )
    ).all()
    if not pairs:
        return []
    now = utcnow()
    ids = [uuid.uuid4() for _ in pairs]
    records = [
        {
            "id": delivery_id,
            "account_id": account_id,
            "project_id": project_id,
            "webhook_id": webhook_id,
            "session_id": session_id,
            "event": event_name(
                SessionType.CONTEXT_TESTING if parent_id is None else SessionType.COMPONENT_TESTING,
                target,
            ),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for delivery_id, (session_id, account_id, project_id, parent_id, webhook_id) in zip(
            ids, pairs, strict=True
        )
    ]
    db.execute(sa.insert(WebhookDeliveryRow), records)
    # Ids of rows a rollback removed are harmless: their send finds nothing to claim.
    if _PENDING_KEY not in db.info:
        event.listen(db, "after_commit", _after_commit, once=True)
    db.info.setdefault(_PENDING_KEY, []).extend(ids)
    return ids


def _webhook(row: WebhookRow) -> Webhook:
    return Webhook(
        id=row.id,
        account_id=row.account_id,
        project_id=row.project_id,
        url=row.url,
        component_events=row.component_events,
        created_at=row.created_at,
    )


def _delivery(row: WebhookDeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        account_id=row.account_id,
        project_id=row.project_id,
        webhook_id=row.webhook_id,
        session_id=row.session_id,
        event=row.event,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        body=row.body,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


class WebhookStore:
    """Webhooks and deliveries of one unit of work; every tenant-facing query is scoped."""

    def __init__(self, db: orm.Session) -> None:
        self.db = db

    # -- webhooks -------------------------------------------------------------------------

    def add_webhook(self, scope: model.Scope, *, url: str, component_events: bool) -> Webhook:
        row = WebhookRow(
            account_id=scope.account_id,
            project_id=scope.project_id,
            url=url,
            component_events=component_events,
        )
        self.db.add(row)
        self.db.flush()
        return _webhook(row)

    def list_webhooks(self, scope: model.Scope) -> list[Webhook]:
        found = self.db.scalars(
            sa.select(WebhookRow)
            .where(rows.in_scope(WebhookRow, scope))
            .order_by(WebhookRow.created_at, WebhookRow.id)
        )
        return [_webhook(r) for r in found]

    def get_webhook(self, scope: model.Scope, webhook_id: uuid.UUID) -> Webhook:
        row = self.db.scalar(
            sa.select(WebhookRow).where(
                WebhookRow.id == webhook_id, rows.in_scope(WebhookRow, scope)
            )
        )
        if row is None:
            raise errors.WebhookNotFound(webhook_id)
        return _webhook(row)

    def find_webhook(self, webhook_id: uuid.UUID) -> Webhook | None:
        """A webhook by id alone: for its deliveries, which carry their own scope."""
        row = self.db.get(WebhookRow, webhook_id)
        return _webhook(row) if row else None

    def delete_webhook(self, scope: model.Scope, webhook_id: uuid.UUID) -> None:
        result = self.db.execute(
            sa.delete(WebhookRow).where(
                WebhookRow.id == webhook_id, rows.in_scope(WebhookRow, scope)
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise errors.WebhookNotFound(webhook_id)

    # -- deliveries -----------------------------------------------------------------------

    def deliveries(
        self, scope: model.Scope, *, webhook_id: uuid.UUID | None = None, limit: int = 100
    ) -> list[Delivery]:
        """The project's deliveries, newest first."""
        query = sa.select(WebhookDeliveryRow).where(rows.in_scope(WebhookDeliveryRow, scope))
        if webhook_id is not None:
            query = query.where(WebhookDeliveryRow.webhook_id == webhook_id)
        query = query.order_by(WebhookDeliveryRow.created_at.desc(), WebhookDeliveryRow.id)
        return [_delivery(r) for r in self.db.scalars(query.limit(limit))]

    def get_delivery(self, delivery_id: uuid.UUID) -> Delivery | None:
        row = self.db.get(WebhookDeliveryRow, delivery_id)
        return _delivery(row) if row else None

    def claim(self, delivery_id: uuid.UUID, *, now: datetime, until: datetime) -> bool:
        """Compare-and-set: take a due, unclaimed delivery for one send, counting the attempt."""
        result = self.db.execute(
            sa.update(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.id == delivery_id,
                WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
                WebhookDeliveryRow.next_attempt_at <= now,
                sa.or_(
                    WebhookDeliveryRow.claimed_until.is_(None),
                    WebhookDeliveryRow.claimed_until <= now,
                ),
            )
            .values(claimed_until=until, attempts=WebhookDeliveryRow.attempts + 1)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_body(self, delivery_id: uuid.UUID, body: str) -> None:
        self.db.execute(
            sa.update(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.id == delivery_id, WebhookDeliveryRow.body.is_(None))
            .values(body=body)
        )

    def record_attempt(
        self,
        delivery_id: uuid.UUID,
        *,
        status: DeliveryStatus,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime | None = None,
        delivered_at: datetime | None = None,
    ) -> None:
        """Store how a send went and release the claim."""
        values: dict[str, Any] = {
            "status": status.value,
            "last_status_code": status_code,
            "last_error": error,
            "claimed_until": None,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if delivered_at is not None:
            values["delivered_at"] = delivered_at
        self.db.execute(
            sa.update(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.id == delivery_id)
            .values(**values)
        )

    def due(self, now: datetime, *, overdue_since: datetime, limit: int) -> list[uuid.UUID]:
        """Pending deliveries due since before ``overdue_since`` and not being sent: lost ones."""
        found = self.db.scalars(
            sa.select(WebhookDeliveryRow.id)
            .where(
                WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
                WebhookDeliveryRow.next_attempt_at <= overdue_since,
                sa.or_(
                    WebhookDeliveryRow.claimed_until.is_(None),
                    WebhookDeliveryRow.claimed_until <= now,
                ),
            )
            .order_by(WebhookDeliveryRow.next_attempt_at)
            .limit(limit)
        )
        return list(found)

    def delivery_counts(self) -> dict[str, tuple[int, int]]:
        """Across tenants, for metrics: deliveries and their attempts, by status."""
        found = self.db.execute(
            sa.select(
                WebhookDeliveryRow.status,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(WebhookDeliveryRow.attempts), 0),
            ).group_by(WebhookDeliveryRow.status)
        )
        return {status: (int(n), int(attempts)) for status, n, attempts in found}
