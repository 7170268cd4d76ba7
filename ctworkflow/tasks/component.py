"""The component testing task: one round of one child session, on the long-run queue."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from celery import Task
from celery.utils.log import get_task_logger

from ctworkflow import constants
from ctworkflow.config import get_settings
from ctworkflow.domain.model import Scope
from ctworkflow.tasks.app import app
from ctworkflow.tasks.outcome_events import ReportsOutcome
from ctworkflow.workflow.component import ChildResult, run_component
from ctworkflow.workflow.deps import live_deps

_settings = get_settings()
logger = get_task_logger(__name__)


def _progress_events(task: Task[Any, Any]) -> Callable[[str, int], None]:
    """Send a ``task-progress`` event per step; a lost event never fails the run."""

    def send(step: str, attempt: int) -> None:
        try:
            task.send_event("task-progress", step=step, attempt=attempt, retry=False)
        except Exception:
            logger.debug("could not send a progress event", exc_info=True)

    return send


@app.task(
    bind=True,
    # Flower shows the run failed when its component failed (its result stays a success).
    base=ReportsOutcome,
    name=constants.RUN_COMPONENT,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=int(_settings.component_soft_time_limit_s),
    time_limit=int(_settings.component_time_limit_s),
)
def run(self: Task[Any, Any], scope: dict[str, str], child_id: str, attempt: int) -> ChildResult:
    """Write, run and fix one component's tests; failures come back as data, never raised."""
    deps = dataclasses.replace(live_deps(), progress=_progress_events(self))
    return run_component(Scope.from_json(scope), uuid.UUID(child_id), attempt, deps)
