"""Tasks of a context testing session: each step is a task; the router says which comes next."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import Signature, chord
from celery.result import GroupResult
from celery.utils.log import get_task_logger
from kombu import exceptions as kombu_exc
from sqlalchemy import exc as sa_exc

from ctworkflow import constants, errors
from ctworkflow.config import get_settings
from ctworkflow.domain.model import Scope
from ctworkflow.domain.orchestrator import Next, backoff_seconds
from ctworkflow.domain.states import ParentStep
from ctworkflow.tasks.app import app
from ctworkflow.workflow import branch, context, progress
from ctworkflow.workflow.effects import Effects, live_effects

logger = get_task_logger(__name__)

STEP_TASKS = {
    ParentStep.INITIALIZE: constants.INITIALIZE,
    ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS: constants.SPAWN,
    ParentStep.FINALIZE: constants.FINALIZE,
}

#: Infrastructure hiccups worth a Celery retry; every other failure is recorded as data.
RETRY_ON = (errors.TransientError, sa_exc.OperationalError, sa_exc.InterfaceError)
STEP_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    # Steps return nothing; their outcome lives in the database, not in the result backend.
    "ignore_result": True,
    "autoretry_for": RETRY_ON,
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 8,
}


def step_task_id(session_id: str, step: str, attempt: int) -> str:
    """A readable, deterministic task id (shown by Flower; used to revoke)."""
    return f"ctw-{session_id}-{step}-a{attempt}"


@contextmanager
def publishing() -> Iterator[None]:
    """Turn a publish the broker refused or let time out into BrokerUnavailable.

    How long a publish may block is bounded in ``celeryconfig`` (``CTW_BROKER_TIMEOUT_S``
    per connection attempt or command, and a bounded number of retries).
    """
    try:
        yield
    except (kombu_exc.OperationalError, ConnectionError, TimeoutError) as error:
        raise errors.BrokerUnavailable(f"the broker is unreachable: {error}") from error


def enqueue(scope: dict[str, str], session_id: str, route: Next) -> None:
    """Send the task of ``route``'s step, after the backoff its attempt calls for.

    Raises:
        BrokerUnavailable: the broker could not take the message in time.
    """
    settings = get_settings()
    countdown = backoff_seconds(
        route.attempt, base_s=settings.retry_backoff_s, cap_s=settings.retry_backoff_cap_s
    )
    with publishing():
        app.send_task(
            STEP_TASKS[ParentStep(route.step)],
            args=(scope, session_id, route.attempt),
            queue=constants.ORCHESTRATION_QUEUE,
            countdown=countdown or None,
            task_id=step_task_id(session_id, route.step, route.attempt),
            argsrepr=f"(session={session_id}, attempt={route.attempt})",
            ignore_result=True,
        )


def enqueue_validation(scope: dict[str, str], session_id: str, attempt: int) -> None:
    """Validate a round outside its chord: it fired early, or its counter was lost."""
    app.send_task(
        constants.VALIDATE,
        args=([], scope, session_id, attempt),
        queue=constants.ORCHESTRATION_QUEUE,
        argsrepr=f"(session={session_id}, attempt={attempt})",
        ignore_result=True,
    )


def run_argsrepr(child_id: str, parent_id: str, attempt: int) -> str:
    """How Flower shows a component run: searching for the parent session's id finds it."""
    return f"(session={child_id}, parent={parent_id}, attempt={attempt})"


def enqueue_component(scope: dict[str, str], parent_id: str, child_id: str, attempt: int) -> None:
    """Run a component's round outside its chord (the reconciler re-driving a lost run)."""
    app.send_task(
        constants.RUN_COMPONENT,
        args=(scope, child_id, attempt),
        queue=constants.COMPONENT_QUEUE,
        task_id=step_task_id(child_id, "run", attempt),
        argsrepr=run_argsrepr(child_id, parent_id, attempt),
        ignore_result=True,
    )


def revoke(task_ids: list[str]) -> None:
    """Revoke queued tasks by id (running ones stop by themselves on seeing the cancel).

    Raises:
        BrokerUnavailable: the broker could not take the revocation.
    """
    if task_ids:
        with publishing():
            app.control.revoke(task_ids)


def enqueue_release(scope: dict[str, str], session_id: str) -> None:
    """Delete the empty branch a session that just ended left, in a worker (a cancel).

    Raises:
        BrokerUnavailable: the broker could not take the message in time.
    """
    with publishing():
        app.send_task(
            constants.RELEASE_BRANCH,
            args=(scope, session_id),
            queue=constants.ORCHESTRATION_QUEUE,
            argsrepr=f"(session={session_id})",
            ignore_result=True,
        )


class StepSender:
    """The :class:`~ctworkflow.ports.Dispatcher` of the steps: :func:`enqueue`."""

    def send_step(self, scope: Scope, session_id: uuid.UUID, route: Next) -> None:
        enqueue(scope.to_json(), str(session_id), route)


def step_effects() -> Effects:
    """The live effects of a step task, sending the next step through Celery."""
    return live_effects(dispatcher=StepSender())


