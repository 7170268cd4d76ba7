"""A component testing session: one round of write tests → run → fix (bounded) → finalize.

Run as a chord header task: it never raises. Every failure is recorded on the child session
and returned as data, so the chord's callback always fires.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import exc as sa_exc

from ctworkflow import errors, logs
from ctworkflow.agents.base import Agent, AgentRequest, AgentResult, ExistingTests
from ctworkflow.config import Settings
from ctworkflow.domain import flakiness, layouts, model, regression, rounds
from ctworkflow.domain.environments import Recipe
from ctworkflow.domain.layout_profile import LayoutProfile
from ctworkflow.domain.layouts import is_build_output
from ctworkflow.domain.orchestrator import Completed, Halt, Next, get_next_child_interaction
from ctworkflow.domain.states import ChildStep, ResultStatus, SessionStatus
from ctworkflow.effects import nofollow, repository_layout
from ctworkflow.runners.base import Runner
from ctworkflow.workflow import environment, flaky, leasing
from ctworkflow.workflow import quality as test_quality
from ctworkflow.workflow.effects import Effects

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


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    """Everything a round needs, read once from the database."""

    scope: model.Scope
    child: model.Session
    project: model.Project
    component: model.Component
    base_commit: str
    attempt_bases: dict[str, int]
    runner: str | None
    #: The layout profile the session detected at its base commit (None: detect it again).
    profile: LayoutProfile | None = None
    #: The environment recipe the session decided at its base commit (None: decide it again).
    recipe: Recipe | None = None
    #: Set once the commit's tree was read (:func:`_with_paths`).
    test_path: str = ""
    source_path: str = ""
    #: Whether the base commit already has the test file (the agent extends it).
    test_exists: bool = False
    #: The folder the agent may add support files to, besides the test file.
    support_dir: str = ""


def run_component(
    scope: model.Scope, child_id: uuid.UUID, attempt: int, fx: Effects
) -> ChildResult:
    """Run round ``attempt`` of a component testing session; never raises."""
    lease: leasing.RunLease | None = None
    try:
        job = _load(scope, child_id, attempt, fx)
        if isinstance(job, model.Session):
            return _result(job)
        logs.bind(component=job.component.module_name, parent_session_id=str(job.child.parent_id))
        held = _take_lease(job, attempt, fx)
        if not isinstance(held, leasing.RunLease):
            return held
        lease = held
        logger.info(
            "component %s round %s: running",
            job.component.module_name,
            attempt,
            extra={"action": "run_component"},
        )
        ended = _run(_prepare(job, lease, fx), attempt, fx, lease)
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
            with fx.transactions() as uow:
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


def _take_lease(job: _Job, attempt: int, fx: Effects) -> leasing.RunLease | ChildResult:
    """Hold the child's lease, waiting up to one lease lifetime for another run to let go."""
    ttl, clock = fx.settings.lease_ttl_s, fx.clock
    deadline = clock.monotonic() + ttl + leasing.WAIT_POLL_S
    child = job.child
    while (
        lease := leasing.take(
            fx.transactions, clock, job.scope, child, ttl, check_interval_s=STOP_CHECK_INTERVAL_S
        )
    ) is None:
        if clock.monotonic() >= deadline:  # a live run has it: start no second agent
            return ChildResult(
                child_id=str(child.id),
                status=SessionStatus.ACTIVE,
                reason=f"round {attempt} is running in another worker ({child.lease_owner})",
            )
        clock.sleep(leasing.WAIT_POLL_S)
        with fx.transactions() as uow:
            child = uow.sessions.get_session(job.scope, child.id)
        if child.status is not SessionStatus.ACTIVE or child.attempt > attempt:
            return _result(child)
    if lease.worker_losses >= fx.settings.max_worker_losses:
        reason = (
            f"the run of this component was lost with its worker {lease.worker_losses} times "
            "(killed or out of memory); not running it again"
        )
        with fx.transactions() as uow:
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


