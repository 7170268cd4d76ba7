"""Worker hooks: cross-cutting behaviour lives here, never in task bodies."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_process_init, worker_process_shutdown

from ctworkflow.persistence import db

logger = logging.getLogger(__name__)


@worker_process_init.connect(weak=False)
def _forget_inherited_connections(**_: Any) -> None:
    # A prefork child must not share its parent's pooled database connections.
    db.dispose_engines(close=False)


@worker_process_shutdown.connect(weak=False)
def _close_connections(**_: Any) -> None:
    db.dispose_engines(close=True)
