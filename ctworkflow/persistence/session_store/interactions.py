"""Interactions: the steps of a session, begun once per (session, step, attempt), completed
once (compare-and-set)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.persistence import rows
from ctworkflow.persistence.session_store.base import StoreBase
from ctworkflow.persistence.tables import (
    InteractionRow,
    utcnow,
)


class Interactions(StoreBase):
    """The steps of sessions of the scope."""

    def begin_interaction(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        step: str,
        attempt: int,
        command: model.Command,
    ) -> model.Interaction:
        """Record that a step started; a redelivered step gets the row it already has.

        One statement when the step is new: the insert itself checks the session's scope.
        """
        started = model.Interaction(
            id=uuid.uuid4(),
            session_id=session_id,
            step=step,
            attempt=attempt,
            command=command,
            outcome=None,
            duration_ms=None,
            started_at=utcnow(),
            completed_at=None,
        )
        values = {
            "id": started.id,
            "session_id": session_id,
            "step": step,
            "attempt": attempt,
            "command": command.to_json(),
            "started_at": started.started_at,
        }
        if self._insert_owned(scope, InteractionRow, values, ("session_id", "step", "attempt")):
            return started
        row = self.db.scalar(
            sa.select(InteractionRow).where(
                InteractionRow.session_id.in_(self._owned(scope, [session_id])),
                InteractionRow.step == step,
                InteractionRow.attempt == attempt,
            )
        )
        if row is None:
            raise errors.SessionNotFound(session_id)
        return rows.interaction(row)

    def update_interaction_command(
        self, scope: model.Scope, interaction: model.Interaction, command: model.Command
    ) -> None:
        self.db.execute(
            sa.update(InteractionRow)
            .where(
                InteractionRow.id == interaction.id,
                InteractionRow.session_id.in_(self._owned(scope, [interaction.session_id])),
            )
            .values(command=command.to_json())
        )

    def complete_interaction(
        self,
        scope: model.Scope,
        interaction: model.Interaction,
        outcome: model.Outcome,
        *,
        command: model.Command | None = None,
        completed_at: datetime | None = None,
    ) -> bool:
        """Store the outcome of a pending interaction; False if it already had one."""
        done = completed_at or utcnow()
        values: dict[str, Any] = {
            "result_status": outcome.status,
            "result_data": outcome.data_json(),
            "exit_code": outcome.exit_code,
            "stdout_tail": outcome.stdout_tail,
            "stderr_tail": outcome.stderr_tail,
            "error_message": outcome.error_message,
            "completed_at": done,
            "duration_ms": max(0, int((done - interaction.started_at).total_seconds() * 1000)),
        }
        if command is not None:
            values["command"] = command.to_json()
        in_scope = sa.and_(
            InteractionRow.id == interaction.id,
            InteractionRow.session_id.in_(self._owned(scope, [interaction.session_id])),
        )
        result = self.db.execute(
            sa.update(InteractionRow)
            .where(in_scope, InteractionRow.result_status.is_(None))
            .values(**values)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            return True
        if self.db.scalar(sa.select(InteractionRow.id).where(in_scope)) is None:
            raise errors.NotFound(interaction.id)
        return False

    def record_interactions(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        interactions: Sequence[model.Interaction],
    ) -> int:
        """Write a run's journal in one statement; how many rows were written.

        ``INSERT … SELECT <the rows> WHERE <the session is in scope> ON CONFLICT (session,
        step, attempt) DO UPDATE … WHERE <the same id, still pending>``: a new step is
        inserted (pending or completed), the completion of a step written pending before
        updates its row, and a completed row, or another run's, is kept as it is.
        """
        if not interactions:
            return 0
        typed = _typed_for(self.db.get_bind().dialect.name)
        columns = InteractionRow.__table__.c
        journal = sa.union_all(
            *(
                sa.select(
                    *(
                        typed(value, columns[name].type).label(name)
                        for name, value in _row(session_id, interaction).items()
                    )
                )
                for interaction in interactions
            )
        ).subquery("journal")
        owned = sa.exists(self._owned(scope, [session_id]))
        insert = rows.upsert_ignoring(self.db, InteractionRow).from_select(
            list(journal.c.keys()), sa.select(*journal.c).where(owned)
        )
        pending_of_this_run = sa.and_(
            InteractionRow.id == insert.excluded.id, InteractionRow.result_status.is_(None)
        )
        upsert = insert.on_conflict_do_update(
            index_elements=["session_id", "step", "attempt"],
            set_={name: insert.excluded[name] for name in _OUTCOME_COLUMNS},
            where=pending_of_this_run,
        ).returning(InteractionRow.id)
        return len(self.db.execute(upsert).all())

    def find_interaction(
        self, scope: model.Scope, session_id: uuid.UUID, *, step: str, attempt: int
    ) -> model.Interaction | None:
        row = self.db.scalar(
            sa.select(InteractionRow).where(
                InteractionRow.session_id.in_(self._owned(scope, [session_id])),
                InteractionRow.step == step,
                InteractionRow.attempt == attempt,
            )
        )
        return rows.interaction(row) if row else None

    def latest_attempts(self, scope: model.Scope, session_id: uuid.UUID) -> dict[str, int]:
        """The highest attempt recorded for each step of a session."""
        found = self.db.execute(
            sa.select(InteractionRow.step, sa.func.max(InteractionRow.attempt))
            .where(
                InteractionRow.session_id.in_(self._owned(scope, [session_id])),
            )
            .group_by(InteractionRow.step)
        )
        return {step: int(attempt) for step, attempt in found}

    def abandon_pending(self, scope: model.Scope, session_id: uuid.UUID, reason: str) -> int:
        """Close the pending interactions of a session with an error (an interrupted run)."""
        now = utcnow()
        result = self.db.execute(
            sa.update(InteractionRow)
            .where(
                InteractionRow.session_id.in_(self._owned(scope, [session_id])),
                InteractionRow.result_status.is_(None),
            )
            .values(
                result_status="error",
                result_data={},
                error_message=reason,
                completed_at=now,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def interactions(self, scope: model.Scope, session_id: uuid.UUID) -> list[model.Interaction]:
        """A session's whole history, oldest first."""
        found = self.db.scalars(
            sa.select(InteractionRow)
            .where(
                InteractionRow.session_id.in_(self._owned(scope, [session_id])),
            )
            .order_by(InteractionRow.started_at, InteractionRow.attempt)
        )
        return [rows.interaction(r) for r in found]

    def last_completed(self, scope: model.Scope, session_id: uuid.UUID) -> model.Interaction | None:
        """The most recently completed interaction of a session."""
        row = self.db.scalar(
            sa.select(InteractionRow)
            .where(
                InteractionRow.session_id.in_(self._owned(scope, [session_id])),
                InteractionRow.completed_at.is_not(None),
            )
            .order_by(InteractionRow.completed_at.desc(), InteractionRow.started_at.desc())
            .limit(1)
        )
        return rows.interaction(row) if row else None

    def interactions_of(
        self, scope: model.Scope, session_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[model.Interaction]]:
        """The histories of many sessions in one query, each oldest first."""
        if not session_ids:
            return {}
        found = self.db.scalars(
            sa.select(InteractionRow)
            .where(InteractionRow.session_id.in_(self._owned(scope, session_ids)))
            .order_by(InteractionRow.started_at, InteractionRow.attempt)
        )
        histories: dict[uuid.UUID, list[model.Interaction]] = {i: [] for i in session_ids}
        for row in found:
            histories[row.session_id].append(rows.interaction(row))
        return histories


