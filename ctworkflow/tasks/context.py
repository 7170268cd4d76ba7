"""Tasks of a context testing session: doorways into :mod:`ctworkflow.workflow.drive`.

Each decodes its arguments (built by :mod:`ctworkflow.tasks.dispatch`), calls one workflow
function with the live dependencies, whose dispatcher is Celery's, and returns nothing: a step's
outcome lives in the database, and what comes next is the router's choice, sent by the workflow.
"""

from __future__ import annotations

import uuid
from typing import Any

from celery.utils.log import get_task_logger

from ctworkflow import constants, errors
from ctworkflow.domain.model import Scope
from ctworkflow.domain.states import ParentStep
from ctworkflow.tasks import live, retries
from ctworkflow.tasks.app import app
from ctworkflow.workflow import branch, drive
from ctworkflow.workflow.deps import Deps

logger = get_task_logger(__name__)

#: Infrastructure hiccups worth a Celery retry (a database that cannot be reached among them,
#: raised by persistence as ``DatabaseUnavailable``); every other failure is recorded as data.
RETRY_ON = (errors.TransientError,)
STEP_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    # Steps return nothing; their outcome lives in the database, not in the result backend.
    "ignore_result": True,
    "autoretry_for": RETRY_ON,
    **retries.celery_options(retries.STEP_TASK_RETRY),
}


def step_deps() -> Deps:
    """The live dependencies of a step task, sending through Celery."""
    return live.deps()


def _deliver(step: ParentStep, scope: dict[str, str], session_id: str, attempt: int) -> None:
    """Run the step a message names through the workflow's step table."""
    drive.STEPS[step](Scope.from_json(scope), uuid.UUID(session_id), attempt, step_deps())


@app.task(name=constants.INITIALIZE, **STEP_OPTIONS)
def initialize(scope: dict[str, str], session_id: str, attempt: int) -> None:
    """Create the session's branch on the remote, then move on."""
    _deliver(ParentStep.INITIALIZE, scope, session_id, attempt)


@app.task(name=constants.SPAWN, **STEP_OPTIONS)
def spawn_component_testing_sessions(scope: dict[str, str], session_id: str, attempt: int) -> None:
    """Fan out one component testing task per child as a chord; validation is its callback."""
    _deliver(ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS, scope, session_id, attempt)


@app.task(name=constants.VALIDATE, **STEP_OPTIONS)
def validate(results: list[Any], scope: dict[str, str], session_id: str, attempt: int) -> None:
    """Chord callback: validate the round, then retry the fan-out or go on to finalize.

    ``results`` are the chord's (the children's own reports); validation reads the database.
    """
    logger.info("session %s round %s: %d component results", session_id, attempt, len(results))
    drive.validate(Scope.from_json(scope), uuid.UUID(session_id), attempt, step_deps())


@app.task(name=constants.FINALIZE, **STEP_OPTIONS)
def finalize(scope: dict[str, str], session_id: str, attempt: int) -> None:
    """Commit the test files on the branch and push it, then end the session."""
    _deliver(ParentStep.FINALIZE, scope, session_id, attempt)


@app.task(name=constants.RELEASE_BRANCH, **STEP_OPTIONS)
def release_branch(scope: dict[str, str], session_id: str) -> None:
    """Delete the empty branch of an ended session (logic: ctworkflow.workflow.branch)."""
    branch.release(step_deps(), Scope.from_json(scope), uuid.UUID(session_id))
