"""What an environment's build reads of the checkout: the recipe's files, the files it generated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ctworkflow.domain.repository.environments import (
    PYTHON_FILES,
    TEST_REQUIREMENTS,
)
from ctworkflow.effects import shell

__all__ = ["read_recipe_files"]


def read_files(workspace: Path, paths: Sequence[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for path in paths:
        file = workspace / path
        try:
            found[path] = file.read_text(encoding="utf-8") if file.is_file() else None
        except (OSError, UnicodeDecodeError):
            found[path] = None
    return found


def read_recipe_files(workspace: Path) -> dict[str, str]:
    """The files of a checkout a Python recipe is detected from, those that exist."""
    found = read_files(workspace, (*PYTHON_FILES, *TEST_REQUIREMENTS))
    return {path: text for path, text in found.items() if text is not None}


def generated_files(folder: Path, workspace: Path, packages: Mapping[str, str]) -> dict[str, str]:
    """Files the project's build generated that git does not track and ignores in its checkout
    (``_version.py``), inside the project's top-level packages (``packages``: name → folder in
    the repository; never a dependency's file): repository path → the installed copy."""
    candidates: dict[str, str] = {}
    for site in folder.glob("lib/python*/site-packages"):
        for record in site.glob("*.dist-info/RECORD"):
            for line in record.read_text(encoding="utf-8").splitlines():
                installed = line.split(",", 1)[0]
                top, _, rest = installed.partition("/")
                if not installed.endswith(".py") or top not in packages or ".." in rest:
                    continue
                repo_path = f"{packages[top].strip('/')}/{rest}"
                if (workspace / repo_path).parent.is_dir():  # may exist: the build wrote it
                    candidates[repo_path] = str(site / installed)
    if not candidates:
        return {}
    ignored = shell.run(
        ["git", "check-ignore", "--stdin"],
        cwd=workspace,
        timeout_s=60,
        input="\n".join(candidates) + "\n",
        env=shell.base_env(),
    )
    kept = set(ignored.stdout.split())
    return {path: copy for path, copy in candidates.items() if path in kept}
