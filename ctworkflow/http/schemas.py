"""What the HTTP API reads and writes: request bodies (unknown fields refused) and responses.

Responses are built from domain values here, so routes stay one call and a conversion.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ctworkflow.domain import model
from ctworkflow.domain.webhooks import Delivery, Webhook
from ctworkflow.effects.git import redact
from ctworkflow.services import discovery


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
