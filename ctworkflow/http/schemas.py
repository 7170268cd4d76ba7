"""What the HTTP API reads and writes: request bodies (unknown fields refused) and responses.

Responses are built from domain values here, so routes stay one call and a conversion.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ctworkflow.domain import agent_runs, model, quality
from ctworkflow.domain.agent_usage import Usage
from ctworkflow.domain.webhooks import Delivery, Webhook
from ctworkflow.effects.git import redact
from ctworkflow.services import discovery
from ctworkflow.services.session_views import FullSession
from ctworkflow.services.summary import Figure, SessionSummary, duration_s


class Request(BaseModel):
    """A request body: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorOut(Response):
    """Every error answer: one line saying what is wrong."""

    error: str = Field(examples=["session not found"])


# -- requests -------------------------------------------------------------------------------


class StartSession(Request):
    """Start testing a context (idempotent per context and ``Idempotency-Key``)."""

    context: str = Field(
        min_length=1, max_length=255, description="Module name or id", examples=["shop.accounts"]
    )
    agent: str | None = Field(default=None, max_length=64, description="Overrides the project's")
    runner: str | None = Field(default=None, max_length=64, description="Overrides the project's")
    max_rounds: int | None = Field(default=None, ge=1, le=100, description="Fan-out rounds")


class CreateWebhook(Request):
    """Send this project's session events to ``url`` (https, or http to a loopback address)."""

    url: str = Field(max_length=2048, examples=["https://ci.example.com/hooks/ctw"])
    component_events: bool = Field(
        default=False, description="Also send each component session's end"
    )


# -- catalog --------------------------------------------------------------------------------


class ProjectOut(Response):
    id: uuid.UUID
    name: str
    layout: str
    default_branch: str
    code_repo: str = Field(description="Without credentials")
    created_at: datetime

    @classmethod
    def of(cls, project: model.Project) -> ProjectOut:
        return cls(
            id=project.id,
            name=project.name,
            layout=project.layout.value,
            default_branch=project.default_branch,
            code_repo=redact(project.code_repo),
            created_at=project.created_at,
        )


class ContextOut(Response):
    id: uuid.UUID
    name: str
    module_name: str
    type: str
    priority: int

    @classmethod
    def of(cls, component: model.Component) -> ContextOut:
        return cls(
            id=component.id,
            name=component.name,
            module_name=component.module_name,
            type=component.type,
            priority=component.priority,
        )


class RenamedOut(Response):
    old_module: str
    new_module: str


class SkippedOut(Response):
    path: str
    reason: str


class DiscoveryOut(Response):
    """What a discovery changed in the project's components."""

    commit: str
    added: list[str]
    renamed: list[RenamedOut]
    removed: list[str]
    unchanged: list[str]
    skipped: list[SkippedOut]

    @classmethod
    def of(cls, report: discovery.DiscoveryReport) -> DiscoveryOut:
        return cls(
            commit=report.commit,
            added=list(report.added),
            renamed=[
                RenamedOut(old_module=r.old_module, new_module=r.new_module) for r in report.renamed
            ],
            removed=list(report.removed),
            unchanged=list(report.unchanged),
            skipped=[SkippedOut(path=s.path, reason=s.reason) for s in report.skipped],
        )


# -- sessions -------------------------------------------------------------------------------


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


# -- webhooks -------------------------------------------------------------------------------


class WebhookOut(Response):
    id: uuid.UUID
    url: str
    component_events: bool
    created_at: datetime

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookOut:
        return cls(
            id=webhook.id,
            url=webhook.url,
            component_events=webhook.component_events,
            created_at=webhook.created_at,
        )


class WebhookCreated(WebhookOut):
    """A new webhook and its signing secret: shown now, derivable only by the server."""

    secret: str

    @classmethod
    def created(cls, webhook: Webhook, secret: str) -> WebhookCreated:
        return cls(**WebhookOut.of(webhook).model_dump(), secret=secret)


class DeliveryOut(Response):
    id: uuid.UUID
    webhook_id: uuid.UUID
    session_id: uuid.UUID
    event: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            webhook_id=delivery.webhook_id,
            session_id=delivery.session_id,
            event=delivery.event,
            status=delivery.status.value,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
        )
