"""What ``/metrics`` reports about sessions and webhook deliveries, read from the database.

Sessions end in worker processes, so the figures are read from the source of truth at scrape
time rather than counted in any one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ctworkflow.persistence.db import unit_of_work

#: Upper bounds (seconds) of the session duration histogram.
DURATION_BOUNDS: Final = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """Every session figure of one scrape."""

    sessions: dict[tuple[str, str], int]
    durations: dict[str, tuple[list[int], float]]
    rounds: dict[int, int]
    components: dict[int, int]
    retry_rounds: int
    deliveries: dict[str, tuple[int, int]]
    #: Each component session's newest coverage and mutation score (percent), by figure.
    quality: dict[str, list[float]]
    #: Ended agent runs, and the tokens and cost they reported, summed.
    agent_runs: int = 0
    agent_usage: dict[str, float] | None = None


def snapshot() -> Snapshot:
    """Read the figures (one short transaction)."""
    with unit_of_work() as uow:
        store = uow.metrics
        agent_runs, agent_usage = store.agent_usage()
        return Snapshot(
            sessions=store.sessions_by_status(),
            durations=store.durations(DURATION_BOUNDS),
            rounds=store.rounds(),
            components=store.components_per_session(),
            retry_rounds=store.retry_rounds(),
            deliveries=uow.webhooks.delivery_counts(),
            agent_runs=agent_runs,
            agent_usage=agent_usage,
            quality=store.quality(),
        )
