"""Component worker (component runs, and validation unless a verification worker takes it):

celery -A workers.components worker -Q ctw.components,ctw.verification
celery -A workers.components worker -Q ctw.verification   # a dedicated verification worker
"""

from __future__ import annotations

from ctworkflow.workers.components import app

app.config_from_object("celeryconfig")

__all__ = ["app"]
