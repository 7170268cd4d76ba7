"""Which files of a Python repository count: names matched, test folders, skipped folders."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Final

#: Folder names of test packages and test folders.
TEST_FOLDERS: Final = frozenset({"tests", "test"})


#: Folders no package or test is looked for in (at any depth).
IGNORED_FOLDERS: Final = frozenset(
    {"node_modules", "__pycache__", "site-packages", "venv", ".venv", "build", "dist"}
)


def ignored(path: str) -> bool:
    return any(part.startswith(".") or part in IGNORED_FOLDERS for part in path.split("/"))


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether ``name`` matches one of the glob ``patterns`` (case-sensitive, as pytest does)."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
