"""A component testing session: one round of write tests → run → fix (bounded) → finalize.

Run as a chord header task: it never raises. Every failure is recorded on the child session
and returned as data, so the chord's callback always fires. The run loads its job
(:mod:`.job`), holds the child's lease, walks the steps in a workspace of the base commit
(:mod:`.walk`, :mod:`.steps`), and records how it ended.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import TypedDict

from ctworkflow import errors, logs
from ctworkflow.domain import flakiness, model, rounds
from ctworkflow.domain.routing import Halt
from ctworkflow.domain.states import SessionStatus
from ctworkflow.workflow import environment, leasing, test_files
from ctworkflow.workflow.component import workspace
from ctworkflow.workflow.component.job import Job, load, with_paths
from ctworkflow.workflow.component.walk import walk
from ctworkflow.workflow.deps import Deps

logger = logging.getLogger(__name__)

#: How often a running child asks the database whether to go on (cancelled? lease taken?).
STOP_CHECK_INTERVAL_S = 2.0
#: How long a finished run keeps trying to record itself while the database is unreachable.
RECORD_PATIENCE_S = 120.0


class ChildResult(TypedDict):
    """What a component run returns to the chord: small, JSON, secret-free."""

    child_id: str
    status: str
    reason: str | None


def run_component(scope: model.Scope, child_id: uuid.UUID, attempt: int, deps: Deps) -> ChildResult:
    """Run round ``attempt`` of a component testing session; never raises."""
    lease: leasing.RunLease | None = None
    try:
        job = load(scope, child_id, attempt, deps)
        if isinstance(job, model.Session):
            return _result(job)
        logs.bind(component=job.component.module_name, parent_session_id=str(job.child.parent_id))
        held = _take_lease(job, attempt, deps)
        if not isinstance(held, leasing.RunLease):
            return held
        lease = held
        logger.info(
            "component %s round %s: running",
            job.component.module_name,
            attempt,
            extra={"action": "run_component"},
        )
        ended = _run(_prepare(job, lease, deps), attempt, deps, lease)
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
        try:
            with deps.transactions() as uow:
                if lease is None or uow.sessions.release_lease(scope, child_id, owner=lease.owner):
                    uow.sessions.set_status(
                        scope,
                        [child_id],
                        expected=SessionStatus.ACTIVE,
                        target=SessionStatus.FAILED,
                        error=reason,
                    )
        except Exception:
            logger.exception("could not record the failure of %s", child_id)
        return ChildResult(child_id=str(child_id), status=SessionStatus.FAILED, reason=reason)


def _take_lease(job: Job, attempt: int, deps: Deps) -> leasing.RunLease | ChildResult:
    """Hold the child's lease, waiting up to one lease lifetime for another run to let go."""
    ttl, clock = deps.settings.lease_ttl_s, deps.clock
    deadline = clock.monotonic() + ttl + leasing.WAIT_POLL_S
    child = job.child
    while (
        lease := leasing.take(
            deps.transactions, clock, job.scope, child, ttl, check_interval_s=STOP_CHECK_INTERVAL_S
        )
    ) is None:
        if clock.monotonic() >= deadline:  # a live run has it: start no second agent
            return ChildResult(
                child_id=str(child.id),
                status=SessionStatus.ACTIVE,
                reason=f"round {attempt} is running in another worker ({child.lease_owner})",
            )
        clock.sleep(leasing.WAIT_POLL_S)
        with deps.transactions() as uow:
            child = uow.sessions.get_session(job.scope, child.id)
        if child.status is not SessionStatus.ACTIVE or child.attempt > attempt:
            return _result(child)
    if lease.worker_losses >= deps.settings.max_worker_losses:
        reason = (
            f"the run of this component was lost with its worker {lease.worker_losses} times "
            "(killed or out of memory); not running it again"
        )
        with deps.transactions() as uow:
            uow.sessions.release_lease(job.scope, child.id, owner=lease.owner)
            uow.sessions.set_status(
                job.scope,
                [child.id],
                expected=SessionStatus.ACTIVE,
                target=SessionStatus.FAILED,
                error=reason,
            )
            return _result(uow.sessions.get_session(job.scope, child.id))
    return lease


