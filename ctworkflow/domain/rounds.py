"""Which components a fan-out round runs, and whether another round can change anything.

Pure. A component whose run failed *permanently* (its failure is an
:class:`~ctworkflow.errors.ComponentFailure`: a missing or unparsable source file, a module
that cannot be imported in the target's environment, a write outside the allowed set) failed
for a reason no further round can change, so no later round runs it again. The other
components still get their rounds: their verdicts are worth having (the session's report then
says, per component, what passes and what can still be fixed) and they are kept for a retry.
But once every failure left is permanent, no round can change the outcome, and the session
fails at once instead of spending the rounds that remain.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ctworkflow.domain.model import Command, RoundChild
from ctworkflow.domain.routing import Halt
from ctworkflow.domain.session_state import SessionState, StatePatch
from ctworkflow.domain.states import SessionStatus


class _Judged(Protocol):
    @property
    def permanent(self) -> bool: ...


def to_run(children: Sequence[RoundChild]) -> list[RoundChild]:
    """The children a round runs: every one not complete (validation fails the children it
    did not pass), never one that failed permanently."""
    return [
        child
        for child in children
        if child.status is not SessionStatus.COMPLETE and not child.failed_permanently
    ]


def another_round_helps(failures: Sequence[_Judged]) -> bool:
    """Tell whether a further round could change a failed round's outcome."""
    return any(not failure.permanent for failure in failures)


def feedback(state: SessionState) -> str | None:
    """What the previous round said was wrong with a child, and what its last run dropped,
    if they said anything."""
    said = [text for text in (state.feedback, state.notes) if text]
    return "\n\n".join(said) if said else None


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundPlan:
    """What a fan-out round changes before its children run."""

    #: The children the round runs (:func:`to_run`).
    run: list[RoundChild]
    #: Those of them to move back to ``active``, by the status they are in.
    reactivate: dict[SessionStatus, list[uuid.UUID]]
    #: What changes in the states of those handed feedback; the others keep theirs.
    states: dict[uuid.UUID, StatePatch]


def plan_round(children: Sequence[RoundChild], failures: Mapping[uuid.UUID, str]) -> RoundPlan:
    """Who runs this round, and the feedback each gets: the reason the previous round's
    validation gave (``failures``, by child id), else the error the child itself ended with."""
    run = to_run(children)
    reactivate: dict[SessionStatus, list[uuid.UUID]] = {}
    states: dict[uuid.UUID, StatePatch] = {}
    for child in run:
        if child.status is not SessionStatus.ACTIVE:
            reactivate.setdefault(child.status, []).append(child.id)
        reason = failures.get(child.id) or child.error
        if reason:
            states[child.id] = StatePatch(feedback=reason)
    return RoundPlan(run=run, reactivate=reactivate, states=states)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEnd:
    """How a component run ends: the child's status, why, its state from now on, and the
    patch that makes it so."""

    status: SessionStatus
    reason: str | None
    state: SessionState
    patch: StatePatch


def end_of_run(
    route: Halt, error: str | None, state: SessionState, notes: str | None = None
) -> RunEnd:
    """The end of a component run that halted with ``route`` (its last error ``error``).

    A permanent failure is marked in the state, so no later round runs the child again; any
    other end clears that mark. ``notes`` (what the run dropped) replace the last run's.
    """
    if route is Halt.SESSION_COMPLETE:
        status, reason = SessionStatus.COMPLETE, None
    else:
        status, reason = SessionStatus.FAILED, error or route.value
    permanent = reason if route is Halt.PERMANENT_FAILURE else None
    patch = StatePatch(notes=notes or None, permanent_failure=permanent)
    return RunEnd(status=status, reason=reason, state=patch.apply(state), patch=patch)


@dataclass(frozen=True, slots=True, kw_only=True)
class FanOutRecord:
    """What a spawn step's command records once its round is chosen: every child of the
    context, and the ones this round runs. A spawn without it has not fanned out yet."""

    child_ids: list[uuid.UUID]
    run_ids: list[uuid.UUID]

    def command(self) -> Command:
        """The spawn step's command carrying this record."""
        return Command(
            keyword="spawn_sessions",
            metadata={
                "child_session_ids": [str(i) for i in self.child_ids],
                "run_session_ids": [str(i) for i in self.run_ids],
            },
        )

    @classmethod
    def from_command(cls, command: Command) -> FanOutRecord | None:
        """The record a spawn step's command carries; None before it fanned out."""
        metadata = command.metadata
        if "run_session_ids" not in metadata:
            return None
        return cls(
            child_ids=[uuid.UUID(str(i)) for i in metadata.get("child_session_ids", [])],
            run_ids=[uuid.UUID(str(i)) for i in metadata["run_session_ids"]],
        )
