"""Processes that run no task: beat, Flower, and ``celery inspect`` (the health checks).

celery -A ctworkflow.workers.control beat
celery -A ctworkflow.workers.control flower
celery -A ctworkflow.workers.control inspect ping --destination components@HOST

The same app and settings as the workers, and the same logging, without a worker's start-up
checks of the sandbox: these processes run no agent and no test, so they need none.
"""

from __future__ import annotations

from ctworkflow import errors
from ctworkflow.config import get_settings

try:
    settings = get_settings()  # before any task module reads the settings
except errors.ConfigurationError as error:
    raise SystemExit(f"ctworkflow refuses to start: {error}") from None

from ctworkflow import logs

logs.configure(settings, default=logs.SERVICE_LEVEL)

from ctworkflow.tasks import signals  # noqa: E402, F401  (logging hook; beat runs no task)
from ctworkflow.tasks.app import app  # noqa: E402

__all__ = ["app"]
