"""Files an agent writes: only inside its workspace."""

from __future__ import annotations

from pathlib import Path


class ScaffoldError(Exception):
    """The scaffold cannot write tests for this source."""


def inside(workspace: Path, relative: str) -> Path:
    """Return workspace/relative, refusing a path that leaves the workspace."""
    root = workspace.resolve()
    path = (root / relative).resolve()
    if path != root and root not in path.parents:
        raise ScaffoldError(f"path {relative!r} is outside the workspace")
    return path
