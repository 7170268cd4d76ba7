"""The benchmark's worker app: the production app, plus the no-op tasks of the bare chords.

    celery -A tests.benchmarks.worker_app worker \
        -Q ctw.orchestration,ctw.components,ctw.verification

The same worker processes serve both the bare chords and the orchestrated sessions. The no-op
tasks, agent and runner are registered here only, never in the production app.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from celery import Task
from celery.signals import task_prerun

from ctworkflow.workers.preflight import settings_or_exit

settings_or_exit("bench")  # before any task module reads the settings

from ctworkflow import constants  # noqa: E402
from ctworkflow.tasks import signals  # noqa: E402, F401  (worker hooks)
from ctworkflow.tasks.app import app  # noqa: E402
from tests.benchmarks import noop  # noqa: E402
from tests.benchmarks.bare import BARE_CALLBACK, BARE_CHILD  # noqa: E402
from tests.benchmarks.fleet import SPAWNERS_FILE_VARIABLE  # noqa: E402

noop.register()  # the bench-noop agent and runner exist in this worker only


@task_prerun.connect
def note_spawner(sender: Task[Any, Any] | None = None, **_: Any) -> None:
    """Note this process's id when it runs a spawn step: the report names its memory."""
    spawners = os.environ.get(SPAWNERS_FILE_VARIABLE)
    if spawners and sender is not None and sender.name == constants.SPAWN:
        with Path(spawners).open("a") as file:
            file.write(f"{os.getpid()}\n")


@app.task(name=BARE_CHILD)
def bare_child() -> None:
    """A chord header task that does nothing (and touches no database)."""


@app.task(name=BARE_CALLBACK)
def bare_callback(results: list[Any]) -> float:
    """A chord callback that does nothing but say when it ran (wall clock, seconds)."""
    return time.time()


__all__ = ["BARE_CALLBACK", "BARE_CHILD", "app"]
