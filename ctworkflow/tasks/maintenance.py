"""The reconciler as a task (run by Celery beat) and its Celery sender."""

from __future__ import annotations

import uuid
from typing import Any

from ctworkflow import constants
from ctworkflow.domain import model
from ctworkflow.domain.orchestrator import Next
from ctworkflow.tasks import context
from ctworkflow.tasks.app import app
from ctworkflow.workflow.reconciler import reconcile


class CelerySender:
    """Sends the reconciler's wake-ups as the workflow's own tasks."""

    def step(self, scope: model.Scope, session_id: uuid.UUID, route: Next) -> None:
        context.enqueue(scope.to_json(), str(session_id), route)

    def component(
        self, scope: model.Scope, parent_id: uuid.UUID, child_id: uuid.UUID, attempt: int
    ) -> None:
        context.enqueue_component(scope.to_json(), str(parent_id), str(child_id), attempt)

    def validation(self, scope: model.Scope, session_id: uuid.UUID, attempt: int) -> None:
        context.enqueue_validation(scope.to_json(), str(session_id), attempt)


@app.task(name=constants.RECONCILE, ignore_result=True, acks_late=True)
def reconcile_sessions() -> dict[str, Any]:
    """One reconciler pass (Celery beat runs it every ``CTW_RECONCILE_INTERVAL_S``)."""
    return reconcile(CelerySender()).to_json()
