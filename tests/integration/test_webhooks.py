"""Webhook deliveries from the outbox, through the real worker and Redis.

Sessions are ended through the public API (cancel) or a real run; the receiver is a loopback
HTTP server that fails when told to.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from ctworkflow import api, constants
from ctworkflow.config import get_settings
from ctworkflow.domain.model import Scope
from ctworkflow.domain.states import SessionStatus
from ctworkflow.domain.webhooks import Delivery, DeliveryStatus, verify
from ctworkflow.persistence import webhook_store
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.persistence.tables import utcnow
from ctworkflow.services import sessions, webhooks
from ctworkflow.workflow.children import ensure_children
from tests.factories import Tenant, make_tenant
from tests.http_support import receiving, wait_until


@pytest.fixture
def tenant(workflow_db: str, monkeypatch: pytest.MonkeyPatch) -> Tenant:
    monkeypatch.setenv("CTW_WEBHOOK_KEY", "webhook-test-key")
    monkeypatch.setenv("CTW_WEBHOOK_BACKOFF_S", "0.5")
    monkeypatch.setenv("CTW_WEBHOOK_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("CTW_WEBHOOK_SWEEP_INTERVAL_S", "0.5")
    get_settings.cache_clear()
    return make_tenant(workflow_db)


def new_session(tenant: Tenant) -> uuid.UUID:
    """An active context session that no worker runs (nothing is enqueued)."""
    with unit_of_work() as uow:
        started = sessions.create_context_session(
            uow, tenant.scope, tenant.context.id, agent="scaffold", max_attempts=1
        )
    return started.session.id


def add_webhook(scope: Scope, url: str, **kwargs: bool) -> tuple[uuid.UUID, str]:
    with unit_of_work() as uow:
        webhook, secret = webhooks.create_webhook(uow, scope, url, **kwargs)
    return webhook.id, secret


def deliveries(scope: Scope) -> list[Delivery]:
    with unit_of_work() as uow:
        return webhooks.list_deliveries(uow, scope)


def test_a_failing_receiver_is_retried_with_backoff_and_the_session_keeps_its_outcome(
    tenant: Tenant,
) -> None:
    with receiving(answers=[500, 503, 200]) as receiver:
        _, secret = add_webhook(tenant.scope, receiver.url)
        session_id = new_session(tenant)

        api.cancel_session(tenant.scope, session_id)
        got = receiver.wait_for(3, timeout_s=60)

    # One event, sent three times with the same id and body, each signed; the gaps grow.
    assert [json.loads(r.body)["event"] for r in got] == ["session.cancelled"] * 3
    assert len({r.headers["CTW-Webhook-Id"] for r in got}) == 1
    assert len({r.body for r in got}) == 1
    for request in got:
        header = request.headers["CTW-Signature"]
        assert verify(secret, header, request.body, now=int(time.time()))
    gaps = [b.at - a.at for a, b in itertools.pairwise(got)]
    assert gaps[0] >= 0.5 and gaps[1] >= 1.0, gaps
    # The delivery is recorded; the failures changed nothing of the session.
    wait_until(
        lambda: deliveries(tenant.scope)[0].status is DeliveryStatus.DELIVERED, 10, "delivered"
    )
    (delivery,) = deliveries(tenant.scope)
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (3, 200, None)
    assert api.get_session(tenant.scope, session_id).status is SessionStatus.CANCELLED


def test_a_receiver_that_never_answers_well_ends_failed_after_the_bounded_attempts(
    tenant: Tenant,
) -> None:
    with receiving(answers=[500]) as receiver:
        add_webhook(tenant.scope, receiver.url)
        session_id = new_session(tenant)
        api.cancel_session(tenant.scope, session_id)
        receiver.wait_for(3, timeout_s=60)
        wait_until(
            lambda: deliveries(tenant.scope)[0].status is DeliveryStatus.FAILED, 20, "failed"
        )
        (delivery,) = deliveries(tenant.scope)
        assert (delivery.attempts, delivery.last_error) == (3, "HTTP 500 Internal Server Error")
        # Nothing is left for the sweep to send again.
        assert delivery_lost() == []
        assert len(receiver.received) == 3
    assert api.get_session(tenant.scope, session_id).status is SessionStatus.CANCELLED


@contextmanager
def sends_lost() -> Iterator[None]:
    """The send right after a commit is lost, as with the broker down at that moment."""
    hooks = list(webhook_store._COMMIT_HOOKS)
    webhook_store._COMMIT_HOOKS.clear()
    try:
        yield
    finally:
        webhook_store._COMMIT_HOOKS.extend(hooks)


def delivery_lost() -> list[uuid.UUID]:
    from ctworkflow.services import webhook_delivery as delivery

    return delivery.lost()


def test_the_outbox_survives_a_lost_send_and_the_sweep_delivers_it(tenant: Tenant) -> None:
    from ctworkflow.tasks.app import app

    with receiving() as receiver:
        add_webhook(tenant.scope, receiver.url)
        first, second = new_session(tenant), new_session_of_other_context(tenant)
        with sends_lost():
            api.cancel_session(tenant.scope, first)
            api.cancel_session(tenant.scope, second)
        # The second delivery's worker died mid-send: it holds a claim that expires.
        lost = {d.session_id: d for d in deliveries(tenant.scope)}
        with unit_of_work() as uow:
            now = utcnow()
            assert uow.webhooks.claim(lost[second].id, now=now, until=now + timedelta(seconds=1))
        assert receiver.received == []

        # Celery beat's sweep (sent by name here) finds both once they are overdue.
        wait_until(lambda: len(delivery_lost()) == 2, 10, "both deliveries overdue")
        app.send_task(constants.SWEEP_WEBHOOKS, queue=constants.ORCHESTRATION_QUEUE)
        got = receiver.wait_for(2, timeout_s=30)

    assert sorted(json.loads(r.body)["session"]["id"] for r in got) == sorted(
        [str(first), str(second)]
    )
    by_session = {d.session_id: d for d in deliveries(tenant.scope)}
    assert by_session[first].attempts == 1 and by_session[second].attempts == 2
    assert {d.status for d in by_session.values()} == {DeliveryStatus.DELIVERED}


def new_session_of_other_context(tenant: Tenant) -> uuid.UUID:
    """An active session of a second context of the tenant's project."""
    from ctworkflow.services import catalog

    with unit_of_work() as uow:
        context = catalog.add_component(
            uow, tenant.scope, name="Billing", module_name="MyApp.Billing", type="context"
        )
        catalog.add_component(
            uow,
            tenant.scope,
            name="Invoice",
            module_name="MyApp.Billing.Invoice",
            parent_id=context.id,
        )
        started = sessions.create_context_session(
            uow, tenant.scope, context.id, agent="scaffold", max_attempts=1
        )
    return started.session.id


