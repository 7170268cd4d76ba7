"""Files an agent writes: only inside its workspace."""

from __future__ import annotations

from pathlib import Path

from ctworkflow.agents.base import AgentRequest


class ScaffoldError(Exception):
    """The scaffold cannot write tests for this source."""


def inside(workspace: Path, relative: str) -> Path:
    """Return workspace/relative, refusing a path that leaves the workspace."""
    root = workspace.resolve()
    path = (root / relative).resolve()
    if path != root and root not in path.parents:
        raise ScaffoldError(f"path {relative!r} is outside the workspace")
    return path


def existing_content(request: AgentRequest, own_header: str) -> str | None:
    """The component's test file as it was at the base, which a scaffold only ever adds to.

    The request says so when the file existed at the base. A file in the workspace the
    request does not mention is the scaffold's own earlier output when it starts with
    ``own_header`` (None: write it anew); any other is taken as it is, never overwritten.
    """
    if request.existing is not None:
        return request.existing.content
    current = inside(request.workspace, request.test_path)
    if not current.is_file():
        return None
    text = current.read_text(encoding="utf-8", errors="replace")
    return None if text.startswith(own_header) else text
