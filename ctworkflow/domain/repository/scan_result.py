"""What a discovery scan finds in a commit, and what it leaves out and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ctworkflow.domain.states import ComponentKind

CONTEXT: Final = ComponentKind.CONTEXT
MODULE: Final = ComponentKind.MODULE


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """A context or component found in the repository."""

    module_name: str
    name: str
    type: str
    path: str
    parent_module: str | None = None
    #: A component's test file, and whether the commit already has it.
    test_path: str | None = None
    test_exists: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """A file or folder that looked like a component but is not one, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Scan:
    """Everything found in one commit: contexts first, then their components."""

    found: tuple[Found, ...]
    skipped: tuple[Skipped, ...]
    #: Why nothing was found, when nothing was (one line for people).
    nothing_found: str | None = None


def summarize_skipped(skipped: Sequence[Skipped]) -> str:
    """``3 skipped (private module: 2, test package: 1)``: the reasons, counted."""
    counts: dict[str, int] = {}
    for item in skipped:
        kind = item.reason.split(" (", 1)[0].split(":", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    detail = ", ".join(f"{kind}: {n}" for kind, n in sorted(counts.items()))
    return f"{len(skipped)} skipped ({detail})" if skipped else "nothing skipped"
