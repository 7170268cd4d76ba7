"""The dispatcher: the one module that builds Celery messages.

Task names, queues, task ids, the argument tuples the tasks decode, Flower's argument
summaries, chords, countdowns and revocations are all made here, and every publish goes
through :func:`publishing`, so a broker that cannot take a message in time raises
:class:`~ctworkflow.errors.BrokerUnavailable` (the services then leave the session to the
reconciler). It imports no task module: messages name their task by its stable name
(``ctworkflow.constants``), so the services that send through it never load the tasks, and the
tasks, which call the services, form no cycle with them.

``tests/unit/test_dispatch_rule.py`` checks that no other module of the package sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from celery import Celery, Signature, chord
from celery.backends.base import BaseBackend
from celery.result import GroupResult
from kombu import exceptions as kombu_exc
from kombu.utils.uuid import uuid as celery_uuid

from ctworkflow import constants, errors
from ctworkflow.config import get_settings
from ctworkflow.domain import model
from ctworkflow.domain.routing import Next
from ctworkflow.domain.states import ParentStep
from ctworkflow.persistence import webhook_store
from ctworkflow.tasks import celery_internals
from ctworkflow.tasks.app import app as ctworkflow_app

#: The task of each step of a context session.
STEP_TASKS = {
    ParentStep.INITIALIZE: constants.INITIALIZE,
    ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS: constants.SPAWN,
    ParentStep.FINALIZE: constants.FINALIZE,
}


def step_task_id(session_id: uuid.UUID | str, step: str, attempt: int) -> str:
    """A readable, deterministic task id (shown by Flower; used to revoke)."""
    return f"ctw-{session_id}-{step}-a{attempt}"


def run_task_id(child_id: uuid.UUID | str, attempt: int) -> str:
    """The task id of a child's component run in round ``attempt``."""
    return step_task_id(child_id, "run", attempt)


def session_argsrepr(session_id: uuid.UUID | str, attempt: int | None = None) -> str:
    """How Flower shows a context session's step: its session and attempt, nothing else."""
    if attempt is None:
        return f"(session={session_id})"
    return f"(session={session_id}, attempt={attempt})"


def run_argsrepr(child_id: uuid.UUID | str, parent_id: uuid.UUID | str, attempt: int) -> str:
    """How Flower shows a component run: searching for the parent session's id finds it."""
    return f"(session={child_id}, parent={parent_id}, attempt={attempt})"


@contextmanager
def publishing() -> Iterator[None]:
    """Turn a publish the broker refused or let time out into BrokerUnavailable.

    How long a publish may block is bounded in ``celery_defaults`` (``CTW_BROKER_TIMEOUT_S``
    per connection attempt or command, and a bounded number of retries).
    """
    try:
        yield
    except (kombu_exc.OperationalError, ConnectionError, TimeoutError) as error:
        raise errors.BrokerUnavailable(f"the broker is unreachable: {error}") from error


def validation_callback(
    app: Celery, wire_scope: dict[str, str], session_id: uuid.UUID, attempt: int
) -> Signature[Any]:
    """A round's chord callback: its validation, on the verification queue (it runs the
    target's tests, minutes for a slow suite, so no orchestration step waits behind it)."""
    return app.signature(
        constants.VALIDATE,
        args=(wire_scope, str(session_id), attempt),
        queue=constants.VERIFICATION_QUEUE,
        argsrepr=session_argsrepr(session_id, attempt),
        ignore_result=True,
    )


def round_signatures(
    app: Celery,
    scope: model.Scope,
    session_id: uuid.UUID,
    attempt: int,
    run_ids: Sequence[uuid.UUID],
) -> tuple[list[Signature[Any]], Signature[Any]]:
    """The chord of one round: a component run per child, then validation.

    Validation runs the target's tests (minutes for a slow suite): it goes to the verification
    queue, so no orchestration step of another session waits behind it.
    """
    wire_scope = scope.to_json()
    callback = validation_callback(app, wire_scope, session_id, attempt)
    header = [
        app.signature(
            constants.RUN_COMPONENT, **_run_message(wire_scope, child_id, session_id, attempt)
        )
        for child_id in run_ids
    ]
    return header, callback


def _run_message(
    wire_scope: dict[str, str], child_id: uuid.UUID, session_id: uuid.UUID, attempt: int
) -> dict[str, Any]:
    """What a component run's message carries, whether a chord or a streamed round sends it."""
    return {
        "args": (wire_scope, str(child_id), attempt),
        "queue": constants.COMPONENT_QUEUE,
        "task_id": run_task_id(child_id, attempt),
        "argsrepr": run_argsrepr(child_id, session_id, attempt),
    }


def send_chord(app: Celery, header: list[Signature[Any]], callback: Signature[Any]) -> None:
    """Send a round's chord and keep nothing of it in this process.

    The spawn needs none of the header's results (validation is the chord's callback), but
    the Redis result backend would keep every one of them, and a subscription each, for the
    life of the sending worker process (:func:`celery_internals.stop_waiting`).
    """
    with publishing():
        sent = chord(header)(callback)
    if isinstance(sent.parent, GroupResult):
        celery_internals.stop_waiting(app, [result.id for result in sent.parent.results or ()])


#: Header messages sent between two releases of what the sender holds of their results.
STREAM_BATCH = 500


def streamed_chords(app: Celery) -> bool:
    """Tell whether ``app``'s result backend counts a chord's parts itself (Redis: the chord
    size is one key, each part returns into it), so a round can be sent one message at a
    time; a backend that polls (``chord_unlock``) needs Celery's whole chord."""
    return bool(app.backend.supports_native_join) and type(app.backend).set_chord_size is not (
        BaseBackend.set_chord_size
    )