def _prepare(job: _Job, lease: leasing.RunLease, fx: Effects) -> _Job:
    """With the lease held: close what an interrupted run left open, number attempts on."""
    with fx.transactions() as uow:
        uow.sessions.abandon_pending(
            job.scope, job.child.id, "interrupted: the run was delivered again"
        )
        bases = uow.sessions.latest_attempts(job.scope, job.child.id)
    return dataclasses.replace(job, attempt_bases=bases)


def _result(child: model.Session) -> ChildResult:
    return ChildResult(child_id=str(child.id), status=child.status.value, reason=child.error)


def _load(
    scope: model.Scope, child_id: uuid.UUID, attempt: int, fx: Effects
) -> _Job | model.Session:
    with fx.transactions() as uow:
        child = uow.sessions.get_session(scope, child_id)
        if child.status is not SessionStatus.ACTIVE or child.attempt > attempt:
            return child  # already ran this round (a redelivery), or cancelled
        assert child.parent_id is not None, "a component testing session has a parent"
        parent = uow.sessions.get_session(scope, child.parent_id)
        if parent.status is not SessionStatus.ACTIVE:
            uow.sessions.set_status(
                scope,
                [child.id],
                expected=SessionStatus.ACTIVE,
                target=SessionStatus.CANCELLED,
                error="parent session is no longer active",
            )
            return uow.sessions.get_session(scope, child_id)
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        component = uow.catalog.get_component(scope, child.component_id)
    assert parent.base_commit is not None, "initialize records the base commit"
    return _Job(
        scope=scope,
        child=child,
        project=project,
        component=component,
        base_commit=parent.base_commit,
        attempt_bases={},
        runner=parent.runner,
        profile=repository_layout.session_profile(parent.state, parent.base_commit),
        recipe=environment.session_recipe(parent.state),
    )


def _with_paths(job: _Job, fx: Effects) -> _Job:
    """The job with its component's paths at the base commit, its existing test file found.

    Raises:
        InvalidInput: the paths cannot be used (a symlink out of the repository, a test path
            that is a folder, a module name the layout refuses).
    """
    paths = repository_layout.component_paths(
        fx.git, job.project, job.base_commit, job.component.module_name, job.profile
    )
    return dataclasses.replace(
        job,
        source_path=paths.source,
        test_path=paths.test,
        test_exists=paths.test_exists,
        support_dir=paths.support_dir,
    )


def _run(job: _Job, attempt: int, fx: Effects, lease: leasing.RunLease) -> ChildResult:
    scope, child = job.scope, job.child
    should_stop = lease.should_stop
    try:
        agent = fx.agent(child.agent, job.project)
        runner = fx.runner(job.project, job.runner)
    except errors.InvalidInput as error:
        return _end(fx, job, lease, attempt, Halt.ATTEMPTS_EXHAUSTED, str(error), None, None)
    fx.git.mirror(job.project.code_repo, need=job.base_commit)
    try:
        job = _with_paths(job, fx)
    except errors.InvalidInput as error:
        return _end(fx, job, lease, attempt, Halt.ATTEMPTS_EXHAUSTED, str(error), None, None)
    with fx.git.workspace(job.project.code_repo, job.base_commit) as workspace:
        try:
            with environment.prepared(
                fx,
                job.project,
                job.recipe or environment.recipe_for(job.project, workspace),
                job.profile,
                workspace,
                should_stop=should_stop,
            ) as ready:
                stepper = _Stepper(job, fx, agent, runner, workspace, should_stop, ready)
                route = stepper.run()
                content, refused = _read(workspace, job.test_path, fx.settings, stepper.report)
        except errors.EnvironmentUnavailable as error:  # built on another host, not here
            reason = f"the target's environment cannot be built on this worker: {error}"
            return _end(fx, job, lease, attempt, Halt.PERMANENT_FAILURE, reason, None, None)
    if refused is not None and route is Halt.SESSION_COMPLETE:
        route, stepper.last_error = Halt.ATTEMPTS_EXHAUSTED, refused
    if should_stop():
        with fx.transactions() as uow:
            uow.sessions.release_lease(scope, child.id, owner=lease.owner)
            return _result(uow.sessions.get_session(scope, child.id))
    return _patiently(
        fx,
        lambda: _end(fx, job, lease, attempt, route, stepper.last_error, content, stepper.report),
    )


