"""Worker hooks: cross-cutting behaviour lives here, never in task bodies."""

from __future__ import annotations

import logging
from typing import Any

from celery import platforms
from celery.signals import celeryd_after_setup, worker_process_init, worker_process_shutdown

from ctworkflow.config import get_settings
from ctworkflow.effects import sandbox
from ctworkflow.persistence import db

logger = logging.getLogger(__name__)


@celeryd_after_setup.connect(weak=False)
def _warn_when_unsandboxed(**_: Any) -> None:
    if get_settings().sandbox == sandbox.NONE:
        logger.warning(
            "CTW_SANDBOX=none: agents, test runs and environment builds run unsandboxed, "
            "with every right of this worker (see docs/security.md)"
        )


@worker_process_init.connect(weak=False)
def _forget_inherited_connections(**_: Any) -> None:
    # A prefork child must not share its parent's pooled database connections.
    db.dispose_engines(close=False)


@worker_process_init.connect(weak=False)
def _die_with_the_worker(**_: Any) -> None:
    # A pool process killed with its worker takes its runs along: each sandbox has
    # --die-with-parent. Celery's prefork pool asks for this too; we rely on it, so we say it.
    # (celery-types lacks set_pdeathsig.)
    platforms.set_pdeathsig("SIGKILL")  # type: ignore[attr-defined]


@worker_process_shutdown.connect(weak=False)
def _close_connections(**_: Any) -> None:
    db.dispose_engines(close=True)
