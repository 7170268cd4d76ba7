"""The instructions a command agent reads from its prompt file."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ctworkflow.agents.base import AgentRequest
from ctworkflow.domain.repository.layouts import Layout

MAX_FEEDBACK_CHARS = 20_000


def design_doc_path(request: AgentRequest) -> str | None:
    """Return the relative path of the component's design document if the workspace has one."""
    stem = PurePosixPath(request.source_path).with_suffix("").as_posix()
    candidates = (f"docs/design/{request.module_name}.md", f"docs/design/{stem}.md")
    for candidate in candidates:
        if (Path(request.workspace) / candidate).is_file():
            return candidate
    return None


def tests_root(test_path: str) -> str:
    """Return the test folder a test path is in: its nearest ``tests``/``test`` folder
    (``toolz/sandbox/tests`` for an in-package test), else its top-level folder."""
    parts = PurePosixPath(test_path).parts
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] in ("tests", "test"):
            return "/".join(parts[: index + 1])
    return parts[0] if len(parts) > 1 else "."


def tests_command(request: AgentRequest) -> str:
    """The command that runs the component's test file in the project's environment."""
    if request.layout is Layout.PHOENIX:
        return f"MIX_ENV=test mix test {request.test_path}"
    return f"python -m pytest {request.test_path}"


def build_prompt(request: AgentRequest) -> str:
    """Return the prompt that tells an agent which tests to write and where."""
    lines = [
        f"Write the tests of the component {request.component_name!r}"
        f" (module {request.module_name}, {request.layout.value} layout).",
        "",
        f"Its source is in {request.source_path}.",
    ]
    design = design_doc_path(request)
    if design is not None:
        lines.append(f"Its design is described in {design}.")
    existing = request.existing
    if existing is None:
        lines += ["", f"Write the tests to {request.test_path}."]
    else:
        noun = "test" if existing.tests == 1 else "tests"
        lines += [
            "",
            f"This component already has a test file, {existing.path}, with {existing.tests}"
            f" {noun}.",
            f"Keep every existing test in {existing.path}: do not delete, rename, skip or"
            " weaken any of them. Add your tests to that file, with names that do not clash"
            " with the existing ones.",
            "If the existing tests already cover the component well, you may leave the file"
            " unchanged.",
        ]
    lines += [
        f"Change only that test file, plus support files under {tests_root(request.test_path)}/"
        " if the tests need them; do not change any other file.",
        "The tests must pass against the current source.",
        f"The project runs them with `{tests_command(request)}`, in its own environment"
        " (its interpreter and tools come first on PATH).",
    ]
    if request.feedback:
        feedback = request.feedback[-MAX_FEEDBACK_CHARS:]
        lines += [
            "",
            "The previous attempt failed. Its output was:",
            "",
            feedback,
            "",
            "Fix the tests so that they pass.",
        ]
    return "\n".join(lines) + "\n"
