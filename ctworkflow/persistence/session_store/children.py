"""The children of a context session: listed in their components' order, inserted in bulk,
started on a round together."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from ctworkflow.domain import model
from ctworkflow.domain.session_state import PERMANENT_FAILURE, StatePatch
from ctworkflow.domain.states import SessionStatus, SessionType
from ctworkflow.persistence import rows
from ctworkflow.persistence.session_store import state_merge
from ctworkflow.persistence.session_store.base import StoreBase
from ctworkflow.persistence.tables import (
    ComponentRow,
    SessionRow,
    utcnow,
)

#: Children written per statement (an executemany of new children, an UPDATE of a round's):
#: the work and memory of one statement stay the same however wide the round.
INSERT_ROWS = 1000


#: A round that adds this many children refreshes the planner's statistics of the sessions.
ANALYZE_AFTER_ROWS = 1000
#: How long that refresh waits for another one (or autovacuum) before it lets autovacuum do it.
ANALYZE_LOCK_TIMEOUT = "100ms"


def refresh_statistics(db: orm.Session) -> None:
    """``ANALYZE`` the sessions and the components on PostgreSQL, giving up at once if
    another holds a table's statistics lock.

    Statistics taken before a round was written say the project has a few sessions, so the
    planner reads a child by its (account, project, status) index instead of its primary
    key, which scans every active sibling: each of a child's dozen lookups then grew with
    the round, 35 ms a child at 1,000 and 50 ms at 10,000, until autovacuum analyzed the
    table (``python -m tests.benchmarks.width_probe --young-statistics``); a child's
    component, read by key too, fares the same after discovery added thousands. The round's
    own inserts count in the sample (PostgreSQL counts the running transaction's rows).
    """
    if db.get_bind().dialect.name != "postgresql":
        return
    try:
        with db.begin_nested():
            db.execute(sa.text(f"SET LOCAL lock_timeout = '{ANALYZE_LOCK_TIMEOUT}'"))
            db.execute(sa.text("ANALYZE sessions, components"))
            db.execute(sa.text("SET LOCAL lock_timeout = DEFAULT"))
    except sa_exc.OperationalError:  # the lock was busy: autovacuum will analyze it
        return


class Children(StoreBase):
    """Child sessions of a parent."""

    def children(self, scope: model.Scope, parent_id: uuid.UUID) -> list[model.Session]:
        """Child sessions of a parent, in their components' order (priority, then name)."""
        query = (
            sa.select(SessionRow)
            .join(ComponentRow, ComponentRow.id == SessionRow.component_id)
            .where(SessionRow.parent_id == parent_id, rows.in_scope(SessionRow, scope))
            .order_by(ComponentRow.priority.desc(), ComponentRow.name, ComponentRow.module_name)
        )
        return [rows.session(r) for r in self.db.scalars(rows.streamed(query))]

    def round_children(self, scope: model.Scope, parent_id: uuid.UUID) -> list[model.RoundChild]:
        """The children of a parent as a round reads them (status and why), in the same order
        as :meth:`children`, without building a session, its state or an ORM object each."""
        permanent = SessionRow.state[PERMANENT_FAILURE].as_string()
        query = (
            sa.select(
                SessionRow.id,
                SessionRow.component_id,
                SessionRow.status,
                SessionRow.error,
                permanent.label("permanent_failure"),
            )
            .join(ComponentRow, ComponentRow.id == SessionRow.component_id)
            .where(SessionRow.parent_id == parent_id, rows.in_scope(SessionRow, scope))
            .order_by(ComponentRow.priority.desc(), ComponentRow.name, ComponentRow.module_name)
        )
        return [rows.round_child(r) for r in self.db.execute(rows.streamed(query))]

    def set_children_max_attempts(
        self, scope: model.Scope, parent_id: uuid.UUID, max_attempts: int
    ) -> None:
        """Give every child of a parent the parent's budget of rounds, in one statement."""
        self.db.execute(
            sa.update(SessionRow)
            .where(SessionRow.parent_id == parent_id, rows.in_scope(SessionRow, scope))
            .values(max_attempts=max_attempts)
        )

    def add_children(
        self, parent: model.Session, component_ids: Sequence[uuid.UUID], **values: Any
    ) -> None:
        """Insert one child per component in one statement; existing children are kept."""
        if not component_ids:
            return
        now = utcnow()
        insert = (
            rows.upsert_ignoring(self.db, SessionRow)
            .on_conflict_do_nothing(index_elements=["parent_id", "component_id"])
            .returning(SessionRow.id)
        )
        inserted = 0
        # One executemany per batch, its rows built as it goes: never the whole round's
        # records (and a multi-row statement of thousands of parameters) at once.
        for batch in rows.batches(component_ids, INSERT_ROWS):
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
                for component_id in batch
            ]
            inserted += len(self.db.execute(insert, records).all())
        if inserted >= ANALYZE_AFTER_ROWS:
            refresh_statistics(self.db)

    def start_round(
        self,
        scope: model.Scope,
        attempt: int,
        *,
        session_ids: Sequence[uuid.UUID],
        states: Mapping[uuid.UUID, StatePatch],
    ) -> None:
        """Set ``attempt`` on many sessions in one statement, and merge the ``states`` given
        into theirs (one executemany per set of keys the patches name)."""
        now = utcnow()
        for batch in rows.batches(session_ids, INSERT_ROWS):
            self.db.execute(
                sa.update(SessionRow)
                .where(SessionRow.id.in_(batch), rows.in_scope(SessionRow, scope))
                .values(attempt=attempt, updated_at=now)
            )
        table = cast(sa.Table, SessionRow.__table__)
        dialect = self.db.get_bind().dialect.name
        alike: dict[tuple[frozenset[str], frozenset[str]], list[uuid.UUID]] = {}
        for session_id, patch in states.items():
            shape = (frozenset(patch.assignments()), patch.removals())
            alike.setdefault(shape, []).append(session_id)
        for session_ids_alike in alike.values():
            merged, _ = state_merge.merged(table.c.state, dialect, states[session_ids_alike[0]])
            self.db.execute(
                sa.update(table)
                .where(
                    table.c.id == sa.bindparam("session_id"),
                    table.c.account_id == scope.account_id,
                    table.c.project_id == scope.project_id,
                )
                .values(state=merged),
                [
                    {"session_id": i, **state_merge.merged(table.c.state, dialect, states[i])[1]}
                    for i in session_ids_alike
                ],
            )
