"""The reconciler: re-drive sessions whose next step is due but not queued or not running.

It reads each active context session from the database, asks the pure planner
(:mod:`ctworkflow.domain.recovery`) what would move it on, and sends those wake-ups. It is safe
at any time, any number of times, concurrently: every step it sends is idempotent. It works
through the ports of the :class:`~ctworkflow.workflow.deps.Deps` it is given (the units
of work, the dispatcher, the clock), as the steps do.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from ctworkflow import ports
from ctworkflow.config import Settings
from ctworkflow.domain import leases, model, recovery, rounds
from ctworkflow.domain.routing import Completed, Next
from ctworkflow.domain.session_state import StatePatch
from ctworkflow.domain.states import ParentStep, SessionStatus, SessionType
from ctworkflow.ports import UnitOfWork
from ctworkflow.workflow import progress
from ctworkflow.workflow.deps import Deps
from ctworkflow.workflow.leasing import process_alive

logger = logging.getLogger(__name__)

#: Sessions read per tenant and pass; the rest wait for the next pass.
BATCH = 1000


def queued_reason(session: model.Session) -> str | None:
    """Why the session waits for the reconciler to send its next step, if it does.

    A context session's state says so (``queued``) when a wake-up it needs could not be sent
    (the broker was down). The next pass sends that wake-up at once instead of waiting for
    the session to go stale, then removes the key.
    """
    return session.state.queued or None


def queue_for_reconciler(
    transactions: ports.Transactions, scope: model.Scope, session_id: uuid.UUID, reason: str
) -> model.Session:
    """Record that the session's next step is for the reconciler to send; the session.

    The row is locked while the key is merged in (a step writing other keys of the state at
    the same time loses nothing of them either way: the store merges); a session whose step
    has begun anyway (the message got through after all) is left as it is.
    """
    with transactions() as uow:
        uow.sessions.get_session(scope, session_id, for_update=True)
        if not any(i.pending for i in uow.sessions.interactions(scope, session_id)):
            uow.sessions.update_session(scope, session_id, state=StatePatch(queued=reason))
        return uow.sessions.get_session(scope, session_id)


@dataclass(slots=True)
class ReconcileReport:
    """What one pass did: sessions looked at, and actions taken by kind."""

    sessions: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    redriven: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "sessions": self.sessions,
            "actions": dict(self.actions),
            "redriven_sessions": sorted(set(self.redriven)),
        }


def reconcile(deps: Deps) -> ReconcileReport:
    """One pass over every active context session."""
    report = ReconcileReport()
    with deps.transactions() as uow:
        scopes = uow.sessions.active_context_scopes()
    for scope in scopes:
        with deps.transactions() as uow:
            active = uow.sessions.list_sessions(
                scope,
                statuses=[SessionStatus.ACTIVE],
                type=SessionType.CONTEXT_TESTING,
                limit=BATCH,
            )
        for session in active:
            report.sessions += 1
            _reconcile_session(deps, session, report)
    if report.actions:
        logger.warning("reconciler re-drove sessions: %s", report.to_json())
    return report


def _reconcile_session(deps: Deps, session: model.Session, report: ReconcileReport) -> None:
    scope, session_id, dispatcher = session.scope, session.id, deps.dispatcher
    with deps.transactions() as uow:
        view = _view(uow, session, deps.clock.now())
    actions = _plan(view, deps.settings)
    queued = queued_reason(session) is not None
    if not actions:
        if queued and (view.pending is not None or view.last is not None):
            _unqueue(deps.transactions, session)  # its wake-up got through after all: it is moving
        return
    if queued:  # cleared before its step is sent, so the step's own writes of state keep it off
        _unqueue(deps.transactions, session)
    touched: list[uuid.UUID] = []
    for action in actions:
        match action:
            case recovery.RunStep(step=step, attempt=attempt):
                dispatcher.send_step(scope, session_id, Next(step=step, attempt=attempt))
                touched.append(session_id)
            case recovery.RunChild(child_id=child_id, attempt=attempt):
                dispatcher.send_component(scope, session_id, child_id, attempt)
                touched.append(child_id)
            case recovery.Validate(attempt=attempt):
                dispatcher.send_validation(scope, session_id, attempt)
                touched.append(session_id)
            case recovery.Conclude():
                progress.next_step(scope, session_id, deps)
        report.actions[type(action).__name__] += 1
    report.redriven.append(str(session_id))
    with deps.transactions() as uow:  # re-driven now: not stale again until another stale period
        uow.sessions.touch(scope, touched)


def _plan(view: recovery.SessionView, settings: Settings) -> list[recovery.Action]:
    return recovery.plan(
        view,
        stale_s=settings.stale_after_s,
        backoff_s=settings.step_retry.delay_before,
    )


def _unqueue(transactions: ports.Transactions, session: model.Session) -> None:
    with transactions() as uow:
        uow.sessions.update_session(session.scope, session.id, state=StatePatch(queued=None))


def _view(uow: UnitOfWork, session: model.Session, now: datetime) -> recovery.SessionView:
    scope, session_id = session.scope, session.id
    history = uow.sessions.interactions(scope, session_id)
    pending = [i for i in history if i.pending]
    done = [i for i in history if not i.pending and i.outcome is not None]
    last = max(done, key=lambda i: (i.completed_at or i.started_at, i.started_at), default=None)
    moments = [session.updated_at, *(i.completed_at or i.started_at for i in history)]
    idle = (now - max(moments)).total_seconds()
    children: list[recovery.ChildView] = []
    pending_step = None
    if pending:
        current = max(pending, key=lambda i: i.started_at)
        fanned = rounds.FanOutRecord.from_command(current.command) is not None
        pending_step = recovery.PendingStep(
            step=ParentStep(current.step), attempt=current.attempt, fanned_out=fanned
        )
        if fanned:
            host = socket.gethostname()
            children = [
                recovery.ChildView(
                    id=c.id,
                    status=c.status,
                    lease_free=leases.is_free(
                        c.lease_owner,
                        c.lease_expires_at,
                        now,
                        host=host,
                        process_alive=process_alive,
                    ),
                    idle_s=(now - c.updated_at).total_seconds(),
                )
                for c in uow.sessions.children(scope, session_id)
            ]
    completed = None
    if last is not None and last.outcome is not None:
        completed = Completed(step=last.step, status=last.outcome.status, attempt=last.attempt)
    return recovery.SessionView(
        max_attempts=session.max_attempts,
        idle_s=idle,
        queued=queued_reason(session) is not None,
        pending=pending_step,
        last=completed,
        children=children,
    )
