"""The incremental shape: a second session on an unchanged context against the first.

``incremental:CxN`` registers a project of C contexts of N components (reuse on, the project's
default), runs its warm-up context untimed (the repository's first clone is in neither
timing), then times a first round of sessions, one per context (every component runs its
agent), and a second round on the same, unchanged contexts: every component is unchanged
since a complete session of its context, so it keeps that session's verified artifact and
runs no agent (:mod:`ctworkflow.workflow.reuse`); the second round still validates, commits
and pushes. Each wait counts only the context sessions created after its own start.

Reported: both timings, their ratio (target: the second at most 10 % of the first), and what
the second round's component sessions did: how many ran an agent step (target: none) and how
many kept an earlier artifact (every one).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from celery import Celery

from ctworkflow.domain.agent_runs import AGENT_STEPS
from ctworkflow.persistence.db import get_engine
from ctworkflow.persistence.tables import InteractionRow, SessionRow
from ctworkflow.workflow.reuse import REUSE_STEP
from tests.benchmarks import fixture, noop
from tests.benchmarks.fleet import MemorySampler
from tests.benchmarks.orchestrated import run_orchestrated, warm_up
from tests.benchmarks.shapes import Shape


def second_round_children(
    database_url: str, project: fixture.BenchProject, since: float
) -> dict[str, int]:
    """The component sessions of the context sessions created since ``since`` (epoch s): how
    many there are, how many ran an agent step, how many kept an earlier verified artifact."""
    parents = sa.select(SessionRow.id).where(
        SessionRow.project_id == project.scope.project_id,
        SessionRow.parent_id.is_(None),
        SessionRow.created_at >= datetime.fromtimestamp(since, UTC),
    )
    children = sa.select(SessionRow.id).where(SessionRow.parent_id.in_(parents))

    def with_step(steps: list[str]) -> sa.Select[int]:
        return sa.select(sa.func.count(sa.distinct(InteractionRow.session_id))).where(
            InteractionRow.session_id.in_(children), InteractionRow.step.in_(steps)
        )

    with get_engine(database_url).connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(children.subquery()))
        agent = connection.execute(with_step(sorted(str(step) for step in AGENT_STEPS)))
        reused = connection.execute(with_step([REUSE_STEP]))
        return {
            "children": int(total.scalar_one()),
            "agent_runs": int(agent.scalar_one()),
            "reused": int(reused.scalar_one()),
        }


def run_incremental(
    client: Celery,
    database_url: str,
    shape: Shape,
    root: Path,
    timeout_s: float,
    sampler: MemorySampler,
) -> dict[str, Any]:
    """A first round of sessions, then a second on the unchanged contexts: both timings, their
    ratio and what the second round's component sessions ran."""
    cost = {noop.AGENT_MS: shape.argument} if shape.argument else None
    project = fixture.register(database_url, root, shape, extra_settings=cost)
    warm_up(client, database_url, project, timeout_s)
    with sampler.window() as first_memory:
        first, first_statuses = run_orchestrated(client, database_url, project, timeout_s)
    run: dict[str, Any] = {
        "shape": shape.to_json(),
        "first": {**first.to_json(), "sessions": first_statuses},
        "memory": {"first": first_memory},
    }
    if first.ended < first.total:  # a context still has its active session: none can start
        return {**run, "skipped": "the first round did not end in time"}
    second_from = time.time()
    with sampler.window() as second_memory:
        second, second_statuses = run_orchestrated(client, database_url, project, timeout_s)
    return {
        **run,
        "second": {**second.to_json(), "sessions": second_statuses},
        "second_over_first": round(second.seconds / first.seconds, 4),
        "second_round": second_round_children(database_url, project, second_from),
        "memory": {"first": first_memory, "second": second_memory},
    }