def send_streamed_round(
    app: Celery,
    scope: model.Scope,
    session_id: uuid.UUID,
    attempt: int,
    run_ids: Sequence[uuid.UUID],
) -> None:
    """Send a round's chord one header message at a time, in flat memory.

    ``chord(header)(callback)`` clones, freezes and keeps every header signature and result
    until the last is sent: 10,000 children took the sending process from 94 to 148 MB
    (``python -m tests.benchmarks.chord_memory 10000``). This sends what it sends, on a
    backend that counts parts itself (:func:`streamed_chords`): the chord's size first, then
    each component run with the callback as its ``chord``, the round's group id and its index
    in the group (what the backend's part-return counts and deduplicates redeliveries by).
    """
    wire_scope = scope.to_json()
    callback = validation_callback(app, wire_scope, session_id, attempt)
    group_id = celery_uuid()
    callback.freeze(group_id=group_id)
    with publishing():
        app.backend.ensure_chords_allowed()
        app.backend.set_chord_size(group_id, len(run_ids))
        with app.producer_or_acquire() as producer:
            for start in range(0, len(run_ids), STREAM_BATCH):
                sent = [
                    app.send_task(
                        constants.RUN_COMPONENT,
                        **_run_message(wire_scope, child_id, session_id, attempt),
                        producer=producer,
                        chord=callback,  # type: ignore[arg-type]  # a Signature, as chord.run passes it
                        group_id=group_id,
                        group_index=start + offset,
                        add_to_parent=False,
                    ).id
                    for offset, child_id in enumerate(run_ids[start : start + STREAM_BATCH])
                ]
                celery_internals.stop_waiting(app, sent)


class CeleryDispatcher:
    """The workflow's wake-ups as Celery messages of ``app`` (the Dispatcher port)."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def send_step(self, scope: model.Scope, session_id: uuid.UUID, route: Next) -> None:
        countdown = get_settings().step_retry.delay_before(route.attempt)
        with publishing():
            self.app.send_task(
                STEP_TASKS[ParentStep(route.step)],
                args=(scope.to_json(), str(session_id), route.attempt),
                queue=constants.ORCHESTRATION_QUEUE,
                countdown=countdown or None,
                task_id=step_task_id(session_id, route.step, route.attempt),
                argsrepr=session_argsrepr(session_id, route.attempt),
                ignore_result=True,
            )

    def send_round(
        self, scope: model.Scope, session_id: uuid.UUID, attempt: int, run_ids: Sequence[uuid.UUID]
    ) -> None:
        if not run_ids:  # nothing to re-run: validate what is there
            self.send_validation(scope, session_id, attempt)
            return
        if streamed_chords(self.app):
            send_streamed_round(self.app, scope, session_id, attempt, run_ids)
            return
        header, callback = round_signatures(self.app, scope, session_id, attempt, run_ids)
        send_chord(self.app, header, callback)

    def send_validation(self, scope: model.Scope, session_id: uuid.UUID, attempt: int) -> None:
        with publishing():
            self.app.send_task(
                constants.VALIDATE,
                # What the chord would hand it first: the header's results (none here).
                args=([], scope.to_json(), str(session_id), attempt),
                queue=constants.VERIFICATION_QUEUE,
                argsrepr=session_argsrepr(session_id, attempt),
                ignore_result=True,
            )

    def send_component(
        self, scope: model.Scope, parent_id: uuid.UUID, child_id: uuid.UUID, attempt: int
    ) -> None:
        with publishing():
            self.app.send_task(
                constants.RUN_COMPONENT,
                args=(scope.to_json(), str(child_id), attempt),
                queue=constants.COMPONENT_QUEUE,
                task_id=run_task_id(child_id, attempt),
                argsrepr=run_argsrepr(child_id, parent_id, attempt),
                ignore_result=True,
            )

    def send_release(self, scope: model.Scope, session_id: uuid.UUID) -> None:
        with publishing():
            self.app.send_task(
                constants.RELEASE_BRANCH,
                args=(scope.to_json(), str(session_id)),
                queue=constants.ORCHESTRATION_QUEUE,
                argsrepr=session_argsrepr(session_id),
                ignore_result=True,
            )

    def revoke_runs(self, child_ids: Sequence[uuid.UUID], attempt: int) -> None:
        task_ids = [run_task_id(child_id, attempt) for child_id in child_ids]
        if task_ids:
            with publishing():
                self.app.control.revoke(task_ids)

    def send_webhook(self, delivery_id: uuid.UUID, countdown_s: float | None = None) -> None:
        with publishing():
            self.app.send_task(
                constants.DELIVER_WEBHOOK,
                args=(str(delivery_id),),
                queue=constants.ORCHESTRATION_QUEUE,
                countdown=countdown_s,
                ignore_result=True,
                # Fail fast with the broker down: the delivery is in the outbox and the sweep
                # sends it.
                retry=False,
            )


#: The dispatcher of ctworkflow's own Celery app (``ctworkflow.tasks.app``).
dispatcher = CeleryDispatcher(ctworkflow_app)


def _send_deliveries(delivery_ids: list[uuid.UUID]) -> None:
    for delivery_id in delivery_ids:
        dispatcher.send_webhook(delivery_id)


def send_deliveries_on_commit() -> None:
    """From now on, send each new webhook delivery once the transaction that wrote it commits
    (without it, the sweep sends them)."""
    webhook_store.on_committed(_send_deliveries)
