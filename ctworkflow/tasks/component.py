"""The component testing task: one round of one child session, on the long-run queue."""

from __future__ import annotations

import uuid

from ctworkflow import constants
from ctworkflow.config import get_settings
from ctworkflow.domain.model import Scope
from ctworkflow.tasks.app import app
from ctworkflow.workflow.component import ChildResult, run_component
from ctworkflow.workflow.effects import live_effects

_settings = get_settings()


@app.task(
    name=constants.RUN_COMPONENT,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=int(_settings.component_soft_time_limit_s),
    time_limit=int(_settings.component_time_limit_s),
)
def run(scope: dict[str, str], child_id: str, attempt: int) -> ChildResult:
    """Write, run and fix one component's tests; failures come back as data, never raised."""
    return run_component(Scope.from_json(scope), uuid.UUID(child_id), attempt, live_effects())
