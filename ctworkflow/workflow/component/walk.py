"""The walk of a component run through its routing table
(:func:`~ctworkflow.domain.routing.get_next_child_interaction`): each step the router
names is noted as an interaction in the run's journal, run, and its outcome fed back to the
router."""

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
            permanent=outcome.permanent,
        )


def _record(run: WorkspaceRun, route: Next) -> model.Outcome:
    """Run one step as an interaction of the child: begun, run, completed (in the journal,
    which the lease's renewals and the run's end write)."""
    step = str(route.step)
    attempt = run.job.attempt_bases.get(step, 0) + route.attempt
    run.deps.progress(step, attempt)
    interaction = run.journal.begin(step, attempt, model.Command(keyword=step))
    command, outcome = _execute(run, ChildStep(route.step))
    run.journal.complete(interaction, outcome, command=command)
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
