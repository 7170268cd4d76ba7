"""Driving a context session: run one step, then send what comes next.

Each function here is what one Celery task of a context session does (the tasks only decode
their arguments and call it; :class:`ctworkflow.testing.Harness` delivers its messages to the
same functions): the step itself (one module of :mod:`ctworkflow.workflow.steps`), then the
router's next step through the dispatcher of its dependencies
(:func:`ctworkflow.workflow.progress.advance`), or the end of the session and the release of
the empty branch it created.
"""

from __future__ import annotations

import logging
import uuid

from ctworkflow.domain import model
from ctworkflow.workflow import branch, progress, steps
from ctworkflow.workflow.deps import Deps

logger = logging.getLogger(__name__)


def initialize(scope: model.Scope, session_id: uuid.UUID, attempt: int, deps: Deps) -> None:
    """Create the session's branch on the remote, then move on."""
    recorded = steps.initialize.initialize(scope, session_id, attempt, deps)
    _move_on(recorded, scope, session_id, deps)


def spawn(scope: model.Scope, session_id: uuid.UUID, attempt: int, deps: Deps) -> None:
    """Choose the round's children and send the round (its validation runs once all ended)."""
    fan_out = steps.spawn.spawn(scope, session_id, attempt, deps)
    if fan_out is not None:
        deps.dispatcher.send_round(scope, session_id, attempt, fan_out.run_ids)


def validate(
    scope: model.Scope, session_id: uuid.UUID, attempt: int, deps: Deps
) -> steps.validate.Verdict:
    """Validate the round, then send the next round or finalize (the router decides)."""
    verdict = steps.validate.validate(scope, session_id, attempt, deps)
    if verdict is steps.validate.Verdict.RECORDED:
        progress.advance(scope, session_id, deps)
    elif verdict is steps.validate.Verdict.IGNORED:
        release_if_ended(scope, session_id, deps)
    elif verdict is steps.validate.Verdict.WAITING:
        # Fired early: a child delivered twice was counted once, by the copy that found the
        # other one running. The reconciler validates once every child has ended.
        logger.warning("session %s round %s: children still running", session_id, attempt)
    return verdict


def finalize(scope: model.Scope, session_id: uuid.UUID, attempt: int, deps: Deps) -> None:
    """Commit the test files on the branch and push it, then end the session."""
    _move_on(steps.finalize.finalize(scope, session_id, attempt, deps), scope, session_id, deps)


def release_if_ended(scope: model.Scope, session_id: uuid.UUID, deps: Deps) -> None:
    """A step delivered again after its session ended: finish the ending the first delivery
    may not have (a worker killed between the end and the branch's deletion)."""
    branch.release(deps, scope, session_id)


def _move_on(recorded: bool, scope: model.Scope, session_id: uuid.UUID, deps: Deps) -> None:
    """After a step: move on if this delivery recorded its outcome, else finish an ending."""
    if recorded:
        progress.advance(scope, session_id, deps)
    else:
        release_if_ended(scope, session_id, deps)