def test_component_events_only_when_asked_and_only_to_the_project_that_owns_them(
    tenant: Tenant, workflow_db: str
) -> None:
    other = make_tenant(workflow_db)
    with receiving() as plain, receiving() as detailed, receiving() as theirs:
        add_webhook(tenant.scope, plain.url)
        add_webhook(tenant.scope, detailed.url, component_events=True)
        add_webhook(other.scope, theirs.url, component_events=True)
        session_id = new_session(tenant)
        with unit_of_work() as uow:
            ensure_children(uow, tenant.scope, session_id)

        api.cancel_session(tenant.scope, session_id)
        plain.wait_for(1)
        detailed.wait_for(4)

    assert plain.events() == ["session.cancelled"]
    assert sorted(detailed.events()) == ["component.cancelled"] * 3 + ["session.cancelled"]
    assert theirs.received == []


def test_a_deleted_webhook_gets_nothing_and_its_pending_delivery_fails(tenant: Tenant) -> None:
    with receiving() as receiver:
        webhook_id, _ = add_webhook(tenant.scope, receiver.url)
        session_id = new_session(tenant)
        with sends_lost():
            api.cancel_session(tenant.scope, session_id)
        with unit_of_work() as uow:
            webhooks.delete_webhook(uow, tenant.scope, webhook_id)
        from ctworkflow.services import webhook_delivery as delivery

        (pending,) = deliveries(tenant.scope)
        sent = delivery.send(pending.id)

    assert sent is not None and sent.status is DeliveryStatus.FAILED
    assert deliveries(tenant.scope)[0].last_error == "the webhook was deleted"
    assert receiver.received == []
