"""The benchmark's zero-cost agent and runner, known only to the processes that register them.

:func:`register` adds both, as ``bench-noop``, to the registries of the calling process: the
benchmark's worker app does, and the benchmark command for as long as it runs
(:func:`registered`); production processes never do, so no
project or session there can name them, and no session can pass without running its tests.
"""

from __future__ import annotations

import time
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


#: The project setting that gives the agent double a cost a component (the incremental shape).
AGENT_MS: Final = "bench_agent_ms"


class NoopAgent:
    """Writes a one-test file at the requested path; no model, no subprocess. With a cost, it
    first waits that long, as a paid agent waits on its model."""

    name: str = NOOP

    def __init__(self, cost_s: float = 0.0) -> None:
        self.cost_s = cost_s

    def write_tests(self, request: AgentRequest) -> AgentResult:
        """Write request.test_path inside request.workspace."""
        if self.cost_s:
            time.sleep(self.cost_s)
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
    return NoopAgent(cost_s=int(settings.get(AGENT_MS) or 0) / 1000)


def register() -> None:
    """Make ``bench-noop`` an agent and a runner of this process (the benchmark's worker), and
    the other shapes' doubles (``bench-sandboxed``, ``bench-sleeper``) too."""
    from tests.benchmarks import sandboxed, sleeper  # they build on the no-op doubles

    register_agent(NOOP, _agent)
    register_runner(NOOP, NoopRunner)
    register_agent(sandboxed.SANDBOXED, lambda settings: sandboxed.SandboxedAgent())
    register_runner(sandboxed.SANDBOXED, sandboxed.SandboxedRunner)
    register_agent(sleeper.SLEEPER, sleeper.sleeper_agent)


@contextmanager
def registered() -> Iterator[None]:
    """``bench-noop`` known to this process for the block only (the benchmark command, which
    may run inside a test process)."""
    register()
    try:
        yield
    finally:
        from tests.benchmarks import sandboxed, sleeper

        for name in (NOOP, sandboxed.SANDBOXED, sleeper.SLEEPER):
            unregister_agent(name)
        for name in (NOOP, sandboxed.SANDBOXED):
            unregister_runner(name)
