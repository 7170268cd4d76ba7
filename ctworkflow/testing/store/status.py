"""The compare-and-set of a session's status, ruled by the status table."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.domain.states import TERMINAL, SessionStatus, can_transition
from ctworkflow.testing.store.base import RecordsBase
from ctworkflow.testing.store.tables import in_scope


class StatusChanges(RecordsBase):
    """The one compare-and-set of a session's status."""

    def set_status(
        self,
        scope: model.Scope,
        session_ids: Sequence[uuid.UUID],
        *,
        expected: SessionStatus,
        target: SessionStatus,
        error: str | None = None,
    ) -> list[uuid.UUID]:
        """Compare-and-set, as the SQL store's: the table's rule, then only rows in
        ``expected``."""
        if not can_transition(expected, target):
            first = session_ids[0] if session_ids else None
            raise errors.InvalidTransition(first, expected, target)
        now = self._clock.now()
        changes: dict[str, Any] = {
            "updated_at": now,
            "completed_at": now if target in TERMINAL else None,
        }
        if error is not None or target in (SessionStatus.ACTIVE, SessionStatus.COMPLETE):
            changes["error"] = error
        moved: list[uuid.UUID] = []
        for session_id in session_ids:
            found = self._t.sessions.get(session_id)
            if found is None or not in_scope(scope, found) or found.status is not expected:
                continue
            self._t.sessions[session_id] = dataclasses.replace(found, status=target, **changes)
            moved.append(session_id)
            if target in TERMINAL:
                self._t.ended.append((session_id, target))
        return moved
