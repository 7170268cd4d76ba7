"""Driving a context session: run one step, then send what comes next.

Each function here is what one Celery task of a context session does (the tasks only decode
their arguments and call it; :class:`ctworkflow.testing.Harness` delivers its messages to the
same functions): the step itself (:mod:`ctworkflow.workflow.context`), then the router's next
step through the effects' dispatcher (:func:`ctworkflow.workflow.progress.advance`), or the
end of the session and the release of the empty branch it created.
"""

from __future__ import annotations

import logging
import uuid

from ctworkflow.domain import model
from ctworkflow.workflow import branch, context, progress
from ctworkflow.workflow.deps import Deps

logger = logging.getLogger(__name__)


def initialize(scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Deps) -> None:
    """Create the session's branch on the remote, then move on."""
    _move_on(context.initialize(scope, session_id, attempt, fx), scope, session_id, fx)


def spawn(scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Deps) -> None:
    """Choose the round's children and send the round (its validation runs once all ended)."""
    fan_out = context.spawn(scope, session_id, attempt, fx)
    if fan_out is not None:
        fx.dispatcher.send_round(scope, session_id, attempt, fan_out.run_ids)


def validate(scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Deps) -> context.Verdict:
    """Validate the round, then send the next round or finalize (the router decides)."""
    verdict = context.validate(scope, session_id, attempt, fx)
    if verdict is context.Verdict.RECORDED:
        progress.advance(scope, session_id, fx)
    elif verdict is context.Verdict.IGNORED:
        release_if_ended(scope, session_id, fx)
    elif verdict is context.Verdict.WAITING:
        # Fired early: a child delivered twice was counted once, by the copy that found the
        # other one running. The reconciler validates once every child has ended.
        logger.warning("session %s round %s: children still running", session_id, attempt)
    return verdict


def finalize(scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Deps) -> None:
    """Commit the test files on the branch and push it, then end the session."""
    _move_on(context.finalize(scope, session_id, attempt, fx), scope, session_id, fx)


def release_if_ended(scope: model.Scope, session_id: uuid.UUID, fx: Deps) -> None:
    """A step delivered again after its session ended: finish the ending the first delivery
    may not have (a worker killed between the end and the branch's deletion)."""
    branch.release(fx, scope, session_id)


def _move_on(recorded: bool, scope: model.Scope, session_id: uuid.UUID, fx: Deps) -> None:
    """After a step: move on if this delivery recorded its outcome, else finish an ending."""
    if recorded:
        progress.advance(scope, session_id, fx)
    else:
        release_if_ended(scope, session_id, fx)
