"""What every runner does before running anything: refuse paths it must not run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from ctworkflow.domain.model import TestReport
from ctworkflow.effects import shell
from ctworkflow.runners.junit import normalize, tail


def _outside(path: str) -> bool:
    """Tell whether a requested path is absolute or climbs out of the workspace."""
    pure = PurePosixPath(path)
    return pure.is_absolute() or ".." in pure.parts or path.startswith("-")


def _split_runnable(
    workspace: Path, test_paths: Sequence[str]
) -> tuple[dict[str, TestReport], dict[str, str]]:
    """Reports for the paths that cannot run, and the runnable ones (normalized -> requested)."""
    reports: dict[str, TestReport] = {}
    runnable: dict[str, str] = {}
    for requested in dict.fromkeys(test_paths):
        if _outside(requested):
            reports[requested] = TestReport(
                output_tail=f"test file {requested} is outside the workspace"
            )
        elif not (workspace / requested).is_file():
            reports[requested] = TestReport(output_tail=f"test file {requested} does not exist")
        else:
            runnable.setdefault(normalize(requested), requested)
    return reports, runnable


def run_existing(
    workspace: Path,
    test_paths: Sequence[str],
    run_files: Callable[[dict[str, str]], dict[str, TestReport]],
) -> dict[str, TestReport]:
    """A report per requested path: ``run_files`` runs the runnable ones, the rest are refused.

    ``run_files`` gets the runnable paths (normalized -> requested) and returns reports keyed
    by the requested paths.
    """
    reports, runnable = _split_runnable(workspace, test_paths)
    if runnable:
        reports.update(run_files(runnable))
    return {requested: reports[requested] for requested in dict.fromkeys(test_paths)}


def output_tail(result: shell.CommandResult) -> str:
    """Return the end of a runner's stdout and stderr together."""
    parts = [result.tail("stdout"), result.tail("stderr")]
    return tail("\n".join(part for part in parts if part.strip()))


def crash_reason(program: str, result: shell.CommandResult, timeout_s: float) -> str:
    """Return why a test program left no report."""
    if result.timed_out:
        return f"{program} timed out after {timeout_s:g} s"
    if result.stopped:
        return f"{program} stopped: session cancelled"
    return f"{program} exited with status {result.returncode} without a report"


def crash_report(program: str, result: shell.CommandResult, timeout_s: float) -> TestReport:
    """The report of a file whose run ended without a word about it."""
    reason = crash_reason(program, result, timeout_s)
    return TestReport(
        errors=1,
        duration_s=round(result.duration_s, 3),
        output_tail=tail(f"{reason}\n{output_tail(result)}".rstrip()),
    )
