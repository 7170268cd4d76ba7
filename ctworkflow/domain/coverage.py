"""A source file's coverage figure: from coverage.py's JSON report, or none of it when no test
ran it."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ctworkflow.domain.quality import MAX_KEPT, MEASURED, share_percent, unavailable


def coverage_from_json(data: Mapping[str, Any], source_path: str) -> dict[str, Any]:
    """The coverage figure of ``source_path`` from coverage.py's JSON report (``coverage
    json``, run with ``--branch``); ``source_path`` is the file's path in the repository."""
    files = data.get("files")
    if not isinstance(files, Mapping):
        return unavailable("coverage.py's report has no files")
    entry = next(
        (v for k, v in files.items() if k == source_path or str(k).endswith("/" + source_path)),
        None,
    )
    if not isinstance(entry, Mapping):
        return unavailable(f"coverage.py measured nothing of {source_path}")
    summary = entry.get("summary") or {}
    executed = [int(n) for n in entry.get("executed_lines") or []]
    missing = [int(n) for n in entry.get("missing_lines") or []]
    lines_total = int(summary.get("num_statements", len(executed) + len(missing)))
    lines_covered = int(summary.get("covered_lines", len(executed)))
    branches_total = int(summary.get("num_branches", 0))
    branches_covered = int(summary.get("covered_branches", 0))
    missing_branches = [
        f"{a}->{b}" if int(b) > 0 else f"{a}->exit" for a, b in entry.get("missing_branches") or []
    ]
    return {
        "status": MEASURED,
        "percent": share_percent(lines_covered + branches_covered, lines_total + branches_total),
        "line_percent": share_percent(lines_covered, lines_total),
        "branch_percent": share_percent(branches_covered, branches_total)
        if branches_total
        else None,
        "lines": {"covered": lines_covered, "total": lines_total},
        "branches": {"covered": branches_covered, "total": branches_total},
        "uncovered": ranges(sorted({*executed, *missing}), missing),
        "missing_branches": missing_branches[:MAX_KEPT],
    }


def never_ran(statements: Sequence[int]) -> dict[str, Any]:
    """The coverage figure of a source file the tests never imported: none of it ran."""
    return {
        "status": MEASURED,
        "percent": 0.0 if statements else 100.0,
        "line_percent": 0.0 if statements else 100.0,
        "branch_percent": None,
        "lines": {"covered": 0, "total": len(statements)},
        "branches": {"covered": 0, "total": 0},
        "uncovered": ranges(statements, statements),
        "missing_branches": [],
    }


def ranges(statements: Sequence[int], missing: Iterable[int]) -> str:
    """Missing lines as ranges, "12-15, 40": a range runs over consecutive *statements*, so
    blank lines and comments between missing ones do not split it (as coverage.py reports)."""
    gone = set(missing)
    spans: list[tuple[int, int]] = []
    start: int | None = None
    previous = 0
    for line in sorted(statements):
        if line in gone:
            start = line if start is None else start
            previous = line
        elif start is not None:
            spans.append((start, previous))
            start = None
    if start is not None:
        spans.append((start, previous))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def statement_lines(source: str) -> list[int]:
    """The lines where a statement of ``source`` starts (for a file no test imported)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return sorted({n.lineno for n in ast.walk(tree) if isinstance(n, ast.stmt)})
