"""A session's life: start, cancel, retry and re-drive sessions.

Every function takes a :class:`~ctworkflow.Scope`; ids and names of another tenant behave as
missing ones. Errors are typed (``ctworkflow.errors``).

A session that is started (or retried) is committed first, then its first wake-up is sent.
If the broker cannot take it in time, the session is not lost and no error is raised: it is
returned *queued* (:func:`queued_reason` says why) and the reconciler sends that wake-up on
its next pass.

Each use case takes the ports it works through as the workflow steps do, in an
:class:`~ctworkflow.workflow.deps.Deps` bundle (``deps``): its ``transactions`` open the
units of work, its ``dispatcher`` sends the wake-ups, its ``clock`` tells the time, its
``agent_factory`` checks the agent asked for. The composition roots (the CLI, the HTTP app,
the tasks, :mod:`ctworkflow.api`) hand them the live ones (:mod:`ctworkflow.tasks.live`), whose
dispatcher is Celery's, so the services never import the Celery layer;
:class:`ctworkflow.testing.harness.Harness` hands them the in-memory kit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.domain.inputs import check_name, parse_id
from ctworkflow.domain.routing import Next
from ctworkflow.domain.states import TERMINAL, ParentStep, SessionStatus, SessionType
from ctworkflow.ports import UnitOfWork
from ctworkflow.services import catalog, sessions
from ctworkflow.workflow import progress
from ctworkflow.workflow.deps import Deps
from ctworkflow.workflow.reconciler import ReconcileReport, queue_for_reconciler
from ctworkflow.workflow.reconciler import queued_reason as queued_reason  # re-exported
from ctworkflow.workflow.reconciler import reconcile as reconcile_pass

logger = logging.getLogger(__name__)


def _resolve_context(uow: UnitOfWork, scope: model.Scope, context: uuid.UUID | str) -> uuid.UUID:
    """A context given by id or by module name."""
    if isinstance(context, uuid.UUID):
        return context
    return catalog.find_component(uow, scope, context, "context").id


def start_context_testing(
    scope: model.Scope,
    context: uuid.UUID | str,
    *,
    idempotency_key: str | None = None,
    agent: str | None = None,
    max_attempts: int | None = None,
    runner: str | None = None,
    deps: Deps,
) -> model.Session:
    """Start testing a context (by id or module name); idempotent per context and key.

    ``agent`` and ``runner`` override the project's settings for this session.
    """
    settings = deps.settings
    with deps.transactions() as uow:
        project = catalog.get_project(uow, scope)
        agent_name = check_name(
            agent or project.settings.get("agent") or settings.agent, "agent", max_length=64
        )
        deps.agent(agent_name, project)  # unknown or misconfigured: refused now
        started = sessions.create_context_session(
            uow,
            scope,
            _resolve_context(uow, scope, context),
            agent=agent_name,
            max_attempts=max_attempts if max_attempts is not None else settings.max_attempts,
            idempotency_key=idempotency_key,
            runner=runner,
        )
    if not started.created:
        return started.session
    # After the commit: the worker must find the row.
    return _send_or_queue(
        deps,
        started.session,
        lambda: deps.dispatcher.send_step(
            scope, started.session.id, Next(step=ParentStep.INITIALIZE)
        ),
    )


def _send_or_queue(deps: Deps, session: model.Session, send: Callable[[], object]) -> model.Session:
    """Send a committed session's wake-up, or leave it to the reconciler if the broker is down."""
    try:
        send()
    except errors.BrokerUnavailable as error:
        logger.warning(
            "session %s is queued: %s; the reconciler sends it",
            session.id,
            error,
            extra={"action": "queue_session", "session_id": str(session.id)},
        )
        return queue_for_reconciler(deps.transactions, session.scope, session.id, str(error))
    return session


def cancel_session(scope: model.Scope, session_id: uuid.UUID | str, *, deps: Deps) -> model.Session:
    """Cancel a session and its active children; their queued tasks are revoked.

    A running agent notices within seconds and its whole process group is killed.
    """
    sid = parse_id(session_id, "session id")
    with deps.transactions() as uow:
        cancelled = sessions.cancel_session(uow, scope, sid)
    attempt = max(cancelled.session.attempt, 1)
    try:
        deps.dispatcher.revoke_runs(list(cancelled.cancelled_children), attempt)
        if cancelled.session.type is SessionType.CONTEXT_TESTING:  # its empty branch goes too
            deps.dispatcher.send_release(scope, sid)
    except errors.BrokerUnavailable as error:  # the cancel stands: runs see it in the database
        logger.warning("session %s cancelled; its queued runs were not revoked: %s", sid, error)
    return cancelled.session


def retry_session(scope: model.Scope, session_id: uuid.UUID | str, *, deps: Deps) -> model.Session:
    """Run a failed or cancelled context session again, with a fresh budget of attempts.

    Components that failed permanently run again too: a retry is the user saying the cause
    (a missing dependency of the environment, say) is gone.
    """
    sid = parse_id(session_id, "session id")
    with deps.transactions() as uow:
        session = sessions.get_session(uow, scope, sid)
        if session.type is not SessionType.CONTEXT_TESTING or session.status not in TERMINAL:
            raise errors.InvalidTransition(sid, session.status, SessionStatus.ACTIVE)
        # A step interrupted by the cancel is closed as failed, so the rerun is its next
        # attempt: its task ids (which carry the attempt) differ from the revoked ones, which
        # workers remember and would discard.
        uow.sessions.abandon_pending(scope, sid, "interrupted: the session was cancelled")
        last = uow.sessions.last_completed(scope, sid)
        sessions.transition(uow, scope, sid, SessionStatus.ACTIVE)
        budget = (last.attempt if last else 0) + deps.settings.max_attempts
        uow.sessions.update_session(scope, sid, max_attempts=budget)
        uow.sessions.set_children_max_attempts(scope, sid, budget)  # a child shows its parent's
        sessions.forget_permanent_failures(uow, scope, sid)
        retried = uow.sessions.get_session(scope, sid)
    _send_or_queue(deps, retried, lambda: progress.advance(scope, sid, deps))
    with deps.transactions() as uow:
        return uow.sessions.get_session(scope, sid)


def reconcile(*, deps: Deps) -> ReconcileReport:
    """Re-drive every session whose next step is due but not queued or not running.

    An operator's command (``ctw reconcile``); Celery beat runs the same pass periodically.
    It reads across tenants, and acts on each session within that session's own scope.
    """
    return reconcile_pass(deps)
