"""Waiting out a database restart where giving up would cost a run: its claim and its end."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from ctworkflow import errors
from ctworkflow.workflow.deps import Deps

logger = logging.getLogger(__name__)

#: How long a run keeps trying to claim or record itself while the database is unreachable.
RECORD_PATIENCE_S = 120.0

_T = TypeVar("_T")


def patiently(deps: Deps, action: Callable[[], _T], what: str) -> _T:
    """Run ``action`` (one transaction), again while the database is unreachable.

    Without a pool pre-ping, the first use of a connection that died with a PostgreSQL restart
    fails (and the pool drops its connections); the next try opens a new one. A claim that gave
    up would fail a child nothing was wrong with; an end that gave up would lose finished work.
    """
    delay = 0.5
    deadline = deps.clock.monotonic() + RECORD_PATIENCE_S
    while True:
        try:
            return action()
        except errors.DatabaseUnavailable:
            if deps.clock.monotonic() >= deadline:
                raise
            logger.warning("database unreachable; %s again in %.1fs", what, delay)
            deps.clock.sleep(delay)
            delay = min(delay * 2, 5.0)
