"""Orchestration worker (and beat).

celery -A ctworkflow.workers.orchestration worker -Q ctw.orchestration
"""

from __future__ import annotations

from ctworkflow.workers.preflight import settings_or_exit

settings = settings_or_exit("orchestration")  # before any task module reads the settings

from ctworkflow import logs  # noqa: E402

# Configured at once, so what Celery says before its own logging set-up (which our hook
# replaces: ctworkflow.tasks.signals) is formatted too.
logs.configure(settings, default=logs.SERVICE_LEVEL)

from ctworkflow.tasks import signals  # noqa: E402, F401  (worker hooks)
from ctworkflow.tasks.app import app  # noqa: E402

__all__ = ["app"]
