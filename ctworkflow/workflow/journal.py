"""The interactions of one component run, kept in memory and written in batches.

A run records each step's begin and completion here instead of in a transaction of its own
(two round trips per step, most of a fast child's cost). The journal is written in the
transaction of each lease renewal, at most every ``check_interval_s`` and only while the lease
is still the run's (:class:`~ctworkflow.workflow.leasing.RunLease`), and in the run's final
transaction: a fast child costs its claim and its end, and a slow one (an agent taking
minutes) shows its steps within one check interval. A step still running is written pending,
so operators see it and a redelivery closes it as interrupted. The ids are the client's, so a
later write of the same step updates the row an earlier one inserted.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field

from ctworkflow import ports
from ctworkflow.domain import model

_Key = tuple[str, int]


@dataclass(slots=True)
class Journal:
    """A run's interactions, and which of them the database has as they are now."""

    scope: model.Scope
    session_id: uuid.UUID
    clock: ports.Clock
    _entries: dict[_Key, model.Interaction] = field(default_factory=dict)
    _written: dict[_Key, model.Interaction] = field(default_factory=dict)

    def begin(self, step: str, attempt: int, command: model.Command) -> model.Interaction:
        """Note that a step started."""
        started = model.Interaction(
            id=uuid.uuid4(),
            session_id=self.session_id,
            step=step,
            attempt=attempt,
            command=command,
            outcome=None,
            duration_ms=None,
            started_at=self.clock.now(),
            completed_at=None,
        )
        self._entries[(step, attempt)] = started
        return started

    def complete(
        self,
        interaction: model.Interaction,
        outcome: model.Outcome,
        *,
        command: model.Command | None = None,
    ) -> None:
        """Note a step's outcome (and the command it ran, once known)."""
        done = self.clock.now()
        self._entries[(interaction.step, interaction.attempt)] = dataclasses.replace(
            interaction,
            command=command or interaction.command,
            outcome=outcome,
            completed_at=done,
            duration_ms=max(0, int((done - interaction.started_at).total_seconds() * 1000)),
        )

    def close_pending(self, reason: str) -> None:
        """End the steps still running with an error (the run failed in one of them)."""
        for interaction in list(self._entries.values()):
            if interaction.pending:
                self.complete(interaction, model.Outcome.error(reason))

    def write(self, uow: ports.UnitOfWork) -> list[model.Interaction]:
        """Write what changed since the last confirmed write in ``uow``; what it wrote, for
        :meth:`confirm` once ``uow`` committed (a rolled-back write is written again later)."""
        changed = [i for key, i in self._entries.items() if self._written.get(key) is not i]
        if changed:
            uow.sessions.record_interactions(self.scope, self.session_id, changed)
        return changed

    def confirm(self, written: list[model.Interaction]) -> None:
        """Note that ``written`` (from :meth:`write`) is in the database now."""
        for interaction in written:
            self._written[(interaction.step, interaction.attempt)] = interaction

    @property
    def interactions(self) -> list[model.Interaction]:
        """Every step of the run so far, in the order they began."""
        return list(self._entries.values())