def advance(scope: dict[str, str], session_id: str) -> None:
    """Ask the router what comes next for a session, and enqueue it (or end the session,
    deleting the empty branch it created): :func:`ctworkflow.workflow.progress.advance`."""
    progress.advance(Scope.from_json(scope), uuid.UUID(session_id), step_effects())


@app.task(name=constants.INITIALIZE, **STEP_OPTIONS)
def initialize(scope: dict[str, str], session_id: str, attempt: int) -> None:
    """Create the session's branch on the remote (logic: ctworkflow.workflow.context)."""
    if context.initialize(Scope.from_json(scope), uuid.UUID(session_id), attempt, live_effects()):
        advance(scope, session_id)
    else:
        _release_if_ended(scope, session_id)


@app.task(name=constants.SPAWN, **STEP_OPTIONS)
def spawn_component_testing_sessions(scope: dict[str, str], session_id: str, attempt: int) -> None:
    """Fan out one component testing task per child as a chord; validation is its callback."""
    fan_out = context.spawn(Scope.from_json(scope), uuid.UUID(session_id), attempt, live_effects())
    if fan_out is None:
        return
    header, callback = round_signatures(scope, session_id, attempt, fan_out.run_ids)
    if header:
        send_round(header, callback)
    else:  # nothing to re-run: validate what is there
        callback.apply_async(args=([], *callback.args))


def round_signatures(
    scope: dict[str, str], session_id: str, attempt: int, run_ids: Iterable[uuid.UUID]
) -> tuple[list[Signature[Any]], Signature[Any]]:
    """The chord of one round: a component run per child, then validation."""
    callback = app.signature(
        constants.VALIDATE,
        args=(scope, session_id, attempt),
        queue=constants.ORCHESTRATION_QUEUE,
        argsrepr=f"(session={session_id}, attempt={attempt})",
        ignore_result=True,
    )
    header = [
        app.signature(
            constants.RUN_COMPONENT,
            args=(scope, str(child_id), attempt),
            queue=constants.COMPONENT_QUEUE,
            task_id=step_task_id(str(child_id), "run", attempt),
            argsrepr=run_argsrepr(str(child_id), session_id, attempt),
        )
        for child_id in run_ids
    ]
    return header, callback


def send_round(header: list[Signature[Any]], callback: Signature[Any]) -> None:
    """Send a round's chord and keep nothing of it in this process.

    Celery's Redis result backend subscribes the sending process to the result of every
    header task and keeps their result objects until those results arrive (celery#3812,
    celery#6963), which in a worker process nobody reads: a pool process would hold every
    child it ever spawned, 10,000 result objects and Redis subscriptions for a context of
    10,000 components, for its whole life. The spawn needs none of them: validation is the
    chord's callback.
    """
    sent = chord(header)(callback)
    if isinstance(sent.parent, GroupResult):
        _stop_waiting([result.id for result in sent.parent.results or ()])


def _stop_waiting(task_ids: list[str]) -> None:
    backend = app.backend
    pending = getattr(backend, "_pending_results", None)
    consumer = getattr(backend, "result_consumer", None)
    if pending is None or consumer is None:  # a result backend that does not subscribe
        return
    for waiting in pending:
        for task_id in task_ids:
            waiting.pop(task_id, None)
    for task_id in task_ids:
        consumer.cancel_for(task_id)


@app.task(name=constants.VALIDATE, **STEP_OPTIONS)
def validate(results: list[Any], scope: dict[str, str], session_id: str, attempt: int) -> None:
    """Chord callback: validate the round, then retry the fan-out or go on to finalize."""
    logger.info("session %s round %s: %d component results", session_id, attempt, len(results))
    verdict = context.validate(
        Scope.from_json(scope), uuid.UUID(session_id), attempt, live_effects()
    )
    if verdict is context.Verdict.RECORDED:
        advance(scope, session_id)
    elif verdict is context.Verdict.IGNORED:
        _release_if_ended(scope, session_id)
    elif verdict is context.Verdict.WAITING:
        # Fired early: a child delivered twice was counted once, by the copy that found the
        # other one running. The reconciler validates once every child has ended.
        logger.warning("session %s round %s: children still running", session_id, attempt)


@app.task(name=constants.FINALIZE, **STEP_OPTIONS)
def finalize(scope: dict[str, str], session_id: str, attempt: int) -> None:
    """Commit the test files on the branch and push it (logic: ctworkflow.workflow.context)."""
    if context.finalize(Scope.from_json(scope), uuid.UUID(session_id), attempt, live_effects()):
        advance(scope, session_id)
    else:
        _release_if_ended(scope, session_id)


def _release_if_ended(scope: dict[str, str], session_id: str) -> None:
    """A step delivered again after its session ended: finish the ending the first delivery
    may not have (a worker killed between the end and the branch's deletion)."""
    branch.release(live_effects(), Scope.from_json(scope), uuid.UUID(session_id))


@app.task(name=constants.RELEASE_BRANCH, **STEP_OPTIONS)
def release_branch(scope: dict[str, str], session_id: str) -> None:
    """Delete the empty branch of an ended session (logic: ctworkflow.workflow.branch)."""
    branch.release(live_effects(), Scope.from_json(scope), uuid.UUID(session_id))
