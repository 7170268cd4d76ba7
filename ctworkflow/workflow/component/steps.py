"""The steps of a component run, one function each, inside its workspace: initialize, the
agent (write or fix the tests), the tests, and the check of what the agent changed.

Each returns the command it ran and its outcome, and notes what the next steps need on the
:class:`~ctworkflow.workflow.component.workspace.WorkspaceRun` it is given.
"""

from __future__ import annotations

from typing import Any

from ctworkflow import errors
from ctworkflow.agents.base import AgentRequest, ExistingTests
from ctworkflow.domain import changes, flakiness, model, regression
from ctworkflow.domain.repository import layouts
from ctworkflow.effects import nofollow
from ctworkflow.workflow import flaky, test_files
from ctworkflow.workflow.component.workspace import WorkspaceRun

#: What a step returns: the command it ran, and its outcome.
Done = tuple[model.Command, model.Outcome]


def initialize(run: WorkspaceRun) -> Done:
    """Check the source is there; run the component's existing test file, if any, at the
    base, so what passed there can be told from what the agent's change keeps."""
    job = run.job
    # The workspace was checked out at the base before this step (a new worktree, or a
    # reused one switched to it): the step records that, not a command it did not run.
    command = model.Command(keyword="workspace", metadata={"base_commit": job.base_commit})
    data: dict[str, Any] = {"base_commit": job.base_commit, "environment": run.ready.record}
    if not (run.workspace / job.source_path).is_file():
        missing = errors.SourceMissing(f"source file {job.source_path} does not exist")
        return command, failed(missing, data=data)
    content = None
    if job.test_exists:
        content, refused = test_files.read_artifact(
            run.workspace, job.test_path, run.deps.settings, None
        )
        if refused is not None:
            return command, model.Outcome.error(refused, data=data)
    if content is not None:
        reports = run.runner.run(
            run.workspace,
            [job.test_path],
            timeout_s=run.deps.settings.test_timeout_s,
            should_stop=run.should_stop,
            environment=run.ready.environment,
        )
        baseline = reports.get(job.test_path, model.TestReport())
        run.baseline = baseline
        run.existing = ExistingTests(path=job.test_path, tests=baseline.collected, content=content)
        data["existing_test_file"] = {
            "path": job.test_path,
            "tests": baseline.collected,
            "passed": baseline.passed,
        }
        data["quality"] = run.gauge.at_base(baseline)
    return command, model.Outcome.ok(data=data)


def write_tests(run: WorkspaceRun) -> Done:
    """The agent writes the component's tests, or fixes them with the feedback it is given."""
    job = run.job
    result = run.agent.write_tests(
        AgentRequest(
            workspace=run.workspace,
            component_name=job.component.name,
            module_name=layouts.import_name(job.component.module_name),
            source_path=job.source_path,
            test_path=job.test_path,
            layout=job.project.layout,
            feedback=run.feedback,
            timeout_s=run.deps.settings.agent_timeout_s,
            should_stop=run.should_stop,
            existing=run.existing,
            env=run.ready.agent_env(run.workspace),
            uncovered=run.gauge.uncovered(),
        )
    )
    command = model.Command(
        argv=result.argv,
        keyword=None if result.argv else run.agent.name,
        metadata={"agent": run.agent.name, "test_path": job.test_path},
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
        fields["data"] = {**fields["data"], "permanent": True}
    return command, model.Outcome.error(result.error or "the agent failed", **fields)


def run_tests(run: WorkspaceRun) -> Done:
    """Run the test file; when it passes and keeps what passed at the base, check it for flaky
    tests and judge its quality."""
    path = run.job.test_path
    reports = run.runner.run(
        run.workspace,
        [path],
        timeout_s=run.deps.settings.test_timeout_s,
        should_stop=run.should_stop,
        environment=run.ready.environment,
    )
    report = reports.get(path, model.TestReport())
    run.report = report
    command = model.Command(keyword=run.runner.name, metadata={"test_paths": [path]})
    lost = regression.lost_tests(run.baseline, report)
    if report.all_passed and not lost:
        return command, _passed(run, report)
    reason = regression.run_failure(path, report, lost, run.baseline)
    run.feedback = reason or "the tests did not pass"
    return command, model.Outcome.error(reason, data=report.to_json())


def _passed(run: WorkspaceRun, report: model.TestReport) -> model.Outcome:
    """The outcome of a run that passed, once checked for flaky tests and judged."""
    checked = flaky.check(_flaky_request(run, report))
    run.report, data = checked.report, checked.report.to_json()
    if checked.error is not None:
        run.feedback = checked.error
        return model.Outcome.error(checked.error, data=data)
    judged = run.gauge.judge(checked.report)
    run.report = run.gauge.reported(checked.report)
    if judged.failure is None:
        return model.Outcome.ok(data={**data, **judged.data()})
    run.feedback = judged.feedback
    return model.Outcome.error(judged.feedback or judged.failure, data={**data, **judged.data()})


def _flaky_request(run: WorkspaceRun, report: model.TestReport) -> flaky.Request:
    return flaky.Request(
        runner=run.runner,
        workspace=run.workspace,
        test_path=run.job.test_path,
        report=report,
        baseline=run.baseline,
        base_content=run.existing.content if run.existing else None,
        runs=flakiness.runs_setting(run.job.project.settings),
        key=str(run.job.child.id),
        timeout_s=run.deps.settings.test_timeout_s,
        max_bytes=run.deps.settings.max_test_file_bytes,
        should_stop=run.should_stop,
        environment=run.ready.environment,
    )


def check_changes(run: WorkspaceRun) -> Done:
    """Check what the agent changed: only its test file (and support files), a regular file
    within the size limit, or the existing file kept as it was while it passes."""
    job = run.job
    changed = changes.without_build_output(
        job.project.layout, run.deps.git.changed_paths(run.workspace)
    )
    outside = changes.outside_allowed(changed, test_path=job.test_path, support_dir=job.support_dir)
    command = model.Command(keyword="check_changes", metadata={"changed": sorted(changed)})
    if outside:
        forbidden = errors.ForbiddenWrite(
            "the agent changed files outside the test directory: " + ", ".join(outside)
        )
        return command, failed(forbidden)
    kept = changes.kept_existing(
        job.test_path,
        changed,
        existed=run.existing is not None,
        passes=run.report is not None and run.report.all_passed,
    )
    if job.test_path not in changed and not kept:
        return command, model.Outcome.error(f"no test file at {job.test_path}")
    try:
        max_bytes = run.deps.settings.max_test_file_bytes
        nofollow.check(
            run.workspace, job.test_path, max_bytes=max_bytes, setting=test_files.TEST_FILE_LIMIT
        )
    except (errors.UnsafeFile, errors.LimitExceeded) as error:
        return command, model.Outcome.error(str(error))
    if kept and run.report is not None:
        # The agent kept the existing file as it was, and it passes: a valid outcome.
        summary = regression.kept_summary(run.report)
        data = {"changed": sorted(changed), "kept": True, "summary": summary}
        return command, model.Outcome.ok(data=data, stdout_tail=summary)
    return command, model.Outcome.ok(data={"changed": sorted(changed)})


def failed(error: errors.CtWorkflowError, *, data: dict[str, Any] | None = None) -> model.Outcome:
    """The outcome of a step that failed with ``error``, marked when no try can change it."""
    fields = dict(data or {})
    if errors.no_round_can_fix(error):
        fields["permanent"] = True
    return model.Outcome.error(str(error), data=fields)
