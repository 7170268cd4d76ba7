"""What every runner does before running anything: refuse paths it must not run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from ctworkflow import errors
from ctworkflow.config import get_settings
from ctworkflow.domain.model import TestReport
from ctworkflow.effects import nofollow, shell
from ctworkflow.runners.junit import normalize, tail
from ctworkflow.runners.tally import TAIL_CHARS


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
    max_bytes = get_settings().max_test_file_bytes
    for requested in dict.fromkeys(test_paths):
        if _outside(requested):
            reports[requested] = TestReport(
                output_tail=f"test file {requested} is outside the workspace"
            )
            continue
        try:
            size = nofollow.check(
                workspace, requested, max_bytes=max_bytes, setting="CTW_MAX_TEST_FILE_BYTES"
            )
        except (errors.UnsafeFile, errors.LimitExceeded) as error:
            reports[requested] = TestReport(output_tail=str(error))
            continue
        if size is None:
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


def read_report(path: Path, what: str) -> tuple[str | None, str | None]:
    """The text of a report a test run wrote in its scratch folder, or why it cannot be used.

    The folder is writable by the run, so the report is read without following a link, and
    only up to ``CTW_MAX_REPORT_BYTES``. A missing report is ``(None, None)``.
    """
    try:
        text = nofollow.read_text(
            path.parent,
            path.name,
            max_bytes=get_settings().max_report_bytes,
            what=what,
            setting="CTW_MAX_REPORT_BYTES",
        )
    except FileNotFoundError:
        return None, None
    except (errors.UnsafeFile, errors.LimitExceeded) as error:
        return None, str(error)
    return text, None


def crash_reason(
    program: str, result: shell.CommandResult, timeout_s: float, unreadable: str | None = None
) -> str:
    """Return why a test program left no report."""
    if result.timed_out:
        return f"{program} timed out after {timeout_s:g} s"
    if result.stopped:
        return f"{program} stopped: session cancelled"
    if result.exceeded is not None:
        limit = errors.format_bytes(get_settings().max_output_bytes)
        return f"{program} printed more than {limit} on {result.exceeded} (CTW_MAX_OUTPUT_BYTES)"
    if unreadable is not None:
        return unreadable
    return f"{program} exited with status {result.returncode} without a report"


def crash_report(
    program: str, result: shell.CommandResult, timeout_s: float, unreadable: str | None = None
) -> TestReport:
    """The report of a file whose run ended without a word about it."""
    reason = crash_reason(program, result, timeout_s, unreadable)
    output = output_tail(result)
    # The reason first, whole; then as much of the output's end as fits.
    room = TAIL_CHARS - len(reason) - 1
    kept = tail(output, room) if output and room > 1 else ""
    return TestReport(
        errors=1,
        duration_s=round(result.duration_s, 3),
        output_tail=f"{reason}\n{kept}".rstrip(),
    )
