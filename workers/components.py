"""Worker for component runs: ``celery -A workers.components worker -Q ctw.components``."""

from __future__ import annotations

from ctworkflow.tasks import signals  # noqa: F401  (worker hooks)
from ctworkflow.tasks.app import app

__all__ = ["app"]
