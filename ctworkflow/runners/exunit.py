"""Read the lines ``report_formatter.exs`` writes into one TestReport per test file."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ctworkflow.domain.model import TestReport
from ctworkflow.runners.junit import tail

#: The formatter that ``mix test`` loads (``elixir -r``) to write the report.
FORMATTER_FILE = Path(__file__).with_name("elixir") / "report_formatter.exs"
FORMATTER_MODULE = "CtworkflowReportFormatter"


@dataclass(slots=True)
class _Tally:
    collected: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    duration_us: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, state: str, time_us: int, text: str) -> None:
        self.collected += 1
        self.duration_us += time_us
        if state == "passed":
            self.passed += 1
        elif state == "failed":
            self.failed += 1
        elif state == "invalid":
            self.errors += 1
        else:
            self.skipped += 1
        if text.strip() and text not in self.problems:
            self.problems.append(text.rstrip())

    def report(self) -> TestReport:
        return TestReport(
            collected=self.collected,
            passed=self.passed,
            failed=self.failed,
            errors=self.errors,
            skipped=self.skipped,
            duration_s=round(self.duration_us / 1_000_000, 3),
            output_tail=tail("\n\n".join(self.problems)),
        )


def _decode(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return ""


def _relative(file: str, workspace: Path) -> str:
    """The workspace-relative POSIX path of a file ExUnit names (it gives absolute paths)."""
    path = Path(file)
    if not path.is_absolute():
        return path.as_posix()
    for root in (workspace, workspace.resolve()):
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return os.path.relpath(path, workspace)


def parse_report(text: str, workspace: Path, requested: Mapping[str, str]) -> dict[str, TestReport]:
    """A report per requested file (normalized path -> requested path) that ran a test."""
    tallies: dict[str, _Tally] = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 4:
            continue
        state, file, time_us, encoded = fields
        requested_path = requested.get(_relative(file, workspace))
        if requested_path is None:
            continue
        time_value = int(time_us) if time_us.isdigit() else 0
        tallies.setdefault(requested_path, _Tally()).add(state, time_value, _decode(encoded))
    return {path: tally.report() for path, tally in tallies.items()}
