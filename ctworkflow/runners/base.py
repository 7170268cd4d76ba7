"""The runner protocol: run test files in a workspace, one report per file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from ctworkflow.domain.model import TestReport
from ctworkflow.domain.repository.environments import Environment


class Runner(Protocol):
    """Something that runs test files and reports on each of them."""

    name: str

    def run(
        self,
        workspace: Path,
        test_paths: Sequence[str],
        *,
        timeout_s: float,
        should_stop: Callable[[], bool] | None = None,
        environment: Environment | None = None,
    ) -> dict[str, TestReport]:
        """Run the test files (relative POSIX paths) inside the target's ``environment``
        (None: the worker's own) and return a report keyed by each path."""
        ...


@runtime_checkable
class CaseRunner(Runner, Protocol):
    """A runner that can also run chosen tests of one file, in a random order or alone."""

    def run_cases(
        self,
        workspace: Path,
        test_path: str,
        cases: Sequence[str],
        *,
        seed: int | None,
        timeout_s: float,
        should_stop: Callable[[], bool] | None = None,
        environment: Environment | None = None,
    ) -> TestReport:
        """Run ``cases`` (ids within ``test_path``) in one process, in a random order drawn
        from ``seed``, or in the file's order when ``seed`` is None (a single case: alone)."""
        ...
