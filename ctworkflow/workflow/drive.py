"""Driving a context session: run one step, then send what comes next.

Each function here is what one Celery task of a context session does (the tasks only decode
their arguments and call it): the step itself (:mod:`ctworkflow.workflow.context`), then the
router's next step through the dispatcher, or the end of the session and the release of the
empty branch it created.
"""

from __future__ import annotations

import logging
import uuid

from ctworkflow.domain import model
from ctworkflow.workflow import branch, context, progress
from ctworkflow.workflow.dispatcher import Dispatcher
from ctworkflow.workflow.effects import Effects

logger = logging.getLogger(__name__)


def advance(scope: model.Scope, session_id: uuid.UUID, fx: Effects, dispatcher: Dispatcher) -> None:
    """Ask the router what comes next for a session, and send it (or end the session,
    deleting the empty branch it created).

    Raises:
        BrokerUnavailable: the broker could not take the next step in time.
    """
    route = progress.next_step(scope, session_id)
    if route is None:
        branch.release(fx, scope, session_id)
        return
    logger.info(
        "session %s: next %s attempt %s",
        session_id,
        route.step,
        route.attempt,
        extra={"action": "advance", "session_id": str(session_id), "step": str(route.step)},
    )
    dispatcher.send_step(scope, session_id, route)


def initialize(
    scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Effects, dispatcher: Dispatcher
) -> None:
    """Create the session's branch on the remote, then move on."""
    _move_on(context.initialize(scope, session_id, attempt, fx), scope, session_id, fx, dispatcher)


def spawn(scope: model.Scope, session_id: uuid.UUID, attempt: int, dispatcher: Dispatcher) -> None:
    """Choose the round's children and send the round (its validation runs once all ended)."""
    fan_out = context.spawn(scope, session_id, attempt)
    if fan_out is not None:
        dispatcher.send_round(scope, session_id, attempt, fan_out.run_ids)


def validate(
    scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Effects, dispatcher: Dispatcher
) -> None:
    """Validate the round, then send the next round or finalize (the router decides)."""
    verdict = context.validate(scope, session_id, attempt, fx)
    if verdict is context.Verdict.RECORDED:
        advance(scope, session_id, fx, dispatcher)
    elif verdict is context.Verdict.IGNORED:
        release_if_ended(scope, session_id, fx)
    elif verdict is context.Verdict.WAITING:
        # Fired early: a child delivered twice was counted once, by the copy that found the
        # other one running. The reconciler validates once every child has ended.
        logger.warning("session %s round %s: children still running", session_id, attempt)


def finalize(
    scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Effects, dispatcher: Dispatcher
) -> None:
    """Commit the test files on the branch and push it, then end the session."""
    _move_on(context.finalize(scope, session_id, attempt, fx), scope, session_id, fx, dispatcher)


def _move_on(
    recorded: bool, scope: model.Scope, session_id: uuid.UUID, fx: Effects, dispatcher: Dispatcher
) -> None:
    """After a step: move on if this delivery recorded its outcome, else finish an ending."""
    if recorded:
        advance(scope, session_id, fx, dispatcher)
    else:
        release_if_ended(scope, session_id, fx)


def release_if_ended(scope: model.Scope, session_id: uuid.UUID, fx: Effects) -> None:
    """A step delivered again after its session ended: finish the ending the first delivery
    may not have (a worker killed between the end and the branch's deletion)."""
    branch.release(fx, scope, session_id)