def _patiently(fx: Effects, record: Callable[[], ChildResult]) -> ChildResult:
    """Record a finished run, waiting out a database restart rather than losing the work."""
    delay = 0.5
    deadline = fx.clock.monotonic() + RECORD_PATIENCE_S
    while True:
        try:
            return record()
        except sa_exc.OperationalError:
            if fx.clock.monotonic() >= deadline:
                raise
            logger.warning("database unreachable; recording the run again in %.1fs", delay)
            fx.clock.sleep(delay)
            delay = min(delay * 2, 5.0)


class _Stepper:
    """Walks the child's routing table inside one workspace."""

    def __init__(
        self,
        job: _Job,
        fx: Effects,
        agent: Agent,
        runner: Runner,
        workspace: Path,
        should_stop: Callable[[], bool],
        ready: environment.Prepared,
    ) -> None:
        self.job, self.fx, self.agent, self.runner = job, fx, agent, runner
        self.workspace, self.should_stop = workspace, should_stop
        #: The target's environment every run of this round uses.
        self.ready = ready
        self.feedback: str | None = rounds.feedback(job.child.state)
        self.report: model.TestReport | None = None
        self.last_error: str | None = None
        #: The component's test file at the base and what it ran there, if it has one.
        self.existing: ExistingTests | None = None
        self.baseline: model.TestReport | None = None
        #: What the component's tests exercise of its source, at the base and after.
        self.gauge = test_quality.Gauge.of(
            runner=runner.name,
            project_settings=job.project.settings,
            workspace=workspace,
            paths=(job.source_path, job.test_path),
            seed=job.component.module_name,
            ready=ready,
            should_stop=should_stop,
            test_timeout_s=fx.settings.test_timeout_s,
        )

    def run(self) -> Halt:
        settings = self.fx.settings
        last: Completed | None = None
        while True:
            route = get_next_child_interaction(
                last, max_attempts=settings.max_attempts, max_fix_rounds=settings.max_fix_rounds
            )
            if isinstance(route, Halt) or self.should_stop():
                return route if isinstance(route, Halt) else Halt.ATTEMPTS_EXHAUSTED
            outcome = self._record(route)
            if outcome.status is ResultStatus.ERROR:
                self.last_error = outcome.error_message
            last = Completed(
                step=route.step,
                status=outcome.status,
                attempt=route.attempt,
                permanent=outcome.permanent,
            )

    def _record(self, route: Next) -> model.Outcome:
        step = str(route.step)
        attempt = self.job.attempt_bases.get(step, 0) + route.attempt
        scope, child_id = self.job.scope, self.job.child.id
        self.fx.progress(step, attempt)
        if route.step is ChildStep.INITIALIZE and not self.job.test_exists:
            # Nothing runs outside the database: begin and complete it in one transaction.
            command, outcome = self._execute(ChildStep.INITIALIZE)
            with self.fx.transactions() as uow:
                interaction = uow.sessions.begin_interaction(
                    scope, child_id, step=step, attempt=attempt, command=command
                )
                uow.sessions.complete_interaction(scope, interaction, outcome)
            return outcome
        with self.fx.transactions() as uow:
            interaction = uow.sessions.begin_interaction(
                scope, child_id, step=step, attempt=attempt, command=model.Command(keyword=step)
            )
        command, outcome = self._execute(ChildStep(route.step))
        with self.fx.transactions() as uow:
            uow.sessions.complete_interaction(scope, interaction, outcome, command=command)
        return outcome

    def _execute(self, step: ChildStep) -> tuple[model.Command, model.Outcome]:
        match step:
            case ChildStep.INITIALIZE:
                return self._initialize()
            case ChildStep.GENERATE_TESTS | ChildStep.FIX_FAILURES:
                return self._agent()
            case ChildStep.RUN_TESTS:
                return self._tests()
            case ChildStep.FINALIZE:
                return self._check_changes()

    def _initialize(self) -> tuple[model.Command, model.Outcome]:
        """Check the source is there; run the component's existing test file, if any, at the
        base, so what passed there can be told from what the agent's change keeps."""
        job = self.job
        # The workspace was checked out at the base before this step (a new worktree, or a
        # reused one switched to it): the step records that, not a command it did not run.
        command = model.Command(keyword="workspace", metadata={"base_commit": job.base_commit})
        data: dict[str, Any] = {"base_commit": job.base_commit, "environment": self.ready.record}
        if not (self.workspace / job.source_path).is_file():
            missing = errors.SourceMissing(f"source file {job.source_path} does not exist")
            return command, _failed(missing, data=data)
        content = None
        if job.test_exists:
            content, refused = _read(self.workspace, job.test_path, self.fx.settings, None)
            if refused is not None:
                return command, model.Outcome.error(refused, data=data)
        if content is not None:
            reports = self.runner.run(
                self.workspace,
                [job.test_path],
                timeout_s=self.fx.settings.test_timeout_s,
                should_stop=self.should_stop,
                environment=self.ready.environment,
            )
            baseline = reports.get(job.test_path, model.TestReport())
            self.baseline = baseline
            self.existing = ExistingTests(
                path=job.test_path, tests=baseline.collected, content=content
            )
            data["existing_test_file"] = {
                "path": job.test_path,
                "tests": baseline.collected,
                "passed": baseline.passed,
            }
            data["quality"] = self.gauge.at_base(baseline)
        return command, model.Outcome.ok(data=data)

    def _agent(self) -> tuple[model.Command, model.Outcome]:
        job = self.job
        result: AgentResult = self.agent.write_tests(
            AgentRequest(
                workspace=self.workspace,
                component_name=job.component.name,
                module_name=layouts.import_name(job.component.module_name),
                source_path=job.source_path,
                test_path=job.test_path,
                layout=job.project.layout,
                feedback=self.feedback,
                timeout_s=self.fx.settings.agent_timeout_s,
                should_stop=self.should_stop,
                existing=self.existing,
                env=self.ready.agent_env(self.workspace),
                uncovered=self.gauge.uncovered(),
            )
        )
        command = model.Command(
            argv=result.argv,
            keyword=None if result.argv else self.agent.name,
            metadata={"agent": self.agent.name, "test_path": job.test_path},
        )
        fields: dict[str, Any] = {
            "exit_code": result.exit_code,
            "stdout_tail": result.stdout_tail,
            "stderr_tail": result.stderr_tail,
            "data": {"duration_s": result.duration_s},
        }
        if result.usage is not None:
            fields["data"]["usage"] = result.usage.to_json()
        if result.transcript:
            fields["data"]["transcript"] = result.transcript
        if result.ok:
            return command, model.Outcome.ok(**fields)
        if result.permanent:
            fields["permanent"] = True
        return command, model.Outcome.error(result.error or "the agent failed", **fields)

    def _tests(self) -> tuple[model.Command, model.Outcome]:
        path = self.job.test_path
        reports = self.runner.run(
            self.workspace,
            [path],
            timeout_s=self.fx.settings.test_timeout_s,
            should_stop=self.should_stop,
            environment=self.ready.environment,
        )
        report = reports.get(path, model.TestReport())
        self.report = report
        command = model.Command(keyword=self.runner.name, metadata={"test_paths": [path]})
        data = report.to_json()
        lost = regression.lost_tests(self.baseline, report)
        if report.all_passed and not lost:
            checked = flaky.check(self._flaky_request(report))
            self.report, data = checked.report, checked.report.to_json()
            if checked.error is not None:
                self.feedback = checked.error
                return command, model.Outcome.error(checked.error, data=data)
            judged = self.gauge.judge(checked.report)
            self.report = self.gauge.reported(checked.report)
            if judged.failure is None:
                return command, model.Outcome.ok(data={**data, **judged.data()})
            self.feedback = judged.feedback
            return command, model.Outcome.error(
                judged.feedback or judged.failure, data={**data, **judged.data()}
            )
        reasons = []
        if lost and self.baseline is not None:
            reasons.append(regression.describe(path, lost, self.baseline))
        if not report.all_passed:
            reasons.append(
                f"{report.failed} failed, {report.errors} errors, {report.passed} passed "
                f"of {report.collected} collected"
            )
        reason = "\n".join([*reasons, report.output_tail]).rstrip()
        self.feedback = reason or "the tests did not pass"
        return command, model.Outcome.error(reason, data=data)

    def _flaky_request(self, report: model.TestReport) -> flaky.Request:
        return flaky.Request(
            runner=self.runner,
            workspace=self.workspace,
            test_path=self.job.test_path,
            report=report,
            baseline=self.baseline,
            base_content=self.existing.content if self.existing else None,
            runs=flakiness.runs_setting(self.job.project.settings),
            key=str(self.job.child.id),
            timeout_s=self.fx.settings.test_timeout_s,
            max_bytes=self.fx.settings.max_test_file_bytes,
            should_stop=self.should_stop,
            environment=self.ready.environment,
        )

    def _check_changes(self) -> tuple[model.Command, model.Outcome]:
        job = self.job
        allowed_root = f"{job.support_dir}/" if job.support_dir else None
        layout = job.project.layout
        changed = [
            p for p in self.fx.git.changed_paths(self.workspace) if not is_build_output(layout, p)
        ]
        outside = sorted(
            p
            for p in changed
            if p != job.test_path and (allowed_root is None or not p.startswith(allowed_root))
        )
        command = model.Command(keyword="check_changes", metadata={"changed": sorted(changed)})
        if outside:
            forbidden = errors.ForbiddenWrite(
                "the agent changed files outside the test directory: " + ", ".join(outside)
            )
            return command, _failed(forbidden)
        kept = (
            self.job.test_path not in changed
            and self.existing is not None
            and self.report is not None
            and self.report.all_passed
        )
        if self.job.test_path not in changed and not kept:
            return command, model.Outcome.error(f"no test file at {self.job.test_path}")
        try:
            max_bytes = self.fx.settings.max_test_file_bytes
            nofollow.check(
                self.workspace, self.job.test_path, max_bytes=max_bytes, setting=_TEST_FILE_LIMIT
            )
        except (errors.UnsafeFile, errors.LimitExceeded) as error:
            return command, model.Outcome.error(str(error))
        if kept and self.report is not None:
            # The agent kept the existing file as it was, and it passes: a valid outcome.
            summary = regression.kept_summary(self.report)
            data = {"changed": sorted(changed), "kept": True, "summary": summary}
            return command, model.Outcome.ok(data=data, stdout_tail=summary)
        return command, model.Outcome.ok(data={"changed": sorted(changed)})


