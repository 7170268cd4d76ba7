"""What the HTTP API answers about a session: its summary, its steps, and its component
matrix, each built from the domain's values."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from ctworkflow.domain import agent_runs, model, quality
from ctworkflow.domain.agent_usage import Usage
from ctworkflow.http.schemas import Response
from ctworkflow.services.session_views import FullSession
from ctworkflow.services.summary import Figure, SessionSummary, duration_s


def first_line(text: str | None) -> str | None:
    """The first non-empty line of a message (what tables and the web view show)."""
    if not text or not text.strip():
        return None
    return text.strip().splitlines()[0]


class StepOut(Response):
    """One step of a session: what it ran and how it ended (``running`` until it does)."""

    step: str
    attempt: int
    status: Literal["running", "ok", "error"]
    keyword: str | None
    argv: list[str] | None
    exit_code: int | None
    error: str | None
    duration_ms: int | None
    started_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, interaction: model.Interaction) -> StepOut:
        outcome = interaction.outcome
        return cls(
            step=interaction.step,
            attempt=interaction.attempt,
            status="running" if outcome is None else outcome.status.value,
            keyword=interaction.command.keyword,
            argv=list(interaction.command.argv) if interaction.command.argv is not None else None,
            exit_code=outcome.exit_code if outcome else None,
            error=outcome.error_message if outcome else None,
            duration_ms=interaction.duration_ms,
            started_at=interaction.started_at,
            completed_at=interaction.completed_at,
        )


class FlakyOut(Response):
    """A test that passed once and failed when run again in random order or alone."""

    test: str
    failed_runs: int
    runs: int
    failed_in: list[str]
    line: str
    dropped: bool = Field(description="Taken out of the file (new); else only reported")


class TestsOut(Response):
    """The newest test report of a component."""

    __test__ = False  # not a pytest test class

    collected: int
    passed: int
    failed: int
    errors: int
    skipped: int
    repeated_runs: int = Field(
        default=0, description="Runs in random order of the new and changed tests (0: none)"
    )
    flaky: list[FlakyOut] = Field(default_factory=list)


class UsageOut(Response):
    """What agent runs used: summed tokens, cost and turns where the program reported them,
    and how long they ran."""

    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    turns: int | None
    wall_s: float | None

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        return cls(**usage.to_json())


class QualityOut(Response):
    """What a component's tests exercise of its source (docs/test-quality.md)."""

    coverage: Figure = Field(description="Line+branch coverage in percent, base and after")
    mutation: Figure = Field(description="Mutation score in percent, base and after")
    uncovered: str | None = Field(description="The lines no test runs after, e.g. '12-15, 40'")
    surviving: int | None = Field(description="How many sampled mutants no test noticed")
    unavailable: dict[str, str] = Field(description="Why a figure could not be taken")


class ComponentOut(Response):
    """One row of a session's component matrix, with the component session's steps."""

    session_id: uuid.UUID
    component_id: uuid.UUID
    module_name: str | None
    name: str | None
    status: str
    round: int
    step: str | None = Field(description="The newest step and its attempt")
    tests: TestsOut | None
    coverage: float | None = Field(description="Line+branch coverage in percent, when measured")
    quality: QualityOut
    duration_s: float
    error: str | None
    error_line: str | None = Field(description="The failure reason's first line")
    steps: list[StepOut]
    usage: UsageOut = Field(description="What this component's agent runs used")


class SessionOut(SessionSummary):
    """A session's summary, its steps, and its component matrix."""

    steps: list[StepOut]
    component_matrix: list[ComponentOut]
    usage: UsageOut = Field(description="What every agent run of the session used, summed")

    @classmethod
    def of_full(cls, full: FullSession, now: datetime) -> SessionOut:
        details = full.details
        matrix = [_component(full, child, now) for child in details.children]
        every = [step for steps in full.child_steps.values() for step in steps]
        return cls(
            **SessionSummary.of(details, now).model_dump(),
            steps=[StepOut.of(i) for i in details.interactions],
            component_matrix=matrix,
            usage=UsageOut.of(agent_runs.usage([*details.interactions, *every])),
        )


def _component(full: FullSession, child: model.Session, now: datetime) -> ComponentOut:
    details = full.details
    component = details.components.get(child.component_id)
    artifact = details.artifacts.get(child.id)
    report = artifact.report if artifact else None
    steps = full.child_steps.get(child.id, [])
    last = steps[-1] if steps else None
    return ComponentOut(
        session_id=child.id,
        component_id=child.component_id,
        module_name=component.module_name if component else None,
        name=component.name if component else None,
        status=child.status.value,
        round=child.attempt,
        step=f"{last.step} (attempt {last.attempt})" if last else None,
        tests=TestsOut(
            collected=report.collected,
            passed=report.passed,
            failed=report.failed,
            errors=report.errors,
            skipped=report.skipped,
            repeated_runs=report.repeated_runs,
            flaky=[FlakyOut(**test.to_json()) for test in report.flaky],
        )
        if report
        else None,
        coverage=report.coverage if report else None,
        quality=QualityOut.model_validate(quality.headline(report.quality if report else None)),
        duration_s=duration_s(child, now),
        error=child.error,
        error_line=first_line(child.error),
        steps=[StepOut.of(i) for i in steps],
        usage=UsageOut.of(agent_runs.usage(steps)),
    )
