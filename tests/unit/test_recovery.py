"""The reconciler's planner: what re-drives a session that stopped moving, and when."""

from __future__ import annotations

import uuid

import pytest

from ctworkflow.domain import recovery
from ctworkflow.domain.routing import Completed
from ctworkflow.domain.states import ParentStep, ResultStatus, SessionStatus

STALE = 60.0
SPAWN = ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS


def backoff(attempt: int) -> float:
    return 0.0 if attempt <= 1 else 10.0 * 2 ** (attempt - 2)


def plan(view: recovery.SessionView) -> list[recovery.Action]:
    return recovery.plan(view, stale_s=STALE, backoff_s=backoff)


def still(idle_s: float, **kwargs: object) -> recovery.SessionView:
    values: dict[str, object] = {"max_attempts": 3, "idle_s": idle_s, "pending": None}
    values.update(kwargs)
    values.setdefault("last", None)
    return recovery.SessionView(**values)  # type: ignore[arg-type]


def child(status: SessionStatus, *, free: bool = True, idle_s: float = STALE) -> recovery.ChildView:
    return recovery.ChildView(id=uuid.uuid4(), status=status, lease_free=free, idle_s=idle_s)


def test_a_session_whose_start_was_lost_is_initialized_once_stale() -> None:
    assert plan(still(STALE - 1)) == []
    assert plan(still(STALE)) == [recovery.RunStep(step=ParentStep.INITIALIZE, attempt=1)]


def test_a_session_queued_for_the_reconciler_is_sent_at_once_not_once_stale() -> None:
    # Its start could not reach the broker: the reconciler owes it its first wake-up.
    assert plan(still(0.0, queued=True)) == [
        recovery.RunStep(step=ParentStep.INITIALIZE, attempt=1)
    ]
    retried = Completed(step=SPAWN, status=ResultStatus.ERROR, attempt=3)
    assert plan(still(0.0, queued=True, last=retried, max_attempts=6)) == [
        recovery.RunStep(step=SPAWN, attempt=4)
    ]


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (Completed(step=ParentStep.INITIALIZE, status=ResultStatus.OK), SPAWN),
        (Completed(step=SPAWN, status=ResultStatus.OK), ParentStep.FINALIZE),
    ],
)
def test_the_step_after_a_completed_one_is_sent_when_its_wake_up_was_lost(
    last: Completed, expected: ParentStep
) -> None:
    assert plan(still(STALE, last=last)) == [recovery.RunStep(step=expected, attempt=1)]


def test_a_retry_round_waits_for_its_backoff_as_well_as_the_stale_period() -> None:
    failed_round = Completed(step=SPAWN, status=ResultStatus.ERROR, attempt=1)
    assert plan(still(STALE + 9, last=failed_round)) == []
    assert plan(still(STALE + 10, last=failed_round)) == [recovery.RunStep(step=SPAWN, attempt=2)]


@pytest.mark.parametrize(
    "last",
    [
        Completed(step=ParentStep.FINALIZE, status=ResultStatus.OK),
        Completed(step=SPAWN, status=ResultStatus.ERROR, attempt=3),
        Completed(step="no_such_step", status=ResultStatus.OK),
    ],
)
def test_a_session_the_router_halts_is_concluded_at_once(last: Completed) -> None:
    assert plan(still(0.0, last=last)) == [recovery.Conclude()]


@pytest.mark.parametrize("step", [ParentStep.INITIALIZE, ParentStep.FINALIZE, SPAWN])
def test_a_step_that_began_and_went_silent_is_sent_again(step: ParentStep) -> None:
    pending = recovery.PendingStep(step=step, attempt=2)
    assert plan(still(STALE - 1, pending=pending)) == []
    assert plan(still(STALE, pending=pending)) == [recovery.RunStep(step=step, attempt=2)]


def test_lost_component_runs_are_sent_again_but_never_one_that_holds_its_lease() -> None:
    lost = child(SessionStatus.ACTIVE)
    running = child(SessionStatus.ACTIVE, free=False)
    queued_recently = child(SessionStatus.ACTIVE, idle_s=STALE - 1)
    done = child(SessionStatus.COMPLETE)
    pending = recovery.PendingStep(step=SPAWN, attempt=1, fanned_out=True)

    actions = plan(still(STALE, pending=pending, children=[lost, running, queued_recently, done]))

    assert actions == [recovery.RunChild(child_id=lost.id, attempt=1)]


def test_a_round_whose_children_all_ended_without_a_verdict_is_validated() -> None:
    pending = recovery.PendingStep(step=SPAWN, attempt=2, fanned_out=True)
    ended = [child(SessionStatus.COMPLETE), child(SessionStatus.FAILED)]
    just_ended = [*ended, child(SessionStatus.COMPLETE, idle_s=1.0)]

    assert plan(still(STALE, pending=pending, children=ended)) == [recovery.Validate(attempt=2)]
    assert plan(still(STALE, pending=pending, children=just_ended)) == []
