"""The benchmark's zero-cost agent and runner, known only to the processes that register them.

:func:`register` adds both, as ``bench-noop``, to the registries of the calling process: the
benchmark's worker app does, and the benchmark command for as long as it runs
(:func:`registered`); production processes never do, so no
project or session there can name them, and no session can pass without running its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from ctworkflow.agents.base import AgentRequest, AgentResult
from ctworkflow.agents.registry import register_agent, unregister_agent
from ctworkflow.domain.model import TestReport
from ctworkflow.domain.repository.environments import Environment
from ctworkflow.runners.files import run_existing
from ctworkflow.runners.registry import register_runner, unregister_runner

NOOP: Final = "bench-noop"

_TEST_FILE = '''"""Benchmark test of {module} (written by the bench-noop agent)."""


def test_bench_noop() -> None:
    assert True
'''


def bench_test_file(module_name: str) -> str:
    """The test file the bench agent writes for ``module_name``."""
    return _TEST_FILE.format(module=module_name)


class NoopAgent:
    """Writes a one-test file at the requested path; no model, no subprocess."""

    name: str = NOOP

    def write_tests(self, request: AgentRequest) -> AgentResult:
        """Write request.test_path inside request.workspace."""
        target = request.workspace / request.test_path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(bench_test_file(request.module_name), encoding="utf-8")
        except OSError as error:
            return AgentResult(ok=False, error=f"cannot write {request.test_path}: {error}")
        return AgentResult(ok=True)


class NoopRunner:
    """Reports one passing test per requested file that exists in the workspace."""

    name: str = NOOP

    def run(
        self,
        workspace: Path,
        test_paths: Sequence[str],
        *,
        timeout_s: float,
        should_stop: Callable[[], bool] | None = None,
        environment: Environment | None = None,
    ) -> dict[str, TestReport]:
        """A report keyed by each requested path: passed if the file is there."""
        return run_existing(
            workspace,
            test_paths,
            lambda runnable: {r: TestReport(collected=1, passed=1) for r in runnable.values()},
        )


def _agent(settings: Mapping[str, Any]) -> NoopAgent:
    return NoopAgent()


def register() -> None:
    """Make ``bench-noop`` an agent and a runner of this process (the benchmark's worker)."""
    register_agent(NOOP, _agent)
    register_runner(NOOP, NoopRunner)


@contextmanager
def registered() -> Iterator[None]:
    """``bench-noop`` known to this process for the block only (the benchmark command, which
    may run inside a test process)."""
    register()
    try:
        yield
    finally:
        unregister_agent(NOOP)
        unregister_runner(NOOP)
