"""The reconciler as a task (run by Celery beat), sending through the dispatcher."""

from __future__ import annotations

from typing import Any

from ctworkflow import constants
from ctworkflow.tasks import live
from ctworkflow.tasks.app import app
from ctworkflow.workflow.reconciler import reconcile


@app.task(name=constants.RECONCILE, ignore_result=True, acks_late=True)
def reconcile_sessions() -> dict[str, Any]:
    """One reconciler pass (Celery beat runs it every ``CTW_RECONCILE_INTERVAL_S``)."""
    return reconcile(live.deps()).to_json()
