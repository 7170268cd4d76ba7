"""``/v1/projects/{project}/webhooks``: where session events go, and how their sends went."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from ctworkflow.http.auth import ApiScope
from ctworkflow.http.json_body import JsonBodyRoute
from ctworkflow.http.schemas import CreateWebhook, DeliveryOut, WebhookCreated, WebhookOut
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import webhooks

router = APIRouter(
    prefix="/v1/projects/{project}/webhooks", tags=["webhooks"], route_class=JsonBodyRoute
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Send the project's session events to a URL",
    description=(
        "Events: `session.complete`, `session.failed`, `session.cancelled`, and with "
        "`component_events` the same for each component (`component.failed`, ...). The answer "
        "carries the signing secret; keep it, it is not shown by any other call."
    ),
)
def create_webhook(scope: ApiScope, body: CreateWebhook) -> WebhookCreated:
    with unit_of_work() as uow:
        webhook, secret = webhooks.create_webhook(
            uow, scope, body.url, component_events=body.component_events
        )
    return WebhookCreated.created(webhook, secret)


@router.get("", summary="List the project's webhooks")
def list_webhooks(scope: ApiScope) -> list[WebhookOut]:
    with unit_of_work() as uow:
        return [WebhookOut.of(w) for w in webhooks.list_webhooks(uow, scope)]


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a webhook")
def delete_webhook(scope: ApiScope, webhook_id: uuid.UUID) -> Response:
    with unit_of_work() as uow:
        webhooks.delete_webhook(uow, scope, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", summary="A webhook's deliveries, newest first")
def list_deliveries(
    scope: ApiScope, webhook_id: uuid.UUID, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[DeliveryOut]:
    with unit_of_work() as uow:
        found = webhooks.list_deliveries(uow, scope, webhook_id=webhook_id, limit=limit)
    return [DeliveryOut.of(d) for d in found]
