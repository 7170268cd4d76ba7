"""Artifacts: what a component run produced (its test file and report), one per attempt."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ctworkflow.domain import model
from ctworkflow.persistence import rows
from ctworkflow.persistence.session_store.sessions import SessionRecords
from ctworkflow.persistence.tables import (
    ArtifactRow,
    SessionRow,
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
        owned = ArtifactRow.session_id.in_(self._owned(scope, session_ids))
        found = self.db.scalars(_newest(sa.select(ArtifactRow), owned))
        return {r.session_id: rows.artifact(r) for r in found}

    def round_artifact_heads(
        self, scope: model.Scope, parent_id: uuid.UUID
    ) -> dict[uuid.UUID, model.ArtifactHead]:
        """The newest artifact of each child of ``parent_id``, without its test file or report
        (selected by the parent, not by a list of every child's id)."""
        children = sa.select(SessionRow.id).where(
            SessionRow.parent_id == parent_id, rows.in_scope(SessionRow, scope)
        )
        columns = sa.select(
            ArtifactRow.id,
            ArtifactRow.session_id,
            ArtifactRow.test_path,
            ArtifactRow.digest,
            sa.func.length(ArtifactRow.content).label("size"),
        )
        found = self.db.execute(_newest(columns, ArtifactRow.session_id.in_(children)))
        return {r.session_id: rows.artifact_head(r) for r in found}

    def artifact_contents(
        self, scope: model.Scope, artifact_ids: Sequence[uuid.UUID]
    ) -> Iterator[tuple[uuid.UUID, str]]:
        """The test files of artifacts of the scope, a page of rows at a time."""
        for page in rows.batches(artifact_ids):
            query = (
                sa.select(ArtifactRow.id, ArtifactRow.content)
                .join(SessionRow, SessionRow.id == ArtifactRow.session_id)
                .where(ArtifactRow.id.in_(page), rows.in_scope(SessionRow, scope))
            )
            for row in self.db.execute(query):
                yield row.id, row.content


def _newest(query: sa.Select[Any], sessions: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """``query`` of artifacts narrowed to the newest attempt of each of ``sessions``."""
    newest = (
        sa.select(ArtifactRow.session_id, sa.func.max(ArtifactRow.attempt).label("attempt"))
        .where(sessions)
        .group_by(ArtifactRow.session_id)
        .subquery()
    )
    return rows.streamed(query).join(
        newest,
        sa.and_(
            ArtifactRow.session_id == newest.c.session_id,
            ArtifactRow.attempt == newest.c.attempt,
        ),
    )
