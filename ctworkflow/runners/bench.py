"""A zero-cost runner for the benchmark only: every existing test file passes, without a run.

Never a default: a project uses it only when its ``runner`` setting names :data:`BENCH_RUNNER`.
Validation runs the project's runner too, so the orchestrator's own check costs nothing either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from ctworkflow.domain.model import TestReport
from ctworkflow.runners.files import run_existing

BENCH_RUNNER: Final = "bench-noop"


class BenchNoopRunner:
    """Reports one passing test per requested file that exists in the workspace."""

    name: str = BENCH_RUNNER

    def run(
        self,
        workspace: Path,
        test_paths: Sequence[str],
        *,
        timeout_s: float,
        should_stop: Callable[[], bool] | None = None,
    ) -> dict[str, TestReport]:
        """A report keyed by each requested path: passed if the file is there."""
        return run_existing(
            workspace,
            test_paths,
            lambda runnable: {r: TestReport(collected=1, passed=1) for r in runnable.values()},
        )
