"""Why a build command of an environment failed, in one line of the installer's own words."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ctworkflow.effects import shell

#: Build output that says the package registry cannot be reached.
_UNREACHABLE: Final = (
    "failed to fetch",
    "could not resolve host",
    "name or service not known",
    "temporary failure in name resolution",
    "network is unreachable",
    "connection refused",
    "nxdomain",
    "econnrefused",
    "failed to connect",
)


def failure_reason(argv: Sequence[str], result: shell.CommandResult, output: str) -> str:
    """The one line that says why a build command failed, in the installer's own words."""
    program = Path(argv[0]).name
    shown = " ".join([program, *argv[1:3]])
    if result.timed_out:
        return f"{shown} timed out after {result.duration_s:.0f} s (CTW_ENVIRONMENT_TIMEOUT_S)"
    if result.exceeded:
        return f"{shown}: {result.exceeded}"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    said = _error_line(lines)
    said = said or f"exit status {result.returncode}"
    lowered = output.lower()
    if "could not find hex" in lowered:
        return (
            f"{shown} failed: the project's dependencies come from the Hex registry and this "
            "worker has no Hex (install it with mix local.hex, which needs builds.hex.pm)"
        )
    if any(marker in lowered for marker in _UNREACHABLE):
        return f"{shown} failed: the package registry cannot be reached ({said})"
    return f"{shown} failed: {said}"


#: The marks uv draws before the lines of its explanation (a tree, and a cross).
_TREE_MARKS: Final = "\u2570\u2500\u25b6\u2502\u00d7 "


def _error_line(lines: Sequence[str]) -> str:
    """The installer's error line, with the line after it that says why (uv: ``error: No
    solution found when resolving dependencies`` then ``cause: Because nosuchpkg was not found
    ...``, or a tree after a colon on a terminal)."""
    if not lines:
        return ""
    marked = [i for i, ln in enumerate(lines) if ln.lower().startswith(("error", "** ("))]
    mentioned = [i for i, ln in enumerate(lines) if "error" in ln.lower()]
    at = (marked or mentioned or [len(lines) - 1])[-1]
    said = lines[at]
    after = lines[at + 1].lstrip(_TREE_MARKS).strip() if at + 1 < len(lines) else ""
    if after.startswith("cause:"):  # uv without a terminal: the reason on the next line
        return f"{said.rstrip(':')}: {after.removeprefix('cause:').strip()}"
    if said.endswith(":") and after:
        return f"{said} {after}"
    return said
