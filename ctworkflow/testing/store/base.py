"""What the parts of :class:`~ctworkflow.testing.store.InMemorySessions` share."""

from __future__ import annotations

import uuid

from ctworkflow import ports
from ctworkflow.domain import model
from ctworkflow.testing.store.tables import Tables, in_scope


class RecordsBase:
    """The tables and clock every part of :class:`~ctworkflow.testing.store.InMemorySessions`
    works on, and the scope check of rows that belong to a session."""

    def __init__(self, tables: Tables, clock: ports.Clock) -> None:
        self._t = tables
        self._clock = clock

    def _owned(self, scope: model.Scope, session_id: uuid.UUID) -> bool:
        found = self._t.sessions.get(session_id)
        return found is not None and in_scope(scope, found)

    def _of(self, scope: model.Scope, session_id: uuid.UUID) -> list[model.Interaction]:
        if not self._owned(scope, session_id):
            return []
        found = [i for i in self._t.interactions.values() if i.session_id == session_id]
        return sorted(found, key=lambda i: i.started_at)  # stable: then in the order begun
