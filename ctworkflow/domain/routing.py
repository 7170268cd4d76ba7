"""Routing of sessions: given the last completed interaction, which step comes next.

Pure functions: the Celery tasks consult them and never hard-code what follows a step. A route
is either :class:`Next` (run this step, as this attempt) or a :class:`Halt` reason, the Python
form of the seed's ``{:ok, module} | {:error, :session_complete | :invalid_interaction}``.

Parent (context testing) table::

    last completed        result   next
    none                           initialize, attempt 1
    initialize            ok       spawn_component_testing_sessions, attempt 1
    initialize            error    initialize, attempt + 1 (*)
    spawn (validation)    ok       finalize, attempt 1
    spawn (validation)    error    spawn, attempt + 1 (*)
    finalize              ok       session_complete
    finalize              error    finalize, attempt + 1 (*)
    anything else                  invalid_interaction

    (*) while attempts remain (attempt < max_attempts), else attempts_exhausted

Child (component testing) table: initialize → generate_tests → run_tests → finalize, each
retried on error while attempts remain; a failing ``run_tests`` (attempt n) goes to
``fix_failures`` (attempt n) while n ≤ ``max_fix_rounds``, and a finished fix goes back to
``run_tests`` (attempt n + 1). A fix that could not run at all ends the session. A step
that failed *permanently* (a failure no try can change, see :mod:`ctworkflow.domain.rounds`)
ends it at once: ``permanent_failure``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ctworkflow.domain.states import ChildStep, ParentStep, ResultStatus

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_MAX_FIX_ROUNDS = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed:
    """The last completed interaction of a session, as routing sees it."""

    step: str
    status: ResultStatus
    attempt: int = 1
    #: The step failed for a reason no further try can change.
    permanent: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Next:
    """Run ``step`` next, as its ``attempt``-th attempt."""

    step: ParentStep | ChildStep
    attempt: int = 1


class Halt(StrEnum):
    """Why no step comes next."""

    SESSION_COMPLETE = "session_complete"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    INVALID_INTERACTION = "invalid_interaction"
    PERMANENT_FAILURE = "permanent_failure"


Route = Next | Halt


def steps() -> tuple[ParentStep, ...]:
    """Return the steps of a context testing session, in order."""
    return tuple(ParentStep)


def child_steps() -> tuple[ChildStep, ...]:
    """Return the steps of a component testing session, in order."""
    return tuple(ChildStep)


def _retry_or_halt(step: ParentStep | ChildStep, attempt: int, max_attempts: int) -> Route:
    return (
        Next(step=step, attempt=attempt + 1) if attempt < max_attempts else Halt.ATTEMPTS_EXHAUSTED
    )


def get_next_interaction(
    last: Completed | None, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> Route:
    """Route a context testing session (see the module's table)."""
    if last is None:
        return Next(step=ParentStep.INITIALIZE)
    try:
        step = ParentStep(last.step)
    except ValueError:
        return Halt.INVALID_INTERACTION
    if last.status is not ResultStatus.OK:
        return _retry_or_halt(step, last.attempt, max_attempts)
    match step:
        case ParentStep.INITIALIZE:
            return Next(step=ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS)
        case ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS:
            return Next(step=ParentStep.FINALIZE)
        case ParentStep.FINALIZE:
            return Halt.SESSION_COMPLETE


def get_next_child_interaction(
    last: Completed | None,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    max_fix_rounds: int = DEFAULT_MAX_FIX_ROUNDS,
) -> Route:
    """Route a component testing session (see the module's docstring)."""
    if last is None:
        return Next(step=ChildStep.INITIALIZE)
    try:
        step = ChildStep(last.step)
    except ValueError:
        return Halt.INVALID_INTERACTION
    ok = last.status is ResultStatus.OK
    if last.permanent and not ok:
        return Halt.PERMANENT_FAILURE
    match step:
        case ChildStep.RUN_TESTS if not ok:
            if last.attempt <= max_fix_rounds:
                return Next(step=ChildStep.FIX_FAILURES, attempt=last.attempt)
            return Halt.ATTEMPTS_EXHAUSTED
        case ChildStep.FIX_FAILURES:
            return (
                Next(step=ChildStep.RUN_TESTS, attempt=last.attempt + 1)
                if ok
                else Halt.ATTEMPTS_EXHAUSTED
            )
        case _ if not ok:
            return _retry_or_halt(step, last.attempt, max_attempts)
        case ChildStep.INITIALIZE:
            return Next(step=ChildStep.GENERATE_TESTS)
        case ChildStep.GENERATE_TESTS:
            return Next(step=ChildStep.RUN_TESTS)
        case ChildStep.RUN_TESTS:
            return Next(step=ChildStep.FINALIZE)
        case ChildStep.FINALIZE:
            return Halt.SESSION_COMPLETE
