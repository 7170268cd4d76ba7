"""Orchestration worker (and beat):

celery -A workers.orchestration worker -Q ctw.orchestration
"""

from __future__ import annotations

from ctworkflow.workers.orchestration import app

app.config_from_object("celeryconfig")

__all__ = ["app"]
