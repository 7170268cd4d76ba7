"""A scripted agent and a test runner that reads verdicts from the test file itself.

Neither runs a program. The agent writes, per call, the next test file its plan gives for
the component; the runner reads each test file's lines ``PASS <name>`` / ``FAIL <name>`` and
reports them as test cases. Both record what they were asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ctworkflow.agents.base import AgentRequest, AgentResult
from ctworkflow.domain.model import TestReport
from ctworkflow.domain.repository.environments import Environment


def verdict_file(*verdicts: str) -> str:
    """A test file the runner reads: one ``PASS test_n`` or ``FAIL test_n`` line per verdict."""
    return "".join(f"{verdict} test_{n}\n" for n, verdict in enumerate(verdicts, 1))


@dataclass(slots=True)
class ScriptedAgent:
    """Writes, on its n-th call for a module, ``plan[module][n]`` (the last one once past the
    end) as the test file; a module without a plan gets a passing file."""

    name: str = "scripted"
    plan: dict[str, list[str]] = field(default_factory=dict)
    #: Called with each request before the file is written: where a test cancels, or lets
    #: another delivery run, in the middle of a round.
    during: Callable[[AgentRequest], None] | None = None
    requests: list[AgentRequest] = field(default_factory=list)

    def write_tests(self, request: AgentRequest) -> AgentResult:
        calls = sum(1 for r in self.requests if r.module_name == request.module_name)
        self.requests.append(request)
        if self.during is not None:
            self.during(request)
        steps = self.plan.get(request.module_name) or [verdict_file("PASS")]
        target = request.workspace / request.test_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(steps[min(calls, len(steps) - 1)], encoding="utf-8")
        return AgentResult(ok=True)

    def calls_for(self, module_name: str) -> list[AgentRequest]:
        """The requests the agent got for one module, in order."""
        return [r for r in self.requests if r.module_name == module_name]


@dataclass(slots=True)
class VerdictRunner:
    """Reports each test file's ``PASS``/``FAIL`` lines; a missing file is an error."""

    name: str = "verdicts"
    runs: list[list[str]] = field(default_factory=list)

    def run(
        self,
        workspace: Path,
        test_paths: Sequence[str],
        *,
        timeout_s: float,
        should_stop: Callable[[], bool] | None = None,
        environment: Environment | None = None,
    ) -> dict[str, TestReport]:
        self.runs.append(list(test_paths))
        return {path: self._report(workspace / path) for path in test_paths}

    @staticmethod
    def _report(path: Path) -> TestReport:
        try:
            lines = path.read_text(encoding="utf-8").split()
        except OSError:
            return TestReport(errors=1, output_tail=f"no test file {path.name}")
        cases = {
            name: "passed" if verdict == "PASS" else "failed"
            for verdict, name in zip(lines[::2], lines[1::2], strict=False)
        }
        failed = sorted(name for name, outcome in cases.items() if outcome == "failed")
        return TestReport(
            collected=len(cases),
            passed=len(cases) - len(failed),
            failed=len(failed),
            output_tail="".join(f"FAILED {name}\n" for name in failed),
            cases=cases,
        )
