"""Read the lines ``report_formatter.exs`` writes into one TestReport per test file."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from ctworkflow.domain.model import TestReport
from ctworkflow.runners.tally import Outcome, Tally

#: The formatter that ``mix test`` loads (``elixir -r``) to write the report.
FORMATTER_FILE = Path(__file__).with_name("elixir") / "report_formatter.exs"
FORMATTER_MODULE = "CtworkflowReportFormatter"


#: The formatter's states, as the outcomes of a Tally.
_OUTCOMES: Final[dict[str, Outcome]] = {
    "passed": "passed",
    "failed": "failed",
    "invalid": "error",
    "skipped": "skipped",
}


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
    tallies: dict[str, Tally] = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 5:
            continue
        state, file, time_us, encoded, encoded_id = fields
        requested_path = requested.get(_relative(file, workspace))
        if requested_path is None:
            continue
        duration_s = int(time_us) / 1_000_000 if time_us.isdigit() else 0.0
        tally = tallies.setdefault(requested_path, Tally())
        outcome = _OUTCOMES.get(state, "skipped")
        tally.count(outcome, duration_s, _decode(encoded), _decode(encoded_id) or None)
    return {path: tally.report() for path, tally in tallies.items()}
