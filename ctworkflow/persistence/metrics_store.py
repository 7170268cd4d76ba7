"""Aggregates across every tenant for ``/metrics``: counts only, never ids or names.

Each figure is one grouped query, so a scrape costs a handful of statements whatever the
number of sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from ctworkflow.domain.agent_runs import AGENT_STEPS
from ctworkflow.domain.states import TERMINAL
from ctworkflow.persistence.tables import ArtifactRow, InteractionRow, SessionRow

#: What agent runs reported they used, summed by ``/metrics`` (the fields of ``usage``).
AGENT_USAGE_FIELDS = ("input_tokens", "output_tokens", "cost_usd")


def _duration_s(dialect: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.extract("epoch", SessionRow.completed_at - SessionRow.created_at)
    return (
        sa.func.julianday(SessionRow.completed_at) - sa.func.julianday(SessionRow.created_at)
    ) * 86400.0


class MetricsStore:
    """Read-only aggregates of sessions."""

    def __init__(self, db: orm.Session) -> None:
        self.db = db

    def sessions_by_status(self) -> dict[tuple[str, str], int]:
        """``(type, status) → count``."""
        found = self.db.execute(
            sa.select(SessionRow.type, SessionRow.status, sa.func.count()).group_by(
                SessionRow.type, SessionRow.status
            )
        )
        return {(t.value, s.value): int(n) for t, s, n in found}

    def durations(self, bounds: Sequence[float]) -> dict[str, tuple[list[int], float]]:
        """Ended sessions' durations by type: counts per bucket (``<= bound``, then the rest,
        not cumulative) and their sum in seconds."""
        duration = _duration_s(self.db.get_bind().dialect.name)
        bucket = sa.case(
            *[(duration <= bound, index) for index, bound in enumerate(bounds)],
            else_=len(bounds),
        ).label("bucket")
        found = self.db.execute(
            sa.select(SessionRow.type, bucket, sa.func.count(), sa.func.sum(duration))
            .where(SessionRow.completed_at.is_not(None), SessionRow.status.in_(TERMINAL))
            .group_by(SessionRow.type, bucket)
        )
        result: dict[str, tuple[list[int], float]] = {}
        grouped: list[Any] = list(found)  # rows unpack as tuples (Result.tuples is deprecated)
        for kind, index, n, total in grouped:
            counts, seconds = result.get(kind.value, ([0] * (len(bounds) + 1), 0.0))
            counts[int(index)] += int(n)
            result[kind.value] = (counts, seconds + float(total or 0.0))
        return result

    def rounds(self) -> dict[int, int]:
        """Ended context sessions by the number of fan-out rounds they ran."""
        found = self.db.execute(
            sa.select(SessionRow.attempt, sa.func.count())
            .where(SessionRow.parent_id.is_(None), SessionRow.status.in_(TERMINAL))
            .group_by(SessionRow.attempt)
        )
        return {int(a): int(n) for a, n in found}

    def components_per_session(self) -> dict[int, int]:
        """Context sessions by how many component sessions they have."""
        per_parent = (
            sa.select(sa.func.count().label("n"))
            .where(SessionRow.parent_id.is_not(None))
            .group_by(SessionRow.parent_id)
            .subquery()
        )
        found = self.db.execute(sa.select(per_parent.c.n, sa.func.count()).group_by(per_parent.c.n))
        counted: list[Any] = list(found)
        return {int(n): int(count) for n, count in counted}

    def retry_rounds(self) -> int:
        """Fan-out rounds run beyond the first, over every context session."""
        total = self.db.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(SessionRow.attempt - 1), 0)).where(
                SessionRow.parent_id.is_(None), SessionRow.attempt > 1
            )
        )
        return int(total or 0)

    def agent_usage(self) -> tuple[int, dict[str, float]]:
        """How many agent runs ended, and what they reported they used, summed by field."""
        data = InteractionRow.result_data
        sums = [
            sa.func.coalesce(sa.func.sum(data[("usage", name)].as_float()), 0.0)
            for name in AGENT_USAGE_FIELDS
        ]
        row = self.db.execute(
            sa.select(sa.func.count(), *sums).where(
                InteractionRow.step.in_(sorted(AGENT_STEPS)), data.is_not(None)
            )
        ).one()
        values: list[Any] = list(row)
        runs, totals = values[0], values[1:]
        return int(runs), {
            n: float(t or 0.0) for n, t in zip(AGENT_USAGE_FIELDS, totals, strict=True)
        }

    def quality(self) -> dict[str, list[float]]:
        """The newest measured figures of every component session that has a test file:
        ``coverage`` (line+branch percent) and ``mutation`` (score) after its change."""
        newest = (
            sa.select(ArtifactRow.session_id, sa.func.max(ArtifactRow.attempt).label("attempt"))
            .group_by(ArtifactRow.session_id)
            .subquery()
        )
        figures = {
            "coverage": ArtifactRow.report[("quality", "after", "coverage", "percent")],
            "mutation": ArtifactRow.report[("quality", "after", "mutation", "score")],
        }
        found = self.db.execute(
            sa.select(*(f.as_float() for f in figures.values())).join(
                newest,
                sa.and_(
                    ArtifactRow.session_id == newest.c.session_id,
                    ArtifactRow.attempt == newest.c.attempt,
                ),
            )
        )
        result: dict[str, list[float]] = {name: [] for name in figures}
        for row in found:
            for name, value in zip(figures, row, strict=True):
                if isinstance(value, (int, float)):
                    result[name].append(float(value))
        return result
