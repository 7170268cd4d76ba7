"""Moving a session on: consult the pure router, and end the session when it halts."""

from __future__ import annotations

import logging
import uuid

from ctworkflow.domain import model
from ctworkflow.domain.routing import Completed, Halt, Next, get_next_interaction
from ctworkflow.domain.states import SessionStatus
from ctworkflow.workflow import branch
from ctworkflow.workflow.deps import Deps

logger = logging.getLogger(__name__)


def next_step(scope: model.Scope, session_id: uuid.UUID, deps: Deps) -> Next | None:
    """The step a context session runs next; None once it has ended (and end it if due)."""
    with deps.transactions() as uow:
        session = uow.sessions.get_session(scope, session_id)
        if session.status is not SessionStatus.ACTIVE:
            return None
        last = uow.sessions.last_completed(scope, session_id)
        completed = None
        if last is not None and last.outcome is not None:
            completed = Completed(step=last.step, status=last.outcome.status, attempt=last.attempt)
        route = get_next_interaction(completed, max_attempts=session.max_attempts)
        if isinstance(route, Next):
            return route
        if route is Halt.SESSION_COMPLETE:
            uow.sessions.set_status(
                scope, [session_id], expected=SessionStatus.ACTIVE, target=SessionStatus.COMPLETE
            )
        else:
            reason = last.outcome.error_message if last and last.outcome else None
            if route is Halt.ATTEMPTS_EXHAUSTED:
                reason = f"gave up after {last.attempt if last else 0} attempts: {reason}"
            uow.sessions.set_status(
                scope,
                [session_id],
                expected=SessionStatus.ACTIVE,
                target=SessionStatus.FAILED,
                error=reason or route.value,
            )
        return None


def advance(scope: model.Scope, session_id: uuid.UUID, deps: Deps) -> Next | None:
    """Send the step that comes next for a session; or, once it has ended, delete the empty
    branch it created (:func:`ctworkflow.workflow.branch.release`). Returns the step sent."""
    route = next_step(scope, session_id, deps)
    if route is None:
        branch.release(deps, scope, session_id)
    else:
        logger.info(
            "session %s: next %s attempt %s",
            session_id,
            route.step,
            route.attempt,
            extra={"action": "advance", "session_id": str(session_id), "step": str(route.step)},
        )
        deps.dispatcher.send_step(scope, session_id, route)
    return route
