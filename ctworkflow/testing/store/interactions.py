"""Interactions: one per (session, step, attempt), begun then completed once."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.testing.store.base import RecordsBase


class Interactions(RecordsBase):
    """A session's steps: one interaction per (session, step, attempt)."""

    def begin_interaction(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        step: str,
        attempt: int,
        command: model.Command,
    ) -> model.Interaction:
        if not self._owned(scope, session_id):
            raise errors.SessionNotFound(session_id)
        existing = self.find_interaction(scope, session_id, step=step, attempt=attempt)
        if existing is not None:
            return existing
        started = model.Interaction(
            id=uuid.uuid4(),
            session_id=session_id,
            step=step,
            attempt=attempt,
            command=command,
            outcome=None,
            duration_ms=None,
            started_at=self._clock.now(),
            completed_at=None,
        )
        self._t.interactions[started.id] = started
        return started

    def update_interaction_command(
        self, scope: model.Scope, interaction: model.Interaction, command: model.Command
    ) -> None:
        found = self._t.interactions.get(interaction.id)
        if found is not None and self._owned(scope, found.session_id):
            self._t.interactions[found.id] = dataclasses.replace(found, command=command)

    def complete_interaction(
        self,
        scope: model.Scope,
        interaction: model.Interaction,
        outcome: model.Outcome,
        *,
        command: model.Command | None = None,
        completed_at: datetime | None = None,
    ) -> bool:
        found = self._t.interactions.get(interaction.id)
        if found is None or not self._owned(scope, found.session_id):
            raise errors.NotFound(interaction.id)
        if not found.pending:
            return False
        done = completed_at or self._clock.now()
        self._t.interactions[found.id] = dataclasses.replace(
            found,
            outcome=outcome,
            command=command or found.command,
            completed_at=done,
            duration_ms=max(0, int((done - found.started_at).total_seconds() * 1000)),
        )
        self._t.completions[found.id] = len(self._t.completions)
        return True

    def record_interactions(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        interactions: Sequence[model.Interaction],
    ) -> int:
        """Write a run's journal: a new (step, attempt) is inserted, a pending row of the same
        id completed, any other row kept (as the SQL store's one upsert does)."""
        if not self._owned(scope, session_id):
            return 0
        written = 0
        for interaction in interactions:
            entry = dataclasses.replace(interaction, session_id=session_id)
            found = self.find_interaction(scope, session_id, step=entry.step, attempt=entry.attempt)
            if found is not None and (found.id != entry.id or not found.pending):
                continue
            self._t.interactions[entry.id] = entry
            if not entry.pending:
                self._t.completions[entry.id] = len(self._t.completions)
            written += 1
        return written

    def find_interaction(
        self, scope: model.Scope, session_id: uuid.UUID, *, step: str, attempt: int
    ) -> model.Interaction | None:
        for found in self._of(scope, session_id):
            if found.step == step and found.attempt == attempt:
                return found
        return None

    def latest_attempts(self, scope: model.Scope, session_id: uuid.UUID) -> dict[str, int]:
        latest: dict[str, int] = {}
        for found in self._of(scope, session_id):
            latest[found.step] = max(latest.get(found.step, 0), found.attempt)
        return latest

    def abandon_pending(self, scope: model.Scope, session_id: uuid.UUID, reason: str) -> int:
        pending = [i for i in self._of(scope, session_id) if i.pending]
        for found in pending:
            self.complete_interaction(scope, found, model.Outcome.error(reason))
        return len(pending)

    def interactions(self, scope: model.Scope, session_id: uuid.UUID) -> list[model.Interaction]:
        """A session's whole history, oldest first."""
        return self._of(scope, session_id)

    def interactions_of(
        self, scope: model.Scope, session_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[model.Interaction]]:
        """The histories of many sessions, each oldest first."""
        return {session_id: self._of(scope, session_id) for session_id in session_ids}

    def last_completed(self, scope: model.Scope, session_id: uuid.UUID) -> model.Interaction | None:
        done = [i for i in self._of(scope, session_id) if i.completed_at is not None]
        return max(done, key=lambda i: self._t.completions[i.id], default=None)
