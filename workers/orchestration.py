"""Orchestration worker: ``celery -A workers.orchestration worker -Q ctw.orchestration``."""

from __future__ import annotations

from ctworkflow.tasks import signals  # noqa: F401  (worker hooks)
from ctworkflow.tasks.app import app

__all__ = ["app"]
