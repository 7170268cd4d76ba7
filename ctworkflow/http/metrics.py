"""``/metrics`` for Prometheus: sessions, webhook deliveries and queue depths.

Read at scrape time from the database and the broker (see :mod:`ctworkflow.services.metrics`
and :mod:`ctworkflow.tasks.queues`), plus the server process's own figures.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ctworkflow.services import metrics as session_metrics
from ctworkflow.tasks.queues import QUEUES, queue_depths

logger = logging.getLogger(__name__)

ROUND_BOUNDS = (1.0, 2.0, 3.0, 5.0, 10.0)
COMPONENT_BOUNDS = (1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0)
PERCENT_BOUNDS = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0)


def _cumulative(counts: Sequence[int], bounds: Sequence[float]) -> list[tuple[str, float]]:
    running, buckets = 0, []
    for bound, n in zip((*bounds, float("inf")), counts, strict=True):
        running += n
        buckets.append(("+Inf" if bound == float("inf") else f"{bound:g}", float(running)))
    return buckets


def _histogram_of_percents(name: str, doc: str, values: Sequence[float]) -> HistogramMetricFamily:
    """A histogram of percentages."""
    counts = [0] * (len(PERCENT_BOUNDS) + 1)
    for value in values:
        counts[next((i for i, b in enumerate(PERCENT_BOUNDS) if value <= b), -1)] += 1
    family = HistogramMetricFamily(name, doc)
    family.add_metric([], _cumulative(counts, PERCENT_BOUNDS), sum_value=float(sum(values)))
    return family


def _histogram_of_values(
    name: str, doc: str, values: Mapping[int, int], bounds: Sequence[float]
) -> HistogramMetricFamily:
    """A histogram of integer observations given as ``value → how many``."""
    counts = [0] * (len(bounds) + 1)
    for value, n in values.items():
        index = next((i for i, b in enumerate(bounds) if value <= b), len(bounds))
        counts[index] += n
    family = HistogramMetricFamily(name, doc)
    family.add_metric(
        [], _cumulative(counts, bounds), sum_value=float(sum(v * n for v, n in values.items()))
    )
    return family


class SessionCollector(Collector):
    """Session and queue figures, read on every scrape."""

    def collect(self) -> Iterator[Metric]:
        snapshot = session_metrics.snapshot()
        yield from _session_families(snapshot)
        yield from _quality_families(snapshot)
        yield from _agent_families(snapshot)
        yield from _webhook_families(snapshot)
        yield from _queue_families()


def _session_families(snapshot: session_metrics.Snapshot) -> Iterator[Metric]:
    """Sessions by status, their durations, rounds, components and retry rounds."""
    sessions = GaugeMetricFamily(
        "ctw_sessions", "Sessions by type and status", labels=["type", "status"]
    )
    for (kind, status), n in sorted(snapshot.sessions.items()):
        sessions.add_metric([kind, status], n)
    yield sessions

    durations = HistogramMetricFamily(
        "ctw_session_duration_seconds",
        "Ended sessions' time from creation to end",
        labels=["type"],
    )
    for kind, (counts, total) in sorted(snapshot.durations.items()):
        buckets = _cumulative(counts, session_metrics.DURATION_BOUNDS)
        durations.add_metric([kind], buckets, sum_value=total)
    yield durations

    yield _histogram_of_values(
        "ctw_session_rounds",
        "Fan-out rounds of ended context sessions",
        snapshot.rounds,
        ROUND_BOUNDS,
    )
    yield _histogram_of_values(
        "ctw_session_components",
        "Component sessions per context session",
        snapshot.components,
        COMPONENT_BOUNDS,
    )
    yield CounterMetricFamily(
        "ctw_session_retry_rounds",
        "Fan-out rounds run after a round that failed validation",
        value=snapshot.retry_rounds,
    )


def _quality_families(snapshot: session_metrics.Snapshot) -> Iterator[Metric]:
    """What the components' tests exercise: coverage and mutation score."""
    yield _histogram_of_percents(
        "ctw_component_coverage_percent",
        "Line+branch coverage of each component's source by its tests, newest measurement",
        snapshot.quality.get("coverage", []),
    )
    yield _histogram_of_percents(
        "ctw_component_mutation_score_percent",
        "Mutation score of each component's tests, newest measurement",
        snapshot.quality.get("mutation", []),
    )


def _webhook_families(snapshot: session_metrics.Snapshot) -> Iterator[Metric]:
    """Webhook deliveries by status, and their sends."""
    deliveries = GaugeMetricFamily(
        "ctw_webhook_deliveries", "Webhook deliveries by status", labels=["status"]
    )
    attempts = CounterMetricFamily(
        "ctw_webhook_delivery_attempts",
        "Sends of webhook deliveries, by the delivery's status",
        labels=["status"],
    )
    for status in ("pending", "delivered", "failed"):
        n, tries = snapshot.deliveries.get(status, (0, 0))
        deliveries.add_metric([status], n)
        attempts.add_metric([status], tries)
    yield deliveries
    yield attempts


def _agent_families(snapshot: session_metrics.Snapshot) -> Iterator[Metric]:
    """Agent runs, and the tokens and cost their programs reported."""
    usage = snapshot.agent_usage or {}
    yield CounterMetricFamily("ctw_agent_runs", "Agent runs that ended", value=snapshot.agent_runs)
    for name, help_text in (
        ("input_tokens", "Input tokens agent runs reported"),
        ("output_tokens", "Output tokens agent runs reported"),
        ("cost_usd", "Cost in US dollars agent runs reported"),
    ):
        yield CounterMetricFamily(f"ctw_agent_{name}", help_text, value=usage.get(name, 0.0))


def _queue_families() -> Iterator[Metric]:
    depths = queue_depths()
    up = GaugeMetricFamily("ctw_broker_up", "Whether the broker answered this scrape")
    up.add_metric([], 0 if depths is None else 1)
    yield up
    if depths is None:
        logger.warning("metrics: the broker did not answer; queue depths left out")
        return
    depth = GaugeMetricFamily(
        "ctw_queue_depth",
        "Messages waiting in a queue (not yet taken by a worker)",
        labels=["queue"],
    )
    for queue in QUEUES:
        depth.add_metric([queue], depths.get(queue, 0))
    yield depth


def registry() -> CollectorRegistry:
    """A registry of the session figures and this process's own."""
    found = CollectorRegistry(auto_describe=False)
    found.register(SessionCollector())
    ProcessCollector(registry=found)
    return found


def exposition(of: CollectorRegistry) -> bytes:
    """The text exposition format of a registry."""
    return generate_latest(of)