#: What the completion of a step written pending sets.
_OUTCOME_COLUMNS = (
    "command",
    "result_status",
    "result_data",
    "exit_code",
    "stdout_tail",
    "stderr_tail",
    "error_message",
    "duration_ms",
    "completed_at",
)


def _row(session_id: uuid.UUID, interaction: model.Interaction) -> dict[str, Any]:
    """The columns of a journaled interaction of ``session_id``."""
    outcome = interaction.outcome
    return {
        "id": interaction.id,
        "session_id": session_id,
        "step": interaction.step,
        "attempt": interaction.attempt,
        "command": interaction.command.to_json(),
        "result_status": outcome.status if outcome else None,
        "result_data": outcome.data_json() if outcome else None,
        "exit_code": outcome.exit_code if outcome else None,
        "stdout_tail": outcome.stdout_tail if outcome else None,
        "stderr_tail": outcome.stderr_tail if outcome else None,
        "error_message": outcome.error_message if outcome else None,
        "duration_ms": interaction.duration_ms,
        "started_at": interaction.started_at,
        "completed_at": interaction.completed_at,
    }


def _typed_for(dialect: str) -> Callable[[Any, Any], sa.ColumnElement[Any]]:
    """How a value of the journal is written in its ``SELECT``: PostgreSQL types the
    parameters of a ``UNION`` from each other (text, for a string), so each is cast to its
    column's type there; SQLite's columns take what they are given (and its ``CAST`` to a
    timestamp would make a number of it)."""

    def typed(value: Any, type_: Any) -> sa.ColumnElement[Any]:
        written = sa.null() if value is None else sa.literal(value, type_=type_)
        return sa.cast(written, type_) if dialect == "postgresql" else written

    return typed
