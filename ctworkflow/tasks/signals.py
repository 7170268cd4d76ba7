"""Worker hooks: cross-cutting behaviour lives here, never in task bodies.

Imported by the worker modules (``ctworkflow/workers/``), so it applies to workers and beat:
logging is configured from the settings (``ctworkflow.logs``), each task's log lines carry its
session, step and attempt, an unsandboxed worker says so, and prefork children never share
pooled database connections and die with their worker.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from celery import Task, platforms
from celery.signals import (
    celeryd_after_setup,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
)

from ctworkflow import logs
from ctworkflow.config import get_settings
from ctworkflow.effects import sandbox
from ctworkflow.persistence import db

logger = logging.getLogger(__name__)


@setup_logging.connect(weak=False)
def _configure_logging(loglevel: int | str | None = None, **_: Any) -> None:
    # Connected, this hook replaces Celery's own logging set-up in workers and beat.
    logs.configure(get_settings(), default=logs.SERVICE_LEVEL, requested=loglevel)


@functools.cache
def _signature(task: Task[Any, Any]) -> inspect.Signature:
    return inspect.signature(task.run)


def task_log_fields(
    task: Task[Any, Any], args: Sequence[Any], kwargs: Mapping[str, Any]
) -> dict[str, object]:
    """What a task's arguments say about the work: its session (or child) and attempt."""
    try:
        given = _signature(task).bind_partial(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return {}
    session = given.get("session_id") or given.get("child_id")
    return {"session_id": session, "attempt": given.get("attempt")}


@task_prerun.connect(weak=False)
def _bind_log_context(
    task_id: str = "",
    task: Task[Any, Any] | None = None,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    **_: Any,
) -> None:
    logs.clear()
    if task is None:
        return
    logs.bind(
        task_id=task_id,
        task=task.name,
        step=task.name.rsplit(".", 1)[-1],
        **task_log_fields(task, args or (), kwargs or {}),
    )


@task_postrun.connect(weak=False)
def _clear_log_context(**_: Any) -> None:
    logs.clear()


@celeryd_after_setup.connect(weak=False)
def _warn_when_unsandboxed(**_: Any) -> None:
    if get_settings().sandbox == sandbox.NONE:
        logger.warning(
            "CTW_SANDBOX=none: agents, test runs and environment builds run unsandboxed, "
            "with every right of this worker (see docs/security.md)"
        )


@worker_process_init.connect(weak=False)
def _forget_inherited_connections(**_: Any) -> None:
    # A prefork child must not share its parent's pooled database connections, and its
    # checkouts are the hot path: no pre-ping round trip on each (db.lend_untested).
    db.lend_untested()


@worker_process_init.connect(weak=False)
def _die_with_the_worker(**_: Any) -> None:
    # A pool process killed with its worker takes its runs along: each sandbox has
    # --die-with-parent. Celery's prefork pool asks for this too; we rely on it, so we say it.
    # (celery-types lacks set_pdeathsig.)
    platforms.set_pdeathsig("SIGKILL")  # type: ignore[attr-defined]


@worker_process_shutdown.connect(weak=False)
def _close_connections(**_: Any) -> None:
    db.dispose_engines(close=True)
