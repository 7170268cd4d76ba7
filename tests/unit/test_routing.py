"""The routing tables of context and component testing sessions, edge by edge."""

from __future__ import annotations

import pytest

import ctworkflow
from ctworkflow.domain.retry import RetryPolicy
from ctworkflow.domain.routing import (
    Completed,
    Halt,
    Next,
    Route,
    child_steps,
    get_next_child_interaction,
    get_next_interaction,
)
from ctworkflow.domain.states import ChildStep, ParentStep, ResultStatus

OK, ERROR = ResultStatus.OK, ResultStatus.ERROR
INIT = ParentStep.INITIALIZE
SPAWN = ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS
FINAL = ParentStep.FINALIZE


def test_steps_are_initialize_spawn_and_finalize_in_order() -> None:
    assert ctworkflow.steps() == (INIT, SPAWN, FINAL)


def test_public_get_next_interaction_is_the_pure_router() -> None:
    assert ctworkflow.get_next_interaction(None) == Next(step=INIT, attempt=1)


PARENT_ROUTES: list[tuple[Completed | None, Route]] = [
    (None, Next(step=INIT, attempt=1)),
    (Completed(step=INIT, status=OK), Next(step=SPAWN, attempt=1)),
    (Completed(step=INIT, status=ERROR, attempt=1), Next(step=INIT, attempt=2)),
    (Completed(step=INIT, status=ERROR, attempt=2), Next(step=INIT, attempt=3)),
    (Completed(step=INIT, status=ERROR, attempt=3), Halt.ATTEMPTS_EXHAUSTED),
    (Completed(step=SPAWN, status=OK, attempt=2), Next(step=FINAL, attempt=1)),
    (Completed(step=SPAWN, status=ERROR, attempt=1), Next(step=SPAWN, attempt=2)),
    (Completed(step=SPAWN, status=ERROR, attempt=2), Next(step=SPAWN, attempt=3)),
    (Completed(step=SPAWN, status=ERROR, attempt=3), Halt.ATTEMPTS_EXHAUSTED),
    (Completed(step=FINAL, status=OK), Halt.SESSION_COMPLETE),
    (Completed(step=FINAL, status=ERROR, attempt=1), Next(step=FINAL, attempt=2)),
    (Completed(step=FINAL, status=ERROR, attempt=3), Halt.ATTEMPTS_EXHAUSTED),
    (Completed(step="generate_tests", status=OK), Halt.INVALID_INTERACTION),
    (Completed(step="", status=OK), Halt.INVALID_INTERACTION),
    (Completed(step="Elixir.Finalize", status=ERROR), Halt.INVALID_INTERACTION),
]


@pytest.mark.parametrize(("last", "expected"), PARENT_ROUTES)
def test_context_session_routes_as_the_design_table_says(
    last: Completed | None, expected: Route
) -> None:
    assert get_next_interaction(last, max_attempts=3) == expected


def test_max_attempts_of_one_never_retries() -> None:
    for step in ParentStep:
        last = Completed(step=step, status=ERROR, attempt=1)
        assert get_next_interaction(last, max_attempts=1) is Halt.ATTEMPTS_EXHAUSTED


def test_component_steps_are_in_order() -> None:
    assert child_steps() == (
        ChildStep.INITIALIZE,
        ChildStep.GENERATE_TESTS,
        ChildStep.RUN_TESTS,
        ChildStep.FIX_FAILURES,
        ChildStep.FINALIZE,
    )


C = ChildStep
CHILD_ROUTES: list[tuple[Completed | None, Route]] = [
    (None, Next(step=C.INITIALIZE)),
    (Completed(step=C.INITIALIZE, status=OK), Next(step=C.GENERATE_TESTS)),
    (Completed(step=C.INITIALIZE, status=ERROR, attempt=1), Next(step=C.INITIALIZE, attempt=2)),
    (Completed(step=C.INITIALIZE, status=ERROR, attempt=3), Halt.ATTEMPTS_EXHAUSTED),
    (Completed(step=C.GENERATE_TESTS, status=OK), Next(step=C.RUN_TESTS, attempt=1)),
    (Completed(step=C.GENERATE_TESTS, status=ERROR), Next(step=C.GENERATE_TESTS, attempt=2)),
    (Completed(step=C.GENERATE_TESTS, status=ERROR, attempt=3), Halt.ATTEMPTS_EXHAUSTED),
    (Completed(step=C.RUN_TESTS, status=OK, attempt=2), Next(step=C.FINALIZE)),
    (Completed(step=C.RUN_TESTS, status=ERROR, attempt=1), Next(step=C.FIX_FAILURES, attempt=1)),
    (Completed(step=C.RUN_TESTS, status=ERROR, attempt=2), Next(step=C.FIX_FAILURES, attempt=2)),
    (Completed(step=C.RUN_TESTS, status=ERROR, attempt=3), Halt.ATTEMPTS_EXHAUSTED),
    (Completed(step=C.FIX_FAILURES, status=OK, attempt=1), Next(step=C.RUN_TESTS, attempt=2)),
    (Completed(step=C.FIX_FAILURES, status=OK, attempt=2), Next(step=C.RUN_TESTS, attempt=3)),
    (Completed(step=C.FIX_FAILURES, status=ERROR, attempt=1), Halt.ATTEMPTS_EXHAUSTED),
    (Completed(step=C.FINALIZE, status=OK), Halt.SESSION_COMPLETE),
    (Completed(step=C.FINALIZE, status=ERROR), Next(step=C.FINALIZE, attempt=2)),
    (Completed(step=C.FINALIZE, status=ERROR, attempt=3), Halt.ATTEMPTS_EXHAUSTED),
    # A failure no try can change ends the component session at once, from any step.
    (Completed(step=C.INITIALIZE, status=ERROR, permanent=True), Halt.PERMANENT_FAILURE),
    (Completed(step=C.GENERATE_TESTS, status=ERROR, permanent=True), Halt.PERMANENT_FAILURE),
    (Completed(step=C.FIX_FAILURES, status=ERROR, permanent=True), Halt.PERMANENT_FAILURE),
    (Completed(step=C.FINALIZE, status=ERROR, permanent=True), Halt.PERMANENT_FAILURE),
    (
        Completed(step=ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS, status=OK),
        Halt.INVALID_INTERACTION,
    ),
    (Completed(step="nonsense", status=ERROR), Halt.INVALID_INTERACTION),
]


@pytest.mark.parametrize(("last", "expected"), CHILD_ROUTES)
def test_component_session_routes_with_bounded_fix_rounds(
    last: Completed | None, expected: Route
) -> None:
    assert get_next_child_interaction(last, max_attempts=3, max_fix_rounds=2) == expected


def test_no_fix_rounds_means_failing_tests_end_the_component_session() -> None:
    last = Completed(step=C.RUN_TESTS, status=ERROR, attempt=1)
    assert get_next_child_interaction(last, max_fix_rounds=0) is Halt.ATTEMPTS_EXHAUSTED


@pytest.mark.parametrize(
    ("attempt", "expected"), [(1, 0.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (50, 10.0)]
)
def test_backoff_doubles_from_the_second_attempt_up_to_the_cap(
    attempt: int, expected: float
) -> None:
    policy = RetryPolicy(initial_s=2.0, cap_s=10.0, attempts=9)
    assert policy.delay_before(attempt) == expected
