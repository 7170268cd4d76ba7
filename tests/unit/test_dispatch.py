"""The messages the dispatcher builds, read back from kombu's in-process broker.

Each names a task the workers have, with arguments that task's signature takes (ids and small
JSON values), on the queue of its kind, under the task id a cancel revokes.
"""

from __future__ import annotations

import inspect
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from celery import Celery

from ctworkflow import constants
from ctworkflow.config import get_settings
from ctworkflow.domain.model import Scope
from ctworkflow.domain.routing import Next
from ctworkflow.domain.states import ParentStep
from ctworkflow.tasks import component, context, maintenance, webhooks  # noqa: F401  (the tasks)
from ctworkflow.tasks.app import app as ctworkflow_app
from ctworkflow.tasks.dispatch import CeleryDispatcher, run_task_id, step_task_id

QUEUES = (constants.ORCHESTRATION_QUEUE, constants.COMPONENT_QUEUE)
SCOPE = Scope(account_id=uuid.uuid4(), project_id=uuid.uuid4(), user_id="ops")


@dataclass(frozen=True, slots=True)
class Sent:
    queue: str
    task: str
    task_id: str
    args: list[Any]
    kwargs: dict[str, Any]
    argsrepr: str
    eta: str | None


@pytest.fixture
def app() -> Iterator[Celery]:
    """Our configuration on kombu's in-process broker (no server)."""
    app = Celery("ctw-dispatch-test")
    app.config_from_object("ctworkflow.celery_defaults")
    app.conf.update(
        broker_url="memory://", result_backend="cache+memory://", broker_transport_options={}
    )
    taken(app)  # the in-process broker is shared by the whole process: start empty
    yield app
    taken(app)


def taken(app: Celery) -> list[Sent]:
    """Every message waiting in our queues, taken off them."""
    found: list[Sent] = []
    with app.connection_for_read() as connection:
        for name in QUEUES:
            queue = app.amqp.queues[name].bind(connection.default_channel)
            queue.declare()
            while (message := queue.get(no_ack=True)) is not None:
                args, kwargs, _embed = message.payload
                headers = message.headers
                found.append(
                    Sent(
                        name,
                        headers["task"],
                        headers["id"],
                        args,
                        kwargs,
                        headers["argsrepr"],
                        headers.get("eta"),
                    )
                )
    return found


def fits(sent: Sent) -> None:
    """The message's task exists and takes its arguments; they are small JSON values."""
    task = ctworkflow_app.tasks[sent.task]
    inspect.signature(task.run).bind(*sent.args, **sent.kwargs)
    assert len(json.dumps([sent.args, sent.kwargs])) < 400
    kind = QUEUES[0] if sent.task in constants.ORCHESTRATION_TASKS else QUEUES[1]
    assert sent.queue == kind, sent


def test_every_wake_up_fits_the_task_it_names(app: Celery) -> None:
    parent, children = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    dispatcher = CeleryDispatcher(app)

    dispatcher.send_step(SCOPE, parent, Next(step=ParentStep.INITIALIZE))
    dispatcher.send_round(SCOPE, parent, 2, children)
    dispatcher.send_validation(SCOPE, parent, 2)
    dispatcher.send_component(SCOPE, parent, children[0], 2)
    dispatcher.send_release(SCOPE, parent)
    dispatcher.send_webhook(uuid.uuid4())

    sent = taken(app)
    for message in sent:
        fits(message)
    assert sorted(m.task for m in sent) == sorted(
        [
            constants.INITIALIZE,
            constants.RUN_COMPONENT,
            constants.RUN_COMPONENT,
            constants.VALIDATE,
            constants.RUN_COMPONENT,
            constants.RELEASE_BRANCH,
            constants.DELIVER_WEBHOOK,
        ]
    )
    # A round's runs carry the ids a cancel revokes; Flower finds them by the parent's id.
    runs = [m for m in sent if m.task == constants.RUN_COMPONENT]
    assert {m.task_id for m in runs} == {run_task_id(c, 2) for c in children}
    assert all(f"parent={parent}" in m.argsrepr for m in runs)
    initialize = next(m for m in sent if m.task == constants.INITIALIZE)
    assert initialize.task_id == step_task_id(parent, ParentStep.INITIALIZE, 1)
    assert initialize.argsrepr == f"(session={parent}, attempt=1)"
    assert initialize.args[0] == SCOPE.to_json() and Scope.from_json(initialize.args[0]) == SCOPE


def test_a_round_with_nothing_to_run_is_its_validation_alone(app: Celery) -> None:
    parent = uuid.uuid4()

    CeleryDispatcher(app).send_round(SCOPE, parent, 3, [])

    (sent,) = taken(app)
    assert sent.task == constants.VALIDATE
    assert sent.args == [[], SCOPE.to_json(), str(parent), 3]


def test_a_step_of_a_later_attempt_waits_its_backoff(
    app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTW_RETRY_BACKOFF_S", "30")
    get_settings.cache_clear()
    session = uuid.uuid4()
    dispatcher = CeleryDispatcher(app)

    dispatcher.send_step(SCOPE, session, Next(step=ParentStep.INITIALIZE, attempt=1))
    dispatcher.send_step(SCOPE, session, Next(step=ParentStep.FINALIZE, attempt=2))

    by_task = {m.task: m for m in taken(app)}
    assert by_task[constants.INITIALIZE].eta is None
    assert by_task[constants.FINALIZE].eta is not None
    assert by_task[constants.FINALIZE].task_id == step_task_id(session, ParentStep.FINALIZE, 2)
