"""A zero-cost agent for the benchmark only: it writes a tiny, real test file and returns.

Never a default: a session uses it only when it names :data:`BENCH_AGENT` explicitly.
"""

from __future__ import annotations

from typing import Final

from ctworkflow.agents.base import AgentRequest, AgentResult

BENCH_AGENT: Final = "bench-noop"

_TEST_FILE = '''"""Benchmark test of {module} (written by the bench-noop agent)."""


def test_bench_noop() -> None:
    assert True
'''


def bench_test_file(module_name: str) -> str:
    """The test file the bench agent writes for ``module_name``."""
    return _TEST_FILE.format(module=module_name)


class BenchNoopAgent:
    """Writes a one-test file at the requested path; no model, no subprocess."""

    name: str = BENCH_AGENT

    def write_tests(self, request: AgentRequest) -> AgentResult:
        """Write request.test_path inside request.workspace."""
        target = request.workspace / request.test_path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(bench_test_file(request.module_name), encoding="utf-8")
        except OSError as error:
            return AgentResult(ok=False, error=f"cannot write {request.test_path}: {error}")
        return AgentResult(ok=True)
