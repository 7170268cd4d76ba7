"""The benchmark's sandboxed doubles: the no-op agent and runner, each starting one trivial
program in the worker's sandbox per call, as a real agent and a real runner start theirs.

``bench-sandboxed`` costs a child what the sandbox costs it (bubblewrap's start-up, its mounts,
``prlimit``) and nothing else: the sandbox shape runs it on workers with ``CTW_SANDBOX`` set to
``bubblewrap`` and then to ``none``, and the difference per child is the sandbox's cost.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from ctworkflow.agents.base import AgentRequest, AgentResult
from ctworkflow.domain.model import TestReport
from ctworkflow.domain.repository.environments import Environment
from ctworkflow.effects import sandbox, shell
from tests.benchmarks.noop import NoopAgent, NoopRunner

SANDBOXED: Final = "bench-sandboxed"
#: The trivial program each call starts in the sandbox.
TRIVIAL: Final = (shutil.which("true") or "/bin/true",)
TRIVIAL_TIMEOUT_S: Final = 60.0


def run_trivial(workspace: Path, policy: sandbox.Policy) -> None:
    """Start :data:`TRIVIAL` in ``workspace`` under ``policy``; raise if it did not succeed."""
    result = shell.run(TRIVIAL, cwd=workspace, timeout_s=TRIVIAL_TIMEOUT_S, policy=policy)
    if not result.ok:
        raise RuntimeError(f"the sandboxed trivial program failed: {result.stderr[-500:]}")


class SandboxedAgent(NoopAgent):
    """The no-op agent, after one trivial program in the sandbox (agent policy, no network)."""

    name: str = SANDBOXED

    def write_tests(self, request: AgentRequest) -> AgentResult:
        """Start the trivial program as an agent run, then write the one-test file."""
        run_trivial(request.workspace, sandbox.for_agent(request.workspace, network=False))
        return super().write_tests(request)


class SandboxedRunner(NoopRunner):
    """The no-op runner, after one trivial program in the sandbox (test policy)."""

    name: str = SANDBOXED

    def run(
        self,
        workspace: Path,
        test_paths: Sequence[str],
        *,
        timeout_s: float,
        should_stop: Callable[[], bool] | None = None,
        environment: Environment | None = None,
    ) -> dict[str, TestReport]:
        """Start the trivial program as a test run, then report as the no-op runner does."""
        run_trivial(workspace, sandbox.for_tests(workspace))
        return super().run(
            workspace,
            test_paths,
            timeout_s=timeout_s,
            should_stop=should_stop,
            environment=environment,
        )
