"""A zero-cost runner for the benchmark only: every existing test file passes, without a run.

Never a default: a project uses it only when its ``runner`` setting names :data:`BENCH_RUNNER`.
Validation runs the project's runner too, so the orchestrator's own check costs nothing either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Final

from ctworkflow.domain.model import TestReport

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
        reports: dict[str, TestReport] = {}
        for path in dict.fromkeys(test_paths):
            pure = PurePosixPath(path)
            inside = not pure.is_absolute() and ".." not in pure.parts
            if inside and (workspace / path).is_file():
                reports[path] = TestReport(collected=1, passed=1)
            else:
                reports[path] = TestReport(output_tail=f"test file {path} does not exist")
        return reports
