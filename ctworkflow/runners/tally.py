"""Counting the outcomes of one test file's tests into a TestReport, whatever the runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from ctworkflow.domain.model import CASE_OUTCOMES, TestReport

TAIL_CHARS: Final = 4000

Outcome = Literal["passed", "failed", "error", "skipped"]

#: A case reported twice (pytest reports a test that fails and then errors in its teardown
#: as two testcases) keeps its worst outcome.
_RANK: Final = {outcome: rank for rank, outcome in enumerate(CASE_OUTCOMES)}


def tail(text: str, chars: int = TAIL_CHARS) -> str:
    """Return the last chars characters of text."""
    return text if len(text) <= chars else "…" + text[-(chars - 1) :]


@dataclass(slots=True)
class Tally:
    """Counts, time and failure texts of one test file."""

    collected: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    duration_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    cases: dict[str, str] = field(default_factory=dict)

    def count(
        self, outcome: Outcome, duration_s: float, problem: str = "", case_id: str | None = None
    ) -> None:
        """Count one test; ``case_id`` names it within its file."""
        if case_id is not None:
            known = self.cases.get(case_id)
            if known is None or _RANK[outcome] > _RANK[known]:
                self.cases[case_id] = outcome
        self.collected += 1
        self.duration_s += duration_s
        if outcome == "passed":
            self.passed += 1
        elif outcome == "failed":
            self.failed += 1
        elif outcome == "error":
            self.errors += 1
        else:
            self.skipped += 1
        if problem.strip() and problem.rstrip() not in self.problems:
            self.problems.append(problem.rstrip())

    def report(self) -> TestReport:
        """Return the tally as a TestReport."""
        return TestReport(
            collected=self.collected,
            passed=self.passed,
            failed=self.failed,
            errors=self.errors,
            skipped=self.skipped,
            duration_s=round(self.duration_s, 3),
            output_tail=tail("\n\n".join(self.problems)),
            cases=dict(self.cases),
        )