def _failed(error: errors.CtWorkflowError, *, data: dict[str, Any] | None = None) -> model.Outcome:
    """The outcome of a step that failed with ``error``, marked when no try can change it."""
    permanent = errors.no_round_can_fix(error)
    return model.Outcome.error(str(error), data=dict(data or {}), permanent=permanent)


_TEST_FILE_LIMIT = "CTW_MAX_TEST_FILE_BYTES"


def _read(
    workspace: Path, test_path: str, settings: Settings, report: model.TestReport | None
) -> tuple[str | None, str | None]:
    """The test file to keep as the artifact, or why it is refused (a link, over a limit)."""
    try:
        content = nofollow.read_text(
            workspace, test_path, max_bytes=settings.max_test_file_bytes, setting=_TEST_FILE_LIMIT
        )
    except (errors.UnsafeFile, errors.LimitExceeded) as error:
        return None, str(error)
    except OSError:  # none there, or unreadable: no artifact
        return None, None
    size = len(content.encode()) + len(json.dumps((report or model.TestReport()).to_json()))
    if size > settings.max_artifact_bytes:
        limit = errors.LimitExceeded(
            f"the artifact of {test_path}",
            size,
            settings.max_artifact_bytes,
            "CTW_MAX_ARTIFACT_BYTES",
        )
        return None, str(limit)
    return content, None


def _end(
    fx: Effects,
    job: _Job,
    lease: leasing.RunLease,
    attempt: int,
    route: Halt,
    error: str | None,
    content: str | None,
    report: model.TestReport | None,
) -> ChildResult:
    scope, child_id = job.scope, job.child.id
    with fx.transactions() as uow:
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
