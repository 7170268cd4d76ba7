"""The one compare-and-set that changes a session's status."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.domain.states import TERMINAL, SessionStatus, can_transition
from ctworkflow.persistence import rows, webhook_store
from ctworkflow.persistence.session_store.base import StoreBase
from ctworkflow.persistence.tables import (
    SessionRow,
    utcnow,
)


class StatusChanges(StoreBase):
    """Status changes, checked against the transition table."""

    def set_status(
        self,
        scope: model.Scope,
        session_ids: Sequence[uuid.UUID],
        *,
        expected: SessionStatus,
        target: SessionStatus,
        error: str | None = None,
    ) -> list[uuid.UUID]:
        """Compare-and-set: move the sessions still in ``expected`` to ``target``; return them.

        The only way a session's status changes. A move the status table
        (:data:`~ctworkflow.domain.states.TRANSITIONS`) forbids raises InvalidTransition before
        anything is written; the database refuses it too (migration ``0004_status_guard``).
        """
        if not can_transition(expected, target):
            first = session_ids[0] if session_ids else None
            raise errors.InvalidTransition(first, expected, target)
        if not session_ids:
            return []
        now = utcnow()
        values: dict[str, Any] = {"status": target, "updated_at": now}
        values["completed_at"] = now if target in TERMINAL else None
        if error is not None or target in (SessionStatus.ACTIVE, SessionStatus.COMPLETE):
            values["error"] = error
        result = self.db.execute(
            sa.update(SessionRow)
            .where(
                SessionRow.id.in_(session_ids),
                SessionRow.status == expected,
                rows.in_scope(SessionRow, scope),
            )
            .values(**values)
            .returning(SessionRow.id)
        )
        moved = [r[0] for r in result]
        if target in TERMINAL:  # the webhook outbox: written with the end it announces
            webhook_store.record_session_ends(self.db, moved, target)
        return moved
