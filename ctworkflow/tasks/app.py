"""The Celery application, configured from ``ctworkflow.celery_defaults`` (our settings); the
deployment's workers (`workers/` at the repository's top level) load `celeryconfig` over them."""

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
app.config_from_object("ctworkflow.celery_defaults")
