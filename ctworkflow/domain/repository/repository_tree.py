"""The files of one commit, as layout detection and discovery see them: paths, sizes, symlinks.

A tree is read once from git (``ls-tree``) and is then pure data, so every rule about where
packages, sources and tests are can be unit-tested on a list of paths. Symlinks are kept with
their targets: a source or test file that is a symlink must resolve to a file inside the
repository, or it is refused (:func:`RepositoryTree.check_inside`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import Final

from ctworkflow import errors

#: How many symlinks a path may go through before it counts as a loop.
MAX_SYMLINK_HOPS: Final = 40


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeEntry:
    """One file of a commit as ``git ls-tree -l`` lists it."""

    path: str
    mode: str  #: ``100644``, ``100755``, ``120000`` (a symlink)
    object: str
    size: int

    @property
    def is_symlink(self) -> bool:
        """Tell whether the entry is a symlink (its blob holds the target)."""
        return self.mode == "120000"


@dataclass(frozen=True, kw_only=True)
class RepositoryTree:
    """Every file of a commit (POSIX paths relative to the root), with sizes and symlinks."""

    files: frozenset[str]
    #: Symlinks among ``files``, with the target each holds (as git stores it).
    symlinks: Mapping[str, str] = field(default_factory=dict)
    #: Sizes in bytes of the regular files, where known.
    sizes: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, paths: Iterable[str], symlinks: Mapping[str, str] | None = None) -> RepositoryTree:
        """A tree of these paths (a test's or a caller's list of files)."""
        links = dict(symlinks or {})
        return cls(files=frozenset(paths) | frozenset(links), symlinks=links)

    @cached_property
    def directories(self) -> frozenset[str]:
        """Every directory that holds a file, at any depth (not the root)."""
        found: set[str] = set()
        for path in self.files:
            parent = posixpath.dirname(path)
            while parent and parent not in found:
                found.add(parent)
                parent = posixpath.dirname(parent)
        return frozenset(found)

    @cached_property
    def by_loose_path(self) -> dict[str, list[str]]:
        """Files by their path lowercased with underscores removed (``lib/eex/smartengine.ex``)."""
        index: dict[str, list[str]] = {}
        for path in sorted(self.files):
            index.setdefault(path.replace("_", "").lower(), []).append(path)
        return index

    def is_file(self, path: str) -> bool:
        """Tell whether ``path`` is a file (or a symlink) of the commit."""
        return path in self.files

    def is_dir(self, path: str) -> bool:
        """Tell whether ``path`` is a directory of the commit (``""`` is the root)."""
        return path == "" or path in self.directories

    def children(self, directory: str) -> list[str]:
        """The files directly in ``directory`` (``""``: the root), sorted."""
        return sorted(f for f in self.files if posixpath.dirname(f) == directory)

    def check_inside(self, path: str, what: str) -> None:
        """Refuse a symlink (at ``path`` or one of its folders) that leads out of the repository.

        Raises:
            InvalidLayout: naming ``what`` the path is, and where it points.
        """
        current = path
        for _ in range(MAX_SYMLINK_HOPS):
            link, rest = self._first_symlink(current)
            if link is None:
                return
            target = self.symlinks[link]
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(link), target))
            if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
                raise errors.InvalidLayout(
                    f"{what} {path} is a symlink to {target}, outside the repository"
                )
            current = posixpath.join(resolved, rest) if rest else resolved
        raise errors.InvalidLayout(f"{what} {path} is a symlink loop")

    def _first_symlink(self, path: str) -> tuple[str | None, str]:
        """The first symlink on ``path`` (the path itself or a folder of it), and what follows."""
        parts = PurePosixPath(path).parts
        for end in range(1, len(parts) + 1):
            prefix = "/".join(parts[:end])
            if prefix in self.symlinks:
                return prefix, "/".join(parts[end:])
        return None, ""
