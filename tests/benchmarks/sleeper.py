"""The head-of-line shape's slow context: an agent that writes a real test which sleeps.

``bench-sleeper`` writes, for each component, a pytest file whose one test sleeps the number
of seconds the project's settings name (``bench_sleep_s``); the project's runner is the real
``pytest`` runner, so the component runs and the context's validation really take that long.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ctworkflow.agents.base import AgentRequest, AgentResult

SLEEPER: Final = "bench-sleeper"

_TEST_FILE = '''"""Slow benchmark test of {module} (written by the bench-sleeper agent)."""

import time


def test_bench_sleeps() -> None:
    time.sleep({seconds})
'''


class SleeperAgent:
    """Writes a one-test file whose test sleeps ``seconds``; no model, no subprocess."""

    name: str = SLEEPER

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def write_tests(self, request: AgentRequest) -> AgentResult:
        """Write request.test_path inside request.workspace."""
        target = request.workspace / request.test_path
        text = _TEST_FILE.format(module=request.module_name, seconds=self.seconds)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as error:
            return AgentResult(ok=False, error=f"cannot write {request.test_path}: {error}")
        return AgentResult(ok=True)


def sleeper_agent(settings: Mapping[str, Any]) -> SleeperAgent:
    """The agent the registry builds from a project's settings."""
    return SleeperAgent(float(settings.get("bench_sleep_s", 1)))
