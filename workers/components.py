"""Component worker:

celery -A workers.components worker -Q ctw.components
"""

from __future__ import annotations

from ctworkflow.workers.components import app

app.config_from_object("celeryconfig")

__all__ = ["app"]
