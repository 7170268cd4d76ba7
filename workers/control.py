"""Beat, Flower and ``celery inspect`` (the health checks), with no worker's sandbox check:

celery -A workers.control beat
celery -A workers.control flower
celery -A workers.control inspect ping --destination components@HOST
"""

from __future__ import annotations

from ctworkflow.workers.control import app

app.config_from_object("celeryconfig")

__all__ = ["app"]
