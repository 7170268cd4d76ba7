"""Worker for component runs.

celery -A ctworkflow.workers.components worker -Q ctw.components
"""

from __future__ import annotations

from ctworkflow.tasks.preflight import settings_or_exit

settings_or_exit("components")  # before any task module reads the settings

from ctworkflow.tasks import signals  # noqa: E402, F401  (worker hooks)
from ctworkflow.tasks.app import app  # noqa: E402

__all__ = ["app"]
