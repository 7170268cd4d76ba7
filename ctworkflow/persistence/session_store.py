"""Queries on sessions, their interactions and their artifacts; all scoped by tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.domain.states import TERMINAL, SessionStatus, SessionType, can_transition
from ctworkflow.persistence import rows, webhook_store
from ctworkflow.persistence.tables import (
    ArtifactRow,
    ComponentRow,
    InteractionRow,
    SessionRow,
    utcnow,
)

#: Rows per multi-row INSERT: PostgreSQL takes at most 65,535 bind parameters per statement,
#: and a session row has 17 columns.
INSERT_ROWS = 1000

#: Columns a step may set on a session besides its status.
UPDATABLE = frozenset(
    {"branch_name", "base_commit", "attempt", "max_attempts", "state", "error", "pushed_commit"}
)


class SessionStore:
    """Sessions, interactions and artifacts of one unit of work."""

    def __init__(self, db: orm.Session) -> None:
        self.db = db

    # -- sessions -------------------------------------------------------------------------

    def add_session(self, scope: model.Scope, **values: Any) -> model.Session:
        row = SessionRow(account_id=scope.account_id, project_id=scope.project_id, **values)
        self.db.add(row)
        self.db.flush()
        return rows.session(row)

    def get_session(
        self, scope: model.Scope, session_id: uuid.UUID, *, for_update: bool = False
    ) -> model.Session:
        query = sa.select(SessionRow).where(
            SessionRow.id == session_id, rows.in_scope(SessionRow, scope)
        )
        if for_update:
            query = query.with_for_update()
        row = self.db.scalar(query)
        if row is None:
            raise errors.SessionNotFound(session_id)
        return rows.session(row)

    def session_ids_between(
        self, scope: model.Scope, low: uuid.UUID, high: uuid.UUID
    ) -> list[uuid.UUID]:
        """Up to two ids of the project's sessions in ``[low, high]`` (an id prefix's range)."""
        query = sa.select(SessionRow.id).where(
            rows.in_scope(SessionRow, scope), SessionRow.id.between(low, high)
        )
        return list(self.db.scalars(query.limit(2)))

    def find_session(
        self,
        scope: model.Scope,
        *,
        component_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
        active_context: bool = False,
    ) -> model.Session | None:
        query = sa.select(SessionRow).where(rows.in_scope(SessionRow, scope))
        if idempotency_key is not None:
            query = query.where(SessionRow.idempotency_key == idempotency_key)
        if component_id is not None:
            query = query.where(SessionRow.component_id == component_id)
        if active_context:
            query = query.where(
                SessionRow.parent_id.is_(None), SessionRow.status == SessionStatus.ACTIVE
            )
        row = self.db.scalar(query.limit(1))
        return rows.session(row) if row else None

    def list_sessions(
        self,
        scope: model.Scope,
        *,
        statuses: Iterable[SessionStatus] = (),
        type: SessionType | None = None,
        parent_id: uuid.UUID | None = None,
        limit: int = 100,
    ) -> list[model.Session]:
        query = sa.select(SessionRow).where(rows.in_scope(SessionRow, scope))
        wanted = list(statuses)
        if wanted:
            query = query.where(SessionRow.status.in_(wanted))
        if type is not None:
            query = query.where(SessionRow.type == type)
        if parent_id is not None:
            query = query.where(SessionRow.parent_id == parent_id)
        query = query.order_by(SessionRow.created_at.desc(), SessionRow.id).limit(limit)
        return [rows.session(r) for r in self.db.scalars(query)]

    def active_context_scopes(self) -> list[model.Scope]:
        """The tenants that have an active context session: where the reconciler looks.

        The one read across tenants; everything it then does is scoped by each result.
        """
        found = self.db.execute(
            sa.select(SessionRow.account_id, SessionRow.project_id)
            .where(SessionRow.parent_id.is_(None), SessionRow.status == SessionStatus.ACTIVE)
            .distinct()
        )
        return [model.Scope(account_id=a, project_id=p, user_id="reconciler") for a, p in found]

    def branch_holders(
        self, scope: model.Scope, branch_name: str, *, besides: uuid.UUID
    ) -> list[model.Session]:
        """Other context sessions of the project that use ``branch_name``."""
        found = self.db.scalars(
            sa.select(SessionRow).where(
                rows.in_scope(SessionRow, scope),
                SessionRow.parent_id.is_(None),
                SessionRow.branch_name == branch_name,
                SessionRow.id != besides,
            )
        )
        return [rows.session(r) for r in found]

    def branches_in_use(
        self, scope: model.Scope, names: Sequence[str], *, besides_component: uuid.UUID
    ) -> set[str]:
        """Which of ``names`` context sessions of other contexts of the project have used."""
        if not names:
            return set()
        found = self.db.scalars(
            sa.select(SessionRow.branch_name)
            .where(
                rows.in_scope(SessionRow, scope),
                SessionRow.parent_id.is_(None),
                SessionRow.branch_name.in_(list(names)),
                SessionRow.component_id != besides_component,
            )
            .distinct()
        )
        return {name for name in found if name is not None}

    def children(self, scope: model.Scope, parent_id: uuid.UUID) -> list[model.Session]:
        """Child sessions of a parent, in their components' order (priority, then name)."""
        query = (
            sa.select(SessionRow)
            .join(ComponentRow, ComponentRow.id == SessionRow.component_id)
            .where(SessionRow.parent_id == parent_id, rows.in_scope(SessionRow, scope))
            .order_by(ComponentRow.priority.desc(), ComponentRow.name, ComponentRow.module_name)
        )
        return [rows.session(r) for r in self.db.scalars(query)]

    def add_children(
        self, parent: model.Session, component_ids: Sequence[uuid.UUID], **values: Any
    ) -> None:
        """Insert one child per component in one statement; existing children are kept."""
        if not component_ids:
            return
        now = utcnow()
        records = [
            {
                "id": uuid.uuid4(),
                "type": SessionType.COMPONENT_TESTING,
                "status": SessionStatus.ACTIVE,
                # Scope comes from the parent row, never from the caller.
                "account_id": parent.account_id,
                "project_id": parent.project_id,
                "user_id": parent.user_id,
                "component_id": component_id,
                "parent_id": parent.id,
                "state": {},
                "attempt": 0,
                "created_at": now,
                "updated_at": now,
                **values,
            }
            for component_id in component_ids
        ]
        insert = rows.upsert_ignoring(self.db, SessionRow)
        # Multi-row VALUES in slices: one statement may carry at most 65,535 parameters.
        for start in range(0, len(records), INSERT_ROWS):
            self.db.execute(
                insert.values(records[start : start + INSERT_ROWS]).on_conflict_do_nothing(
                    index_elements=["parent_id", "component_id"]
                )
            )

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

    def update_session(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        only_if: SessionStatus | None = None,
        **values: Any,
    ) -> bool:
        """Set step-owned fields; with ``only_if``, only while the session has that status."""
        unknown = set(values) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        query = sa.update(SessionRow).where(
            SessionRow.id == session_id, rows.in_scope(SessionRow, scope)
        )
        if only_if is not None:
            query = query.where(SessionRow.status == only_if)
        result = self.db.execute(query.values(updated_at=utcnow(), **values))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def start_round(
        self,
        scope: model.Scope,
        attempt: int,
        *,
        session_ids: Sequence[uuid.UUID],
        states: Mapping[uuid.UUID, Mapping[str, Any]],
    ) -> None:
        """Set ``attempt`` on many sessions in one statement, and the ``states`` given (one
        executemany); the caller passes only the states that change."""
        if session_ids:
            self.db.execute(
                sa.update(SessionRow)
                .where(SessionRow.id.in_(session_ids), rows.in_scope(SessionRow, scope))
                .values(attempt=attempt, updated_at=utcnow())
            )
        if states:
            table = cast(sa.Table, SessionRow.__table__)
            self.db.execute(
                sa.update(table)
                .where(
                    table.c.id == sa.bindparam("session_id"),
                    table.c.account_id == scope.account_id,
                    table.c.project_id == scope.project_id,
                )
                .values(state=sa.bindparam("new_state")),
                [{"session_id": i, "new_state": dict(state)} for i, state in states.items()],
            )

    def touch(self, scope: model.Scope, session_ids: Sequence[uuid.UUID]) -> None:
        """Mark sessions as just handled (``updated_at``), in one statement."""
        if session_ids:
            self.db.execute(
                sa.update(SessionRow)
                .where(SessionRow.id.in_(session_ids), rows.in_scope(SessionRow, scope))
                .values(updated_at=utcnow())
            )

    # -- leases ---------------------------------------------------------------------------

    def take_lease(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        owner: str,
        expires_at: datetime,
        now: datetime,
        replacing: str | None = None,
    ) -> int | None:
        """Compare-and-set: take an active session's free, expired (or ``replacing``) lease.

        Returns the session's worker losses after taking it (a lease taken over from a run
        that never released it counts one more), or None if another run holds it.
        """
        free = sa.or_(SessionRow.lease_owner.is_(None), SessionRow.lease_expires_at <= now)
        if replacing is not None:
            free = sa.or_(free, SessionRow.lease_owner == replacing)
        lost = sa.case((SessionRow.lease_owner.is_not(None), 1), else_=0)
        result = self.db.execute(
            sa.update(SessionRow)
            .where(
                SessionRow.id == session_id,
                rows.in_scope(SessionRow, scope),
                SessionRow.status == SessionStatus.ACTIVE,
                free,
            )
            .values(
                lease_owner=owner,
                lease_expires_at=expires_at,
                worker_losses=SessionRow.worker_losses + lost,
                updated_at=now,
            )
            .returning(SessionRow.worker_losses)
        )
        found = result.scalar()
        return None if found is None else int(found)

    def renew_lease(
        self, scope: model.Scope, session_id: uuid.UUID, *, owner: str, expires_at: datetime
    ) -> bool:
        """Extend a lease this owner holds on a session still active; else False."""
        return self._update_lease(
            scope,
            session_id,
            owner,
            SessionRow.status == SessionStatus.ACTIVE,
            lease_expires_at=expires_at,
        )

    def release_lease(self, scope: model.Scope, session_id: uuid.UUID, *, owner: str) -> bool:
        """Give a lease back; False if this owner no longer held it."""
        return self._update_lease(scope, session_id, owner, lease_owner=None, lease_expires_at=None)

    def _update_lease(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        owner: str,
        *conditions: sa.ColumnElement[bool],
        **values: Any,
    ) -> bool:
        result = self.db.execute(
            sa.update(SessionRow)
            .where(
                SessionRow.id == session_id,
                rows.in_scope(SessionRow, scope),
                SessionRow.lease_owner == owner,
                *conditions,
            )
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- interactions ---------------------------------------------------------------------

    def _owned(self, scope: model.Scope, session_ids: Sequence[uuid.UUID]) -> sa.Select[Any]:
        """Those of ``session_ids`` that are in scope.

        A lookup by primary key: filtering on every session of the project instead let
        PostgreSQL's planner, on young statistics, compare each row with each session.
        """
        return sa.select(SessionRow.id).where(
            SessionRow.id.in_(session_ids), rows.in_scope(SessionRow, scope)
        )

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

    def _insert_owned(
        self,
        scope: model.Scope,
        table: type[InteractionRow] | type[ArtifactRow],
        values: Mapping[str, Any],
        unique: Sequence[str],
    ) -> bool:
        """Insert a row of a session in scope; False if that session is not in scope or the
        row is there already (a conflict on ``unique``).

        ``INSERT … SELECT … FROM sessions WHERE <the session, in scope> ON CONFLICT DO
        NOTHING``: the scope check and the insert are one round trip.
        """
        columns = table.__table__.c
        owned = sa.select(
            *(sa.literal(value, type_=columns[name].type) for name, value in values.items())
        ).where(SessionRow.id == values["session_id"], rows.in_scope(SessionRow, scope))
        insert = (
            rows.upsert_ignoring(self.db, table)
            .from_select(list(values), owned)
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(columns.id)
        )
        return self.db.execute(insert).first() is not None

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
            "result_data": dict(outcome.data),
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

    # -- artifacts ------------------------------------------------------------------------

    def add_artifact(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        attempt: int,
        test_path: str,
        content: str,
        digest: str,
        report: Mapping[str, Any],
    ) -> bool:
        """Store what an attempt produced; a second store of the same attempt keeps the first.

        Returns whether this call stored it.

        Raises:
            SessionNotFound: the session is not in scope.
        """
        values = {
            "id": uuid.uuid4(),
            "session_id": session_id,
            "attempt": attempt,
            "test_path": test_path,
            "content": content,
            "digest": digest,
            "report": dict(report),
            "created_at": utcnow(),
        }
        if self._insert_owned(scope, ArtifactRow, values, ("session_id", "attempt")):
            return True
        self.get_session(scope, session_id)
        return False

    def latest_artifacts(
        self, scope: model.Scope, session_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, model.Artifact]:
        """The newest artifact of each session, in one query."""
        if not session_ids:
            return {}
        newest = (
            sa.select(ArtifactRow.session_id, sa.func.max(ArtifactRow.attempt).label("attempt"))
            .where(
                ArtifactRow.session_id.in_(self._owned(scope, session_ids)),
            )
            .group_by(ArtifactRow.session_id)
            .subquery()
        )
        found = self.db.scalars(
            sa.select(ArtifactRow).join(
                newest,
                sa.and_(
                    ArtifactRow.session_id == newest.c.session_id,
                    ArtifactRow.attempt == newest.c.attempt,
                ),
            )
        )
        return {r.session_id: rows.artifact(r) for r in found}

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
