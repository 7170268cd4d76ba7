"""The walk of a component run through its routing table
(:func:`~ctworkflow.domain.routing.get_next_child_interaction`): each step the router
names is recorded as an interaction, run, and its outcome fed back to the router."""

from __future__ import annotations

from ctworkflow.domain import model
from ctworkflow.domain.routing import Completed, Halt, Next, get_next_child_interaction
from ctworkflow.domain.states import ChildStep, ResultStatus
from ctworkflow.workflow.component import steps
from ctworkflow.workflow.component.workspace import WorkspaceRun


def walk(run: WorkspaceRun) -> Halt:
    """Run the steps the router names until it halts (or the run is told to stop)."""
    settings = run.deps.settings
    last: Completed | None = None
    while True:
        route = get_next_child_interaction(
            last, max_attempts=settings.max_attempts, max_fix_rounds=settings.max_fix_rounds
        )
        if isinstance(route, Halt) or run.should_stop():
            return route if isinstance(route, Halt) else Halt.ATTEMPTS_EXHAUSTED
        outcome = _record(run, route)
        if outcome.status is ResultStatus.ERROR:
            run.last_error = outcome.error_message
        last = Completed(
            step=route.step,
            status=outcome.status,
            attempt=route.attempt,
            permanent=outcome.data.get("permanent") is True,
        )


def _record(run: WorkspaceRun, route: Next) -> model.Outcome:
    """Run one step as an interaction of the child: begun, run, completed."""
    step = str(route.step)
    attempt = run.job.attempt_bases.get(step, 0) + route.attempt
    scope, child_id = run.job.scope, run.job.child.id
    run.deps.progress(step, attempt)
    if route.step is ChildStep.INITIALIZE and not run.job.test_exists:
        # Nothing runs outside the database: begin and complete it in one transaction.
        command, outcome = _execute(run, ChildStep.INITIALIZE)
        with run.deps.transactions() as uow:
            interaction = uow.sessions.begin_interaction(
                scope, child_id, step=step, attempt=attempt, command=command
            )
            uow.sessions.complete_interaction(scope, interaction, outcome)
        return outcome
    with run.deps.transactions() as uow:
        interaction = uow.sessions.begin_interaction(
            scope, child_id, step=step, attempt=attempt, command=model.Command(keyword=step)
        )
    command, outcome = _execute(run, ChildStep(route.step))
    with run.deps.transactions() as uow:
        uow.sessions.complete_interaction(scope, interaction, outcome, command=command)
    return outcome


def _execute(run: WorkspaceRun, step: ChildStep) -> steps.Done:
    match step:
        case ChildStep.INITIALIZE:
            return steps.initialize(run)
        case ChildStep.GENERATE_TESTS | ChildStep.FIX_FAILURES:
            return steps.write_tests(run)
        case ChildStep.RUN_TESTS:
            return steps.run_tests(run)
        case ChildStep.FINALIZE:
            return steps.check_changes(run)
