"""Artifacts: the test file a component session kept, one per (session, attempt)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.testing.store.base import RecordsBase
from ctworkflow.testing.store.tables import in_scope


class Artifacts(RecordsBase):
    """One artifact per (session, attempt)."""

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
        if not self._owned(scope, session_id):
            raise errors.SessionNotFound(session_id)
        if (session_id, attempt) in self._t.artifacts:
            return False
        self._t.artifacts[(session_id, attempt)] = model.Artifact(
            id=uuid.uuid4(),
            session_id=session_id,
            attempt=attempt,
            test_path=test_path,
            content=content,
            digest=digest,
            report=model.TestReport.from_json(report),
            created_at=self._clock.now(),
        )
        return True

    def latest_artifacts(
        self, scope: model.Scope, session_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, model.Artifact]:
        newest: dict[uuid.UUID, model.Artifact] = {}
        for (session_id, attempt), artifact in sorted(self._t.artifacts.items()):
            wanted = session_id in session_ids and self._owned(scope, session_id)
            if wanted and (session_id not in newest or newest[session_id].attempt < attempt):
                newest[session_id] = artifact
        return newest

    def round_artifact_heads(
        self, scope: model.Scope, parent_id: uuid.UUID
    ) -> dict[uuid.UUID, model.ArtifactHead]:
        children = [
            s.id
            for s in self._t.sessions.values()
            if s.parent_id == parent_id and in_scope(scope, s)
        ]
        newest = self.latest_artifacts(scope, children)
        return {session_id: artifact.head for session_id, artifact in newest.items()}

    def artifact_contents(
        self, scope: model.Scope, artifact_ids: Sequence[uuid.UUID]
    ) -> Iterator[tuple[uuid.UUID, str]]:
        wanted = set(artifact_ids)
        for artifact in list(self._t.artifacts.values()):
            if artifact.id in wanted and self._owned(scope, artifact.session_id):
                yield artifact.id, artifact.content
