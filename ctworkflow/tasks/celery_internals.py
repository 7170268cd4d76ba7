"""The only module that touches Celery's private attributes, checked against one Celery.

Celery's Redis result backend subscribes the sending process to the result of every header
task of a chord it sends, and keeps their result objects until those results arrive
(celery#3812, celery#6963). A worker that sends a round never reads them, so it would hold one
result object and one Redis subscription per child it ever spawned. No public API lets go of
them: :func:`stop_waiting` reaches into the backend's private table of pending results
(``_pending_results``) and its result consumer (``result_consumer.cancel_for``).

Its tests pin it to :data:`CHECKED_CELERY`: ``tests/unit/test_celery_internals.py`` (and the
integration one) fail, saying what to re-check, when another Celery is installed, and
``tests/integration/test_celery_internals.py`` exercises :func:`stop_waiting` on a real Redis
backend, where Redis itself counts the subscriptions left.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import celery
from celery import Celery

#: The Celery versions whose private attributes below were read and tested.
CHECKED_CELERY = ("5.7.0",)


def unchecked_version() -> str | None:
    """Why the installed Celery is not the one this module was checked against; None if it is."""
    if celery.__version__ in CHECKED_CELERY:
        return None
    return (
        f"celery {celery.__version__} is installed, but ctworkflow/tasks/celery_internals.py "
        f"was checked against celery {', '.join(CHECKED_CELERY)} only: read its private "
        "attributes (backend._pending_results, backend.result_consumer.cancel_for, "
        "result_consumer.subscribed_to) in the new celery/backends/asynchronous.py and "
        "redis.py, run tests/integration/test_celery_internals.py, then add the version to "
        "CHECKED_CELERY"
    )


def stop_waiting(app: Celery, task_ids: Iterable[str]) -> None:
    """Forget the results this process waits on for ``task_ids``, and their subscriptions.

    A result backend that does not subscribe (no pending table or no result consumer) is
    left as it is.
    """
    backend: Any = app.backend
    pending = getattr(backend, "_pending_results", None)
    consumer = getattr(backend, "result_consumer", None)
    if pending is None or consumer is None:
        return
    ids = list(task_ids)
    for waiting in pending:
        for task_id in ids:
            waiting.pop(task_id, None)
    for task_id in ids:
        consumer.cancel_for(task_id)


@dataclass(frozen=True, slots=True)
class Held:
    """What this process still holds of the results it sent: result ids waited on, and Redis
    channels it subscribes to."""

    results_waited_on: int
    redis_subscriptions: int

    def to_json(self) -> dict[str, int]:
        return {
            "redis_subscriptions": self.redis_subscriptions,
            "results_waited_on": self.results_waited_on,
        }


def held(app: Celery) -> Held:
    """What the backend of ``app`` holds in this process (what :func:`stop_waiting` drops)."""
    backend: Any = app.backend
    consumer = getattr(backend, "result_consumer", None)
    subscribed = getattr(consumer, "subscribed_to", ()) if consumer is not None else ()
    pending = getattr(backend, "_pending_results", ())
    return Held(
        results_waited_on=sum(len(waiting) for waiting in pending),
        redis_subscriptions=len(subscribed),
    )
