"""The runner protocol: run test files in a workspace, one report per file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from ctworkflow.domain.environments import Environment
from ctworkflow.domain.model import TestReport


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
