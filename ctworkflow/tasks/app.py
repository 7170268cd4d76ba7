"""The Celery application, configured from ``ctworkflow.celeryconfig`` (our settings)."""

from __future__ import annotations

from celery import Celery

app = Celery(
    "ctworkflow",
    include=[
        "ctworkflow.tasks.context",
        "ctworkflow.tasks.component",
        "ctworkflow.tasks.entry",
        "ctworkflow.tasks.maintenance",
        "ctworkflow.tasks.webhooks",
    ],
)
app.config_from_object("ctworkflow.celeryconfig")
