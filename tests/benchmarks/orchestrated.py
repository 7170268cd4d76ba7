"""The full workflow for a shape: one context testing session per context, bench agent/runner."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from celery import Celery

from ctworkflow import constants
from ctworkflow.domain.states import TERMINAL
from ctworkflow.persistence.db import get_engine
from ctworkflow.persistence.tables import SessionRow
from tests.benchmarks.bare import Timing
from tests.benchmarks.fixture import BenchProject
from tests.benchmarks.shapes import Shape

POLL_S = 0.25


def context_sessions(database_url: str, project: BenchProject, since: float) -> list[Any]:
    """Status and end of the project's context sessions created since ``since`` (epoch s)."""
    query = sa.select(SessionRow.status, SessionRow.completed_at).where(
        SessionRow.project_id == project.scope.project_id,
        SessionRow.parent_id.is_(None),
        SessionRow.created_at >= datetime.fromtimestamp(since, UTC),
    )
    with get_engine(database_url).connect() as connection:
        return list(connection.execute(query))


def child_sessions_ended(database_url: str, project: BenchProject, since: float) -> int:
    """How many of the project's component sessions created since ``since`` have ended."""
    query = (
        sa.select(sa.func.count())
        .select_from(SessionRow)
        .where(
            SessionRow.project_id == project.scope.project_id,
            SessionRow.parent_id.is_not(None),
            SessionRow.created_at >= datetime.fromtimestamp(since, UTC),
            SessionRow.status.in_(list(TERMINAL)),
        )
    )
    with get_engine(database_url).connect() as connection:
        return int(connection.execute(query).scalar_one())


def start_sessions(client: Celery, project: BenchProject) -> float:
    """Start every context's session by task name, as a backend service does; when (epoch s)."""
    started = time.time()
    for context in project.contexts:
        client.send_task(
            constants.START_CONTEXT_TESTING,
            kwargs={
                "account_id": str(project.scope.account_id),
                "project_id": str(project.scope.project_id),
                "context": context.module_name,
                "user_id": "bench",
                "agent": project.agent,
            },
            queue=constants.ORCHESTRATION_QUEUE,
            ignore_result=True,
        )
    return started


def wait_sessions(
    database_url: str, project: BenchProject, started: float, timeout_s: float
) -> tuple[Timing, dict[str, int]]:
    """Wait until the sessions started at ``started`` have all ended (or the time is up).

    The measurement ends at the latest ``completed_at`` of the context sessions.
    """
    deadline = time.monotonic() + timeout_s
    total = len(project.contexts)
    while True:
        found = context_sessions(database_url, project, started)
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


def run_orchestrated(
    client: Celery, database_url: str, project: BenchProject, timeout_s: float
) -> tuple[Timing, dict[str, int]]:
    """Start every context's session and wait until they have all ended."""
    started = start_sessions(client, project)
    return wait_sessions(database_url, project, started, timeout_s)


def warm_up(client: Celery, database_url: str, project: BenchProject, timeout_s: float) -> None:
    """Run the project's warm-up context, untimed: the repository's mirror and a workspace
    exist afterwards, as they do for every later session of a long-lived project."""
    if project.warm_up is None:
        return
    alone = dataclasses.replace(project, shape=Shape(1, 1), contexts=[project.warm_up])
    timing, statuses = run_orchestrated(client, database_url, alone, timeout_s)
    if timing.ended < timing.total:
        raise TimeoutError(f"the warm-up session of {project.shape.name} did not end: {statuses}")
