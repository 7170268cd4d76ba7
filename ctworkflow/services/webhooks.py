"""Webhooks of a project: where its session events are sent, and how those sends went.

A webhook's signing secret is derived from the server key ``CTW_WEBHOOK_KEY`` and the webhook's
id (:func:`ctworkflow.domain.webhooks.derive_secret`): the database never holds it.
"""

from __future__ import annotations

import uuid

from ctworkflow.config import get_settings
from ctworkflow.domain import model
from ctworkflow.domain.inputs import check_int
from ctworkflow.domain.webhooks import Delivery, Webhook, check_url, derive_secret
from ctworkflow.persistence.db import UnitOfWork
from ctworkflow.services import catalog


def secret_of(webhook_id: uuid.UUID) -> str:
    """The signing secret of a webhook.

    Raises:
        ConfigurationError: ``CTW_WEBHOOK_KEY`` is not set.
    """
    return derive_secret(get_settings().webhook_key.get_secret_value(), str(webhook_id))


def create_webhook(
    uow: UnitOfWork, scope: model.Scope, url: str, *, component_events: bool = False
) -> tuple[Webhook, str]:
    """Send the project's session events to ``url``; return the webhook and its secret.

    Raises:
        InvalidInput: not an https URL (or http to a loopback address).
        ConfigurationError: no server key to derive the secret from; nothing is written.
    """
    checked = check_url(url)
    derive_secret(get_settings().webhook_key.get_secret_value(), "check")  # refuse before writing
    catalog.get_project(uow, scope)
    webhook = uow.webhooks.add_webhook(scope, url=checked, component_events=component_events)
    return webhook, secret_of(webhook.id)


def list_webhooks(uow: UnitOfWork, scope: model.Scope) -> list[Webhook]:
    """The project's webhooks, oldest first."""
    catalog.get_project(uow, scope)
    return uow.webhooks.list_webhooks(scope)


def get_webhook(uow: UnitOfWork, scope: model.Scope, webhook_id: uuid.UUID) -> Webhook:
    """A webhook of the project."""
    return uow.webhooks.get_webhook(scope, webhook_id)


def delete_webhook(uow: UnitOfWork, scope: model.Scope, webhook_id: uuid.UUID) -> None:
    """Stop sending to a webhook; its pending deliveries fail when their turn comes."""
    uow.webhooks.delete_webhook(scope, webhook_id)


def list_deliveries(
    uow: UnitOfWork,
    scope: model.Scope,
    *,
    webhook_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[Delivery]:
    """The project's deliveries (of one webhook if given), newest first."""
    check_int(limit, "limit", minimum=1)
    if webhook_id is not None:
        uow.webhooks.get_webhook(scope, webhook_id)
    return uow.webhooks.deliveries(scope, webhook_id=webhook_id, limit=limit)
