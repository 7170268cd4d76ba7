"""What the reconciler does for one session that may have stopped moving. Pure.

The database says where each session stands; the broker only carries wake-ups, and a wake-up
can be lost (a worker killed with its prefetched messages, Redis restarted, a chord counter
gone). A session that has sat still for ``stale_s`` is re-driven: its due step is sent again,
its lost component runs are sent again, or its round is validated outside the chord. Every
step is idempotent, so re-driving one that was merely slow costs time, never correctness.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ctworkflow.domain.routing import Completed, Halt, get_next_interaction
from ctworkflow.domain.states import ParentStep, SessionStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingStep:
    """A parent step that began and has no outcome yet."""

    step: ParentStep
    attempt: int
    #: Spawn only: whether it recorded the children it fanned out.
    fanned_out: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildView:
    """A child session as recovery sees it."""

    id: uuid.UUID
    status: SessionStatus
    #: Nobody holds its lease (never taken, released, expired, or its holder is gone).
    lease_free: bool
    #: Seconds since the child last changed.
    idle_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionView:
    """An active context session: where it stands and how long it has been still."""

    max_attempts: int
    #: Seconds since anything happened to the session (step begun or ended, re-driven).
    idle_s: float
    #: Its next step could not be sent when it was due (the broker was down): send it now.
    queued: bool = False
    pending: PendingStep | None
    last: Completed | None
    children: Sequence[ChildView] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStep:
    """Send a parent step (again)."""

    step: ParentStep
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RunChild:
    """Send a component run of the round (again), outside its chord."""

    child_id: uuid.UUID
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Validate:
    """Validate the round outside its chord: every child ended, but no verdict came."""

    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Conclude:
    """The router halts: end the session (complete or failed) now."""


Action = RunStep | RunChild | Validate | Conclude


def plan(view: SessionView, *, stale_s: float, backoff_s: Callable[[int], float]) -> list[Action]:
    """The actions that move a still session on; empty if it is moving or not yet stale."""
    if view.pending is None:
        route = get_next_interaction(view.last, max_attempts=view.max_attempts)
        if isinstance(route, Halt):
            return [Conclude()]
        assert isinstance(route.step, ParentStep)
        due = backoff_s(route.attempt) + stale_s
        if view.queued or view.idle_s >= due:
            return [RunStep(step=route.step, attempt=route.attempt)]
        return []
    pending = view.pending
    if pending.step is not ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS or not pending.fanned_out:
        if view.idle_s >= stale_s:
            return [RunStep(step=pending.step, attempt=pending.attempt)]
        return []
    return _round(view.children, pending.attempt, stale_s)


def _round(children: Sequence[ChildView], attempt: int, stale_s: float) -> list[Action]:
    running = [c for c in children if c.status is SessionStatus.ACTIVE]
    if running:
        return [
            RunChild(child_id=c.id, attempt=attempt)
            for c in running
            if c.lease_free and c.idle_s >= stale_s
        ]
    quiet = min((c.idle_s for c in children), default=stale_s)
    return [Validate(attempt=attempt)] if quiet >= stale_s else []