def _prepare(job: Job, lease: leasing.RunLease, deps: Deps) -> Job:
    """With the lease held: close what an interrupted run left open, number attempts on."""
    with deps.transactions() as uow:
        uow.sessions.abandon_pending(
            job.scope, job.child.id, "interrupted: the run was delivered again"
        )
        bases = uow.sessions.latest_attempts(job.scope, job.child.id)
    return dataclasses.replace(job, attempt_bases=bases)


def _result(child: model.Session) -> ChildResult:
    return ChildResult(child_id=str(child.id), status=child.status.value, reason=child.error)


def _run(job: Job, attempt: int, deps: Deps, lease: leasing.RunLease) -> ChildResult:
    """With the lease held: walk the steps in a workspace of the base commit, in the target's
    environment, then record how the run ended (unless it was told to stop)."""
    scope, child = job.scope, job.child
    should_stop = lease.should_stop
    try:
        agent = deps.agent(child.agent, job.project)
        runner = deps.runner(job.project, job.runner)
    except errors.InvalidInput as error:
        return _end(deps, job, lease, attempt, Halt.ATTEMPTS_EXHAUSTED, str(error), None, None)
    deps.git.mirror(job.project.code_repo, need=job.base_commit)
    try:
        job = with_paths(job, deps)
    except errors.InvalidInput as error:
        return _end(deps, job, lease, attempt, Halt.ATTEMPTS_EXHAUSTED, str(error), None, None)
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
                run = workspace.start(job, deps, agent, runner, folder, should_stop, ready)
                route = walk(run)
                content, refused = test_files.read_artifact(
                    folder, job.test_path, deps.settings, run.report
                )
        except errors.EnvironmentUnavailable as error:  # built on another host, not here
            reason = f"the target's environment cannot be built on this worker: {error}"
            return _end(deps, job, lease, attempt, Halt.PERMANENT_FAILURE, reason, None, None)
    if refused is not None and route is Halt.SESSION_COMPLETE:
        route, run.last_error = Halt.ATTEMPTS_EXHAUSTED, refused
    if should_stop():
        with deps.transactions() as uow:
            uow.sessions.release_lease(scope, child.id, owner=lease.owner)
            return _result(uow.sessions.get_session(scope, child.id))
    return _patiently(
        deps,
        lambda: _end(deps, job, lease, attempt, route, run.last_error, content, run.report),
    )


def _patiently(deps: Deps, record: Callable[[], ChildResult]) -> ChildResult:
    """Record a finished run, waiting out a database restart rather than losing the work."""
    delay = 0.5
    deadline = deps.clock.monotonic() + RECORD_PATIENCE_S
    while True:
        try:
            return record()
        except errors.DatabaseUnavailable:
            if deps.clock.monotonic() >= deadline:
                raise
            logger.warning("database unreachable; recording the run again in %.1fs", delay)
            deps.clock.sleep(delay)
            delay = min(delay * 2, 5.0)


def _end(
    deps: Deps,
    job: Job,
    lease: leasing.RunLease,
    attempt: int,
    route: Halt,
    error: str | None,
    content: str | None,
    report: model.TestReport | None,
) -> ChildResult:
    scope, child_id = job.scope, job.child.id
    with deps.transactions() as uow:
        if not uow.sessions.release_lease(scope, child_id, owner=lease.owner):
            return _result(uow.sessions.get_session(scope, child_id))  # another run took over
        if content is not None:
            uow.sessions.add_artifact(
                scope,
                child_id,
                attempt=attempt,
                test_path=job.test_path,
                content=content,
                digest=hashlib.sha256(content.encode()).hexdigest(),
                report=(report or model.TestReport()).to_json(),
            )
        # A failed run's error already names its flaky tests; a passed one says what it dropped.
        passed = report is not None and route is Halt.SESSION_COMPLETE
        notes = flakiness.feedback(job.test_path, report.flaky) if report and passed else None
        end = rounds.end_of_run(route, error, job.child.state, notes)
        status, reason = end.status, end.reason
        if end.state != dict(job.child.state):
            uow.sessions.update_session(
                scope, child_id, only_if=SessionStatus.ACTIVE, state=end.state
            )
        moved = uow.sessions.set_status(
            scope, [child_id], expected=SessionStatus.ACTIVE, target=status, error=reason
        )
        if moved:
            return ChildResult(child_id=str(child_id), status=status.value, reason=reason)
        return _result(uow.sessions.get_session(scope, child_id))  # cancelled meanwhile
