"""The agent runs of a session's steps: what each used and printed, and their sum.

An agent step (writing or fixing the tests) keeps in its outcome data how long the program
ran (``duration_s``), what it used (``usage``, when the program reports it) and its
transcript (``transcript``: what it printed, redacted and bounded). These read them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ctworkflow.domain import agent_usage
from ctworkflow.domain.agent_usage import Usage
from ctworkflow.domain.model import Interaction
from ctworkflow.domain.states import ChildStep

AGENT_STEPS = frozenset({ChildStep.GENERATE_TESTS, ChildStep.FIX_FAILURES})


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRun:
    """One run of the agent: which step, how it ended, what it used and said."""

    step: str
    attempt: int
    status: str | None
    error: str | None
    #: What the program reported it used, and how long it ran (``wall_s``).
    usage: Usage
    transcript: str

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON document."""
        return {
            "step": self.step,
            "attempt": self.attempt,
            "status": self.status,
            "error": self.error,
            "usage": self.usage.to_json(),
            "transcript": self.transcript,
        }


def runs(steps: Iterable[Interaction]) -> list[AgentRun]:
    """The agent runs among ``steps``, in their order."""
    found = []
    for step in steps:
        if step.step not in AGENT_STEPS:
            continue
        outcome = step.outcome
        data = outcome.data if outcome is not None else {}
        reported = data.get("usage")
        duration = data.get("duration_s")
        wall_s = float(duration) if isinstance(duration, int | float) else None
        usage = Usage.from_json(reported) if isinstance(reported, dict) else Usage()
        transcript = data.get("transcript")
        found.append(
            AgentRun(
                step=step.step,
                attempt=step.attempt,
                status=outcome.status.value if outcome is not None else None,
                error=outcome.error_message if outcome is not None else None,
                usage=replace(usage, wall_s=wall_s),
                transcript=transcript if isinstance(transcript, str) else "",
            )
        )
    return found


def usage(steps: Iterable[Interaction]) -> Usage:
    """What the agent runs among ``steps`` used, summed; a field no run reported stays None."""
    return agent_usage.total(run.usage for run in runs(steps))
