"""The small summary of a session that the status task, the webhooks and the HTTP API share.

One definition, so a backend reading ``ctworkflow.get_session``'s result, a webhook body or
``GET /v1/projects/{project}/sessions/{id}`` finds the same fields with the same meaning.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from ctworkflow.domain import landing, model
from ctworkflow.domain.states import SessionStatus
from ctworkflow.services.session_views import SessionDetails


class Progress(BaseModel):
    """How many component sessions there are, by status; ``done`` counts the ended ones."""

    model_config = ConfigDict(frozen=True)

    total: int
    done: int
    active: int
    complete: int
    failed: int
    cancelled: int

    @classmethod
    def of(cls, children: Iterable[model.Session]) -> Progress:
        counts = dict.fromkeys(SessionStatus, 0)
        for child in children:
            counts[child.status] += 1
        total = sum(counts.values())
        return cls(
            total=total,
            done=total - counts[SessionStatus.ACTIVE],
            **{status.value: n for status, n in counts.items()},
        )


class LandedOut(BaseModel):
    """A component whose test file landed on the branch."""

    model_config = ConfigDict(frozen=True)

    module_name: str
    name: str
    test_path: str | None


class FailedOut(BaseModel):
    """A component whose tests did not land, and why."""

    model_config = ConfigDict(frozen=True)

    module_name: str
    name: str
    reason: str


class OutcomeOut(BaseModel):
    """What an ended session left (:mod:`ctworkflow.domain.landing`): ``partial`` is true when
    it completed with some components failed (the project's ``finalize: passing``)."""

    model_config = ConfigDict(frozen=True)

    partial: bool
    landed: list[LandedOut]
    failed: list[FailedOut]

    @classmethod
    def of(cls, details: SessionDetails) -> OutcomeOut | None:
        """The outcome of ``details``'s session; None while it runs or once cancelled."""
        found = landing.outcome_of(
            details.session, details.children, details.components, details.artifacts
        )
        return None if found is None else cls.model_validate(found.to_json())


class SessionSummary(BaseModel):
    """A session's outcome and where it is: status, round, branch, commit, component counts."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    account_id: uuid.UUID
    project_id: uuid.UUID
    type: str
    status: str
    context_id: uuid.UUID
    #: The context's (or component's) module name.
    context: str | None
    #: The fan-out round the session is at (0 before its first one).
    round: int
    max_rounds: int
    branch_name: str | None
    base_commit: str | None
    #: The commit the session pushed on its branch, once finalized.
    commit: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    duration_s: float
    components: Progress
    #: Which components landed and which failed, once the session ended.
    outcome: OutcomeOut | None = None

    @classmethod
    def of(cls, details: SessionDetails, now: datetime) -> SessionSummary:
        """The summary of ``details``; ``now`` ends the duration of a session still active."""
        session = details.session
        component = details.components.get(session.component_id)
        return cls(
            id=session.id,
            account_id=session.account_id,
            project_id=session.project_id,
            type=session.type.value,
            status=session.status.value,
            context_id=session.component_id,
            context=component.module_name if component else None,
            round=session.attempt,
            max_rounds=session.max_attempts,
            branch_name=session.branch_name,
            base_commit=session.base_commit,
            commit=session.pushed_commit,
            error=session.error,
            created_at=session.created_at,
            updated_at=session.updated_at,
            completed_at=session.completed_at,
            duration_s=duration_s(session, now),
            components=Progress.of(details.children),
            outcome=OutcomeOut.of(details),
        )

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-safe values (ids and times as strings)."""
        return self.model_dump(mode="json")


def duration_s(session: model.Session, now: datetime) -> float:
    """Seconds from the session's creation to its end (to ``now`` while it runs)."""
    end = (session.completed_at or session.updated_at) if session.terminal else now
    return round(max((end - session.created_at).total_seconds(), 0.0), 1)
