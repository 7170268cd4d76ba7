"""Orchestration worker (and beat).

celery -A ctworkflow.workers.orchestration worker -Q ctw.orchestration
"""

from __future__ import annotations

from ctworkflow.tasks.preflight import settings_or_exit

settings_or_exit("orchestration")  # before any task module reads the settings

from ctworkflow.tasks import signals  # noqa: E402, F401  (worker hooks)
from ctworkflow.tasks.app import app  # noqa: E402

__all__ = ["app"]
