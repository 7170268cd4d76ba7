"""Bare Celery chords of a shape: no-op header tasks and callback, no database."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any, Final

from celery import Celery, chord

from ctworkflow import constants
from tests.benchmarks.shapes import Shape

BARE_CHILD: Final = "tests.benchmarks.bare_child"
BARE_CALLBACK: Final = "tests.benchmarks.bare_callback"


@dataclass(frozen=True, slots=True, kw_only=True)
class Timing:
    """How long one path took for a shape: from the first message sent to the last end."""

    seconds: float
    children: int
    ended: int
    total: int

    @property
    def per_child_ms(self) -> float:
        return 1000 * self.seconds / self.children

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "per_child_ms": round(self.per_child_ms, 3),
            "ended": self.ended,
            "total": self.total,
        }


def run_bare(client: Celery, shape: Shape, timeout_s: float) -> Timing:
    """One chord per context, header tasks on the component queue, callback on orchestration.

    The callbacks return their wall-clock time; the latest one ends the measurement.
    """
    started = time.time()
    results = []
    for _ in range(shape.contexts):
        header = [
            client.signature(BARE_CHILD, queue=constants.COMPONENT_QUEUE)
            for _ in range(shape.components)
        ]
        body = client.signature(BARE_CALLBACK, queue=constants.ORCHESTRATION_QUEUE)
        results.append(chord(header)(body))
    deadline = time.monotonic() + timeout_s
    ended: list[float] = []
    for result in results:
        remaining = max(0.1, deadline - time.monotonic())
        ended.append(float(result.get(timeout=remaining)))
        result.forget()
    total = len(results)
    del results, result
    # Results unsubscribe from Redis when collected: collect them while Redis still runs.
    gc.collect()
    return Timing(
        seconds=max(ended) - started, children=shape.children, ended=len(ended), total=total
    )
