"""Session rows: add, read, find, list, and update the columns a step may set."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

import sqlalchemy as sa

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.domain.session_state import StatePatch
from ctworkflow.domain.states import SessionStatus, SessionType
from ctworkflow.persistence import rows
from ctworkflow.persistence.failures import savepoint
from ctworkflow.persistence.session_store import state_merge
from ctworkflow.persistence.session_store.base import StoreBase
from ctworkflow.persistence.tables import (
    SessionRow,
    utcnow,
)


class SessionRecords(StoreBase):
    """Session rows of the scope's project."""

    def add_session(self, scope: model.Scope, **values: Any) -> model.Session:
        """Insert a session; raise Conflict if its unique key (one active session per context,
        an idempotency key) was taken meanwhile."""
        row = SessionRow(account_id=scope.account_id, project_id=scope.project_id, **values)
        with savepoint(self.db):
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

    def last_complete_context(
        self, scope: model.Scope, component_id: uuid.UUID
    ) -> model.Session | None:
        """The latest complete context session of the context ``component_id``, if any."""
        row = self.db.scalar(
            sa.select(SessionRow)
            .where(
                rows.in_scope(SessionRow, scope),
                SessionRow.parent_id.is_(None),
                SessionRow.component_id == component_id,
                SessionRow.status == SessionStatus.COMPLETE,
            )
            .order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
            .limit(1)
        )
        return rows.session(row) if row else None

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

    def update_session(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        only_if: SessionStatus | None = None,
        branch_name: str | None = None,
        base_commit: str | None = None,
        attempt: int | None = None,
        max_attempts: int | None = None,
        pushed_commit: str | None = None,
        state: StatePatch | None = None,
    ) -> bool:
        """Set the fields given (None: unchanged) and merge ``state`` into the stored state,
        in one statement; with ``only_if``, only while the session has that status."""
        table = cast(sa.Table, SessionRow.__table__)
        columns = {
            "branch_name": branch_name,
            "base_commit": base_commit,
            "attempt": attempt,
            "max_attempts": max_attempts,
            "pushed_commit": pushed_commit,
        }
        values: dict[str, Any] = {k: v for k, v in columns.items() if v is not None}
        parameters: dict[str, Any] = {}
        if state is not None:
            dialect = self.db.get_bind().dialect.name
            values["state"], parameters = state_merge.merged(table.c.state, dialect, state)
        query = sa.update(table).where(
            table.c.id == session_id,
            table.c.account_id == scope.account_id,
            table.c.project_id == scope.project_id,
        )
        if only_if is not None:
            query = query.where(table.c.status == only_if)
        result = self.db.execute(query.values(updated_at=utcnow(), **values), parameters)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def touch(self, scope: model.Scope, session_ids: Sequence[uuid.UUID]) -> None:
        """Mark sessions as just handled (``updated_at``), in one statement."""
        if session_ids:
            self.db.execute(
                sa.update(SessionRow)
                .where(SessionRow.id.in_(session_ids), rows.in_scope(SessionRow, scope))
                .values(updated_at=utcnow())
            )
