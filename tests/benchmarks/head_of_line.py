"""The head-of-line shape: how long another session's steps wait behind a slow validation.

A slow context (``hol:CxN:S``: its agent, ``bench-sleeper``, writes tests that sleep S seconds,
run by the real ``pytest`` runner) is started; once all its component sessions have ended, its
validation runs those tests again. A short probe session (a 1x3 context of no-op doubles) is
then started, and its time is compared with its time alone, measured first on idle workers.
The difference bounds the delay of the probe's step transitions behind the slow validation.
The probe's project is warmed up first (its mirror cloned), untimed. The probe context runs
twice on one project, so its project turns reuse off (``reuse_verified_tests: false``): the
second probe runs its agents as the first did, and the two timings compare like with like.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Final

from celery import Celery

from ctworkflow.domain import reuse
from ctworkflow.domain.states import TERMINAL
from tests.benchmarks import fixture
from tests.benchmarks.orchestrated import (
    POLL_S,
    child_sessions_ended,
    context_sessions,
    run_orchestrated,
    start_sessions,
    wait_sessions,
    warm_up,
)
from tests.benchmarks.shapes import Shape
from tests.benchmarks.sleeper import SLEEPER

#: The session whose steps are timed behind the slow validation.
PROBE: Final = Shape(1, 3)
SLOW_RUNNER: Final = "pytest"


def _wait_for_validation(
    database_url: str, slow: fixture.BenchProject, started: float, deadline: float
) -> None:
    """Until every component session of the slow context has ended: its validation is next."""
    while child_sessions_ended(database_url, slow, started) < slow.shape.children:
        if time.monotonic() > deadline:
            raise TimeoutError("the slow context's component sessions did not end in time")
        time.sleep(POLL_S)


def run_head_of_line(
    client: Celery, database_url: str, shape: Shape, root: Path, timeout_s: float
) -> dict[str, Any]:
    """The probe alone, then behind the slow context's validation; both timings and the delay."""
    probe = fixture.register(
        database_url, root / "probe", PROBE, extra_settings={reuse.SETTING: False}
    )
    slow = fixture.register(
        database_url,
        root / "slow",
        shape,
        agent=SLEEPER,
        runner=SLOW_RUNNER,
        extra_settings={"bench_sleep_s": shape.argument},
    )
    warm_up(client, database_url, probe, timeout_s)  # the slow one's timing is not measured
    alone, _ = run_orchestrated(client, database_url, probe, timeout_s)
    slow_started = start_sessions(client, slow)
    deadline = time.monotonic() + timeout_s
    _wait_for_validation(database_url, slow, slow_started, deadline)
    validation_from = time.time()
    behind, probe_statuses = run_orchestrated(client, database_url, probe, timeout_s)
    slow_rows = context_sessions(database_url, slow, slow_started)
    overlapped = any(row.status not in TERMINAL for row in slow_rows)
    slow_timing, slow_statuses = wait_sessions(
        database_url, slow, slow_started, max(1.0, deadline - time.monotonic())
    )
    return {
        "shape": shape.to_json(),
        "probe": {"shape": PROBE.to_json(), "statuses": probe_statuses},
        "probe_alone_s": round(alone.seconds, 3),
        "probe_behind_s": round(behind.seconds, 3),
        "delay_s": round(behind.seconds - alone.seconds, 3),
        # False: the slow validation ended before the probe did, so the delay is a lower bound.
        "overlapped": overlapped,
        "slow": {
            **slow_timing.to_json(),
            "sessions": slow_statuses,
            "validation_and_finalize_s": round(
                slow_started + slow_timing.seconds - validation_from, 3
            ),
        },
    }
