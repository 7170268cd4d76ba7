"""What the parts of :class:`~ctworkflow.persistence.session_store.SessionStore` share: the
database session and the scope checks of rows that belong to a session."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from ctworkflow.domain import model
from ctworkflow.persistence import rows
from ctworkflow.persistence.tables import (
    ArtifactRow,
    InteractionRow,
    SessionRow,
)


class StoreBase:
    """One unit of work's database session."""

    def __init__(self, db: orm.Session) -> None:
        self.db = db

    def _owned(self, scope: model.Scope, session_ids: Sequence[uuid.UUID]) -> sa.Select[Any]:
        """Those of ``session_ids`` that are in scope.

        A lookup by primary key: filtering on every session of the project instead let
        PostgreSQL's planner, on young statistics, compare each row with each session.
        """
        return sa.select(SessionRow.id).where(
            SessionRow.id.in_(session_ids), rows.in_scope(SessionRow, scope)
        )

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
