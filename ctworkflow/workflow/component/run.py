"""A component testing session: one round of write tests → run → fix (bounded) → finalize.

Run as a chord header task: it never raises. Every failure is recorded on the child session
and returned as data, so the chord's callback always fires. The run claims its child in one
transaction (:mod:`.claim`: its job, the lease, what an interrupted run left open), walks the
steps in a workspace of the base commit (:mod:`.walk`, :mod:`.steps`), noting them in the
lease's journal, and records how it ended in one more transaction (:func:`_end`). A child that
runs longer than the lease's check interval also writes its journal with each renewal.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TypedDict

from ctworkflow import errors, logs
from ctworkflow.domain import flakiness, model, rounds
from ctworkflow.domain.routing import Halt
from ctworkflow.domain.states import SessionStatus
from ctworkflow.workflow import environment, leasing, test_files
from ctworkflow.workflow.component import workspace
from ctworkflow.workflow.component.claim import Busy, claim
from ctworkflow.workflow.component.job import Job, with_paths
from ctworkflow.workflow.component.patience import patiently
from ctworkflow.workflow.component.walk import walk
from ctworkflow.workflow.deps import Deps

logger = logging.getLogger(__name__)

#: How often a running child asks the database whether to go on (cancelled? lease taken?).
STOP_CHECK_INTERVAL_S = 2.0


class ChildResult(TypedDict):
    """What a component run returns to the chord: small, JSON, secret-free."""

    child_id: str
    status: str
    reason: str | None


def run_component(scope: model.Scope, child_id: uuid.UUID, attempt: int, deps: Deps) -> ChildResult:
    """Run round ``attempt`` of a component testing session; never raises."""
    lease: leasing.RunLease | None = None
    try:
        claimed = claim(scope, child_id, attempt, deps, check_interval_s=STOP_CHECK_INTERVAL_S)
        if isinstance(claimed, model.Session):
            return _result(claimed)
        if isinstance(claimed, Busy):
            return ChildResult(
                child_id=str(child_id),
                status=SessionStatus.ACTIVE,
                reason=f"round {attempt} is running in another worker ({claimed.owner})",
            )
        job, lease = claimed.job, claimed.lease
        logs.bind(component=job.component.module_name, parent_session_id=str(job.child.parent_id))
        logger.info(
            "component %s round %s: running",
            job.component.module_name,
            attempt,
            extra={"action": "run_component"},
        )
        ended = _record(deps, job, lease, attempt, _run(job, deps, lease))
        logger.info(
            "component %s round %s: %s",
            job.component.module_name,
            attempt,
            ended["status"],
            extra={"action": "component_ended", "status": ended["status"]},
        )
        return ended
    except Exception as error:  # the chord must always get an answer
        logger.exception(
            "component run failed", extra={"action": "run_component", "session_id": str(child_id)}
        )
        reason = f"internal error: {type(error).__name__}: {error}"
        _record_failure(deps, scope, child_id, lease, reason)
        return ChildResult(child_id=str(child_id), status=SessionStatus.FAILED, reason=reason)


def _record_failure(
    deps: Deps,
    scope: model.Scope,
    child_id: uuid.UUID,
    lease: leasing.RunLease | None,
    reason: str,
) -> None:
    """Fail the child of a run that raised, with the steps it did (best effort)."""
    try:
        with deps.transactions() as uow:
            if lease is not None:
                if not uow.sessions.release_lease(scope, child_id, owner=lease.owner):
                    return  # another run took over: it records the child
                lease.journal.close_pending(reason)
                lease.journal.write(uow)
            uow.sessions.set_status(
                scope,
                [child_id],
                expected=SessionStatus.ACTIVE,
                target=SessionStatus.FAILED,
                error=reason,
            )
    except Exception:
        logger.exception("could not record the failure of %s", child_id)


def _result(child: model.Session) -> ChildResult:
    return ChildResult(child_id=str(child.id), status=child.status.value, reason=child.error)


@dataclass(frozen=True, slots=True)
class Ending:
    """How a walk ended: where the router halted, why, and the test file it leaves."""

    route: Halt
    error: str | None
    #: The test file's content, at ``test_path``, and its last report (None: no artifact).
    content: str | None = None
    test_path: str = ""
    report: model.TestReport | None = None


def _run(job: Job, deps: Deps, lease: leasing.RunLease) -> Ending | None:
    """With the lease held: walk the steps in a workspace of the base commit, in the target's
    environment; how it ended (None: it was told to stop)."""
    should_stop = lease.should_stop
    try:
        agent = deps.agent(job.child.agent, job.project)
        runner = deps.runner(job.project, job.runner)
    except errors.InvalidInput as error:
        return Ending(Halt.ATTEMPTS_EXHAUSTED, str(error))
    deps.git.mirror(job.project.code_repo, need=job.base_commit)
    try:
        job = with_paths(job, deps)
    except errors.InvalidInput as error:
        return Ending(Halt.ATTEMPTS_EXHAUSTED, str(error))
    with deps.git.workspace(job.project.code_repo, job.base_commit) as folder:
        try:
            with environment.prepared(
                deps,
                job.project,
                job.recipe or environment.recipe_for(job.project, folder),
                job.profile,
                folder,
                should_stop=should_stop,
            ) as ready:
                run = workspace.start(job, deps, agent, runner, folder, lease, ready)
                route = walk(run)
                content, refused = test_files.read_artifact(
                    folder, job.test_path, deps.settings, run.report
                )
        except errors.EnvironmentUnavailable as error:  # built on another host, not here
            reason = f"the target's environment cannot be built on this worker: {error}"
            return Ending(Halt.PERMANENT_FAILURE, reason)
    if refused is not None and route is Halt.SESSION_COMPLETE:
        route, run.last_error = Halt.ATTEMPTS_EXHAUSTED, refused
    if should_stop():
        return None
    return Ending(route, run.last_error, content, job.test_path, run.report)


def _record(
    deps: Deps, job: Job, lease: leasing.RunLease, attempt: int, ending: Ending | None
) -> ChildResult:
    """Record how the run ended, in one transaction, waiting out a database restart rather
    than losing the work."""
    if ending is None:
        return patiently(deps, lambda: _stopped(deps, job, lease), "recording the stop")
    return patiently(deps, lambda: _end(deps, job, lease, attempt, ending), "recording the run")


def _stopped(deps: Deps, job: Job, lease: leasing.RunLease) -> ChildResult:
    """Give the lease back after a stop: a cancelled run (the lease still its own) keeps the
    steps it did; a run another delivery took over records nothing."""
    scope, child_id = job.scope, job.child.id
    with deps.transactions() as uow:
        if uow.sessions.release_lease(scope, child_id, owner=lease.owner):
            lease.journal.write(uow)
        return _result(uow.sessions.get_session(scope, child_id))


def _end(
    deps: Deps, job: Job, lease: leasing.RunLease, attempt: int, ending: Ending
) -> ChildResult:
    """Record how the run ended: the lease given back, the steps of its journal not written
    yet, its artifact, state and status. Nothing if another run took over."""
    scope, child_id = job.scope, job.child.id
    route, error, content, report = ending.route, ending.error, ending.content, ending.report
    lease.journal.close_pending(error or "the run ended while this step ran")
    with deps.transactions() as uow:
        if not uow.sessions.release_lease(scope, child_id, owner=lease.owner):
            return _result(uow.sessions.get_session(scope, child_id))  # another run took over
        lease.journal.write(uow)
        if content is not None:
            uow.sessions.add_artifact(
                scope,
                child_id,
                attempt=attempt,
                test_path=ending.test_path,
                content=content,
                digest=test_files.digest(content),
                report=(report or model.TestReport()).to_json(),
            )
        # A failed run's error already names its flaky tests; a passed one says what it dropped.
        passed = report is not None and route is Halt.SESSION_COMPLETE
        notes = flakiness.feedback(ending.test_path, report.flaky) if report and passed else None
        end = rounds.end_of_run(route, error, job.child.state, notes)
        status, reason = end.status, end.reason
        if end.state != job.child.state:
            uow.sessions.update_session(
                scope, child_id, only_if=SessionStatus.ACTIVE, state=end.patch
            )
        moved = uow.sessions.set_status(
            scope, [child_id], expected=SessionStatus.ACTIVE, target=status, error=reason
        )
        if moved:
            return ChildResult(child_id=str(child_id), status=status.value, reason=reason)
        return _result(uow.sessions.get_session(scope, child_id))  # cancelled meanwhile
