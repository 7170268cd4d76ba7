"""The full workflow for a shape: one context testing session per context, bench agent/runner."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import sqlalchemy as sa
from celery import Celery

from ctworkflow import constants
from ctworkflow.domain.states import TERMINAL
from ctworkflow.persistence.db import get_engine
from ctworkflow.persistence.tables import SessionRow
from tests.benchmarks.bare import Timing
from tests.benchmarks.fixture import BenchProject
from tests.benchmarks.noop import NOOP

POLL_S = 0.25


def _context_sessions(database_url: str, project: BenchProject) -> list[Any]:
    query = sa.select(SessionRow.status, SessionRow.completed_at).where(
        SessionRow.project_id == project.scope.project_id, SessionRow.parent_id.is_(None)
    )
    with get_engine(database_url).connect() as connection:
        return list(connection.execute(query))


def run_orchestrated(
    client: Celery, database_url: str, project: BenchProject, timeout_s: float
) -> tuple[Timing, dict[str, int]]:
    """Start every context's session by task name, as a backend service does; wait for all.

    The measurement ends at the latest ``completed_at`` of the context sessions.
    """
    started = time.time()
    for context in project.contexts:
        client.send_task(
            constants.START_CONTEXT_TESTING,
            kwargs={
                "account_id": str(project.scope.account_id),
                "project_id": str(project.scope.project_id),
                "context": context.module_name,
                "user_id": "bench",
                "agent": NOOP,
            },
            queue=constants.ORCHESTRATION_QUEUE,
            ignore_result=True,
        )
    deadline = time.monotonic() + timeout_s
    total = len(project.contexts)
    while True:
        found = _context_sessions(database_url, project)
        ended = [row for row in found if row.status in TERMINAL]
        if len(ended) == total or time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    statuses = Counter(str(row.status.value) for row in found)
    last = max((row.completed_at.timestamp() for row in ended), default=time.time())
    timing = Timing(
        seconds=last - started,
        children=project.shape.children,
        ended=len(ended),
        total=total,
    )
    return timing, dict(statuses)
