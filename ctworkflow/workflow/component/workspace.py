"""One run of a component's steps inside its workspace: what the steps share (the job, the
agent, the runner, the target's environment) and what they learn on the way (the feedback for
the agent, the last report, the existing test file and what it ran at the base)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ctworkflow.agents.base import Agent, ExistingTests
from ctworkflow.domain import model, rounds
from ctworkflow.runners.base import Runner
from ctworkflow.workflow import environment, leasing
from ctworkflow.workflow import quality as test_quality
from ctworkflow.workflow.component.job import Job
from ctworkflow.workflow.deps import Deps
from ctworkflow.workflow.journal import Journal


@dataclass(slots=True, kw_only=True)
class WorkspaceRun:
    """The steps' shared state in one workspace (:func:`start` builds it)."""

    job: Job
    deps: Deps
    agent: Agent
    runner: Runner
    workspace: Path
    should_stop: Callable[[], bool]
    #: Where the steps are noted as they begin and end (written with the lease's renewals).
    journal: Journal
    #: The target's environment every run of this round uses.
    ready: environment.Prepared
    #: What the component's tests exercise of its source, at the base and after.
    gauge: test_quality.Gauge
    #: What the agent is told of the last try (the round's, then each failed run's).
    feedback: str | None = None
    report: model.TestReport | None = None
    last_error: str | None = None
    #: The component's test file at the base and what it ran there, if it has one.
    existing: ExistingTests | None = None
    baseline: model.TestReport | None = None


def start(
    job: Job,
    deps: Deps,
    agent: Agent,
    runner: Runner,
    workspace: Path,
    lease: leasing.RunLease,
    ready: environment.Prepared,
) -> WorkspaceRun:
    """The state of a run starting in ``workspace``, with the feedback its round was given."""
    gauge = test_quality.Gauge.of(
        runner=runner.name,
        project_settings=job.project.settings,
        workspace=workspace,
        paths=(job.source_path, job.test_path),
        seed=job.component.module_name,
        ready=ready,
        should_stop=lease.should_stop,
        test_timeout_s=deps.settings.test_timeout_s,
    )
    return WorkspaceRun(
        job=job,
        deps=deps,
        agent=agent,
        runner=runner,
        workspace=workspace,
        should_stop=lease.should_stop,
        journal=lease.journal,
        ready=ready,
        gauge=gauge,
        feedback=rounds.feedback(job.child.state),
    )
