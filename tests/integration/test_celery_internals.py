"""``ctworkflow/tasks/celery_internals.py`` on a real Redis result backend, with this Celery.

The module reaches into private attributes of Celery's result backend; these tests say when the
installed Celery is not the one it was checked against, and show on a real Redis that a round
sent through the dispatcher leaves no subscription behind, where a plain chord does.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
import redis
from celery import Celery, chord
from celery.result import denied_join_result

from ctworkflow.domain.model import Scope
from ctworkflow.tasks import celery_internals
from ctworkflow.tasks.dispatch import CeleryDispatcher, round_signatures, run_task_id
from tests import servers

BROKER_DB, RESULTS_DB = 9, 10


@pytest.fixture
def app(redis_server: servers.RedisServer) -> Iterator[Celery]:
    """Our configuration on Redis databases no worker consumes from."""
    app = Celery("ctw-internals")
    app.config_from_object("ctworkflow.celery_defaults")
    app.conf.update(
        broker_url=redis_server.url(BROKER_DB), result_backend=redis_server.url(RESULTS_DB)
    )
    yield app
    for db in (BROKER_DB, RESULTS_DB):
        redis.Redis.from_url(redis_server.url(db)).flushdb()


def subscribers(app: Celery, redis_server: servers.RedisServer, ids: Sequence[str]) -> list[int]:
    """How many clients of the results database listen for each task's result (seen by
    Redis itself, from another connection)."""
    client = redis.Redis.from_url(redis_server.url(RESULTS_DB))
    backend: Any = app.backend  # a Redis backend (celery-types knows only the base class)
    channels = [backend.get_key_for_task(task_id) for task_id in ids]
    return [int(count) for _, count in client.pubsub_numsub(*channels)]


def eventually(probe: Callable[[], list[int]], expected: list[int]) -> list[int]:
    """``probe()`` once it gives ``expected`` (a subscribe reaches Redis on its own
    connection), else its last answer after a few seconds."""
    deadline = time.monotonic() + 5
    seen = probe()
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = probe()
    return seen


def test_the_installed_celery_is_the_one_checked() -> None:
    assert celery_internals.unchecked_version() is None, celery_internals.unchecked_version()


def test_a_plain_chord_leaves_the_sender_subscribed_to_every_child(
    app: Celery, redis_server: servers.RedisServer
) -> None:
    # Given a round of three children, sent as a plain chord from a worker-like process.
    scope = Scope(account_id=uuid.uuid4(), project_id=uuid.uuid4())
    children = [uuid.uuid4() for _ in range(3)]
    header, callback = round_signatures(app, scope, uuid.uuid4(), 1, children)
    with denied_join_result():
        chord(header)(callback)
    ids = [run_task_id(child, 1) for child in children]

    # Then this Celery keeps a subscription and a result object per child (what
    # celery_internals.stop_waiting is for).
    assert eventually(lambda: subscribers(app, redis_server, ids), [1, 1, 1]) == [1, 1, 1]
    assert celery_internals.held(app) == celery_internals.Held(
        results_waited_on=3, redis_subscriptions=3
    )

    # When it stops waiting on them, Redis sees nobody listening any more.
    celery_internals.stop_waiting(app, ids)
    assert eventually(lambda: subscribers(app, redis_server, ids), [0, 0, 0]) == [0, 0, 0]
    assert celery_internals.held(app) == celery_internals.Held(0, 0)


def test_a_round_sent_through_the_dispatcher_leaves_nothing_in_the_sender(
    app: Celery, redis_server: servers.RedisServer
) -> None:
    scope = Scope(account_id=uuid.uuid4(), project_id=uuid.uuid4())
    children = [uuid.uuid4() for _ in range(3)]

    with denied_join_result():
        CeleryDispatcher(app).send_round(scope, uuid.uuid4(), 2, children)

    ids = [run_task_id(child, 2) for child in children]
    assert eventually(lambda: subscribers(app, redis_server, ids), [0, 0, 0]) == [0, 0, 0]
    assert celery_internals.held(app) == celery_internals.Held(0, 0)
    # The round itself went out: one run per child waits on the component queue.
    queued = redis.Redis.from_url(redis_server.url(BROKER_DB)).llen("ctw.components")
    assert queued == 3
