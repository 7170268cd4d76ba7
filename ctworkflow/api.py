"""The Python API for backend services: start, read, list, cancel and retry sessions.

The stable names a service that imports ctworkflow calls; each is a use case of
:mod:`ctworkflow.services` (this module holds no logic, and nothing inside ctworkflow imports
it). Every function takes a :class:`~ctworkflow.Scope`; ids and names of another tenant behave
as missing ones. Errors are typed (``ctworkflow.errors``).

A session that is started (or retried) is committed first, then its first wake-up is sent. If
the broker cannot take it in time, the session is not lost and no error is raised: it is
returned *queued* (:func:`queued_reason` says why) and the reconciler sends that wake-up on its
next pass.

The functions that send take the :class:`~ctworkflow.ports.Dispatcher` they send through
(``dispatcher=``); here it is Celery's (:data:`ctworkflow.tasks.dispatch.dispatcher`) unless
another is given. The rest of the ports (the configured database, git, the clock) are the live
ones (:mod:`ctworkflow.tasks.live`).
"""

from __future__ import annotations

import uuid
from typing import Any

from ctworkflow.domain import model
from ctworkflow.ports import Dispatcher
from ctworkflow.services import incremental, lifecycle
from ctworkflow.services.discovery import DiscoveryReport, discover_components
from ctworkflow.services.lifecycle import queued_reason
from ctworkflow.services.session_views import (
    SessionDetails,
    get_session,
    list_sessions,
    session_details,
)
from ctworkflow.tasks import live
from ctworkflow.tasks.dispatch import dispatcher as celery_dispatcher
from ctworkflow.workflow.reconciler import ReconcileReport

__all__ = [
    "DiscoveryReport",
    "SessionDetails",
    "cancel_session",
    "discover_components",
    "get_session",
    "list_sessions",
    "plan_context_testing",
    "queued_reason",
    "reconcile",
    "retry_session",
    "session_details",
    "start_context_testing",
]


def start_context_testing(
    scope: model.Scope,
    context: uuid.UUID | str,
    *,
    idempotency_key: str | None = None,
    agent: str | None = None,
    max_attempts: int | None = None,
    runner: str | None = None,
    dispatcher: Dispatcher = celery_dispatcher,
) -> model.Session:
    """Start testing a context (by id or module name); idempotent per context and key
    (:func:`ctworkflow.services.lifecycle.start_context_testing`)."""
    return lifecycle.start_context_testing(
        scope,
        context,
        idempotency_key=idempotency_key,
        agent=agent,
        max_attempts=max_attempts,
        runner=runner,
        deps=live.deps(dispatcher=dispatcher),
    )


def plan_context_testing(
    scope: model.Scope, context: uuid.UUID | str, *, runner: str | None = None
) -> list[dict[str, Any]]:
    """Which components a session started now would run and which it would reuse, and why;
    starts and writes nothing (:func:`ctworkflow.services.incremental.plan_context_testing`)."""
    return incremental.plan_context_testing(scope, context, runner=runner, deps=live.deps())


def cancel_session(
    scope: model.Scope, session_id: uuid.UUID | str, *, dispatcher: Dispatcher = celery_dispatcher
) -> model.Session:
    """Cancel a session and its active children; their queued tasks are revoked
    (:func:`ctworkflow.services.lifecycle.cancel_session`)."""
    return lifecycle.cancel_session(scope, session_id, deps=live.deps(dispatcher=dispatcher))


def retry_session(
    scope: model.Scope, session_id: uuid.UUID | str, *, dispatcher: Dispatcher = celery_dispatcher
) -> model.Session:
    """Run a failed or cancelled context session again, with a fresh budget of attempts
    (:func:`ctworkflow.services.lifecycle.retry_session`)."""
    return lifecycle.retry_session(scope, session_id, deps=live.deps(dispatcher=dispatcher))


def reconcile(*, dispatcher: Dispatcher = celery_dispatcher) -> ReconcileReport:
    """Re-drive every session whose next step is due but not queued or not running
    (:func:`ctworkflow.services.lifecycle.reconcile`)."""
    return lifecycle.reconcile(deps=live.deps(dispatcher=dispatcher))
