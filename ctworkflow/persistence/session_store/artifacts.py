"""Artifacts: what a component run produced (its test file and report), one per attempt."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ctworkflow.domain import model
from ctworkflow.persistence import rows
from ctworkflow.persistence.session_store.sessions import SessionRecords
from ctworkflow.persistence.tables import (
    ArtifactRow,
    utcnow,
)


class Artifacts(SessionRecords):
    """The artifacts of child sessions of the scope."""

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
            rows.streamed(sa.select(ArtifactRow)).join(
                newest,
                sa.and_(
                    ArtifactRow.session_id == newest.c.session_id,
                    ArtifactRow.attempt == newest.c.attempt,
                ),
            )
        )
        return {r.session_id: rows.artifact(r) for r in found}
