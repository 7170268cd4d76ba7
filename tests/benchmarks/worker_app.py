"""The benchmark's worker app: the production app, plus the no-op tasks of the bare chords.

    celery -A tests.benchmarks.worker_app worker -Q ctw.orchestration,ctw.components

The same worker processes serve both the bare chords and the orchestrated sessions. The no-op
tasks, agent and runner are registered here only, never in the production app.
"""

from __future__ import annotations

import time
from typing import Any

from ctworkflow.workers.preflight import settings_or_exit

settings_or_exit("bench")  # before any task module reads the settings

from ctworkflow.tasks import signals  # noqa: E402, F401  (worker hooks)
from ctworkflow.tasks.app import app  # noqa: E402
from tests.benchmarks import noop  # noqa: E402
from tests.benchmarks.bare import BARE_CALLBACK, BARE_CHILD  # noqa: E402

noop.register()  # the bench-noop agent and runner exist in this worker only


@app.task(name=BARE_CHILD)
def bare_child() -> None:
    """A chord header task that does nothing (and touches no database)."""


@app.task(name=BARE_CALLBACK)
def bare_callback(results: list[Any]) -> float:
    """A chord callback that does nothing but say when it ran (wall clock, seconds)."""
    return time.time()


__all__ = ["BARE_CALLBACK", "BARE_CHILD", "app"]
