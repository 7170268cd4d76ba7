"""A parent session's children."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ctworkflow.domain import model
from ctworkflow.domain.session_state import StatePatch
from ctworkflow.domain.states import SessionStatus, SessionType
from ctworkflow.testing.store.sessions import SessionRows
from ctworkflow.testing.store.tables import in_scope


class Children(SessionRows):
    """A parent's children: listed in order, added in bulk, started on a round."""

    def set_children_max_attempts(
        self, scope: model.Scope, parent_id: uuid.UUID, max_attempts: int
    ) -> None:
        """Give every child of a parent the parent's budget of rounds."""
        for child in self.children(scope, parent_id):
            self._t.sessions[child.id] = dataclasses.replace(child, max_attempts=max_attempts)

    def children(self, scope: model.Scope, parent_id: uuid.UUID) -> list[model.Session]:
        found = [
            s for s in self._t.sessions.values() if s.parent_id == parent_id and in_scope(scope, s)
        ]
        components = self._t.components

        def order(s: model.Session) -> tuple[int, str, str]:
            c = components[s.component_id]
            return (-c.priority, c.name, c.module_name)

        return sorted(found, key=order)

    def round_children(self, scope: model.Scope, parent_id: uuid.UUID) -> list[model.RoundChild]:
        return [child.round_child for child in self.children(scope, parent_id)]

    def add_children(
        self, parent: model.Session, component_ids: Sequence[uuid.UUID], **values: Any
    ) -> None:
        existing = {s.component_id for s in self._t.sessions.values() if s.parent_id == parent.id}
        for component_id in component_ids:
            if component_id in existing:
                continue
            self.add_session(
                parent.scope,
                type=SessionType.COMPONENT_TESTING,
                status=SessionStatus.ACTIVE,
                user_id=parent.user_id,
                component_id=component_id,
                parent_id=parent.id,
                **values,
            )

    def start_round(
        self,
        scope: model.Scope,
        attempt: int,
        *,
        session_ids: Sequence[uuid.UUID],
        states: Mapping[uuid.UUID, StatePatch],
    ) -> None:
        for session_id in session_ids:
            self.update_session(scope, session_id, attempt=attempt)
        for session_id, patch in states.items():
            self.update_session(scope, session_id, state=patch)
