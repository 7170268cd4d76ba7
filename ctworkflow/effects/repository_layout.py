"""A commit's files and layout profile, read from the project's git mirror (nothing checked out).

The pure rules live in :mod:`ctworkflow.domain.repository.layout_detection` and
:mod:`ctworkflow.domain.repository.layout_profile`; this module only fetches what they need:
the tree of the commit (paths, sizes, symlink targets) and the root configuration files.

When the profile is read: discovery detects it at the commit it reads; a context testing
session detects it at its base commit in Initialize and keeps it in its state (``layout``,
:mod:`ctworkflow.domain.session_state`), so every component run, validation and finalize of
that session use the same paths, whatever the default branch or the project settings do
meanwhile.
"""

from __future__ import annotations

import posixpath
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ctworkflow import errors, ports
from ctworkflow.domain.model import Project
from ctworkflow.domain.repository import layout_detection, layout_profile
from ctworkflow.domain.repository.layout_profile import ComponentPaths, LayoutProfile
from ctworkflow.domain.repository.repository_tree import RepositoryTree, TreeEntry
from ctworkflow.domain.session_state import SessionState

#: More symlinks than this in one commit is refused rather than read one by one.
MAX_SYMLINKS: Final = 2000

#: How many commits' trees a process keeps (:func:`read_tree`): each holds about 1.4 MB per
#: 10,000 files, and the sessions a worker serves at once mostly share their base commit.
TREE_CACHE_SIZE: Final = 2

_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_TREES: OrderedDict[tuple[str, str], RepositoryTree] = OrderedDict()
#: The cache is shared by the threads of a process (the HTTP server's plan endpoint runs in a
#: thread pool); the lock is held only to look up and to insert, never while git reads.
_TREES_LOCK = threading.Lock()


def read_tree(git: ports.GitRemote, remote: str, commit: str) -> RepositoryTree:
    """The files of ``commit`` with their sizes and the targets of its symlinks.

    Every component run of a session reads its base commit's tree, and on a 10,000-file
    repository reading and indexing it costs tens of milliseconds. A full commit id fixes its
    tree, so the last few read are kept for the process; a short id or a name is read each time.

    Raises:
        InvalidLayout: the commit holds more than :data:`MAX_SYMLINKS` symlinks.
        GitError: the remote cannot be read.
    """
    key = (remote, commit)
    with _TREES_LOCK:
        cached = _TREES.get(key)
        if cached is not None:
            _TREES.move_to_end(key)
            return cached
    entries = git.tree_entries(remote, commit)
    tree = _tree(git, remote, commit, entries)
    if _FULL_SHA.fullmatch(commit):
        with _TREES_LOCK:
            _TREES[key] = tree
            while len(_TREES) > TREE_CACHE_SIZE:
                _TREES.popitem(last=False)
    return tree


def _tree(
    git: ports.GitRemote, remote: str, commit: str, entries: list[TreeEntry]
) -> RepositoryTree:
    links = [e for e in entries if e.is_symlink]
    if len(links) > MAX_SYMLINKS:
        raise errors.InvalidLayout(
            f"the commit holds {len(links)} symlinks; at most {MAX_SYMLINKS} are read"
        )
    return RepositoryTree(
        files=frozenset(e.path for e in entries),
        symlinks={e.path: git.read_blob(remote, commit, e.object) for e in links},
        sizes={e.path: e.size for e in entries if not e.is_symlink},
    )


def read_configs(
    git: ports.GitRemote,
    remote: str,
    commit: str,
    tree: RepositoryTree,
    entries: Mapping[str, TreeEntry],
    names: Sequence[str],
) -> dict[str, str]:
    """The texts of the files ``names`` (root configuration files), those present.

    Raises:
        InvalidLayout: one is a symlink out of the repository, or larger than the limit.
    """
    texts: dict[str, str] = {}
    for name in names:
        entry = entries.get(name)
        if entry is None:
            continue
        if entry.is_symlink:
            tree.check_inside(name, "configuration file")
            entry = entries.get(_resolve(tree, name)) or entry
            if entry.is_symlink:
                continue  # a symlink to a symlink, or to nothing: not read
        if entry.size > layout_detection.MAX_CONFIG_BYTES:
            raise errors.InvalidLayout(
                f"{name} is {entry.size} bytes; at most"
                f" {layout_detection.MAX_CONFIG_BYTES} are read"
            )
        texts[name] = git.read_blob(remote, commit, entry.object)
    return texts


def _resolve(tree: RepositoryTree, path: str) -> str:
    target = tree.symlinks[path]
    return posixpath.normpath(posixpath.join(posixpath.dirname(path), target))


def detect(
    git: ports.GitRemote, project: Project, commit: str, settings: Mapping[str, Any] | None = None
) -> tuple[LayoutProfile, RepositoryTree]:
    """The layout profile of ``commit`` of the project's remote, and the commit's tree.

    ``settings`` default to the project's own.

    Raises:
        InvalidLayout: the configuration does not parse or leads out of the repository.
        GitError: the remote cannot be read.
    """
    entries = git.tree_entries(project.code_repo, commit)
    tree = _tree(git, project.code_repo, commit, entries)
    names = layout_detection.config_files(project.layout)
    by_path = {e.path: e for e in entries}
    configs = read_configs(git, project.code_repo, commit, tree, by_path, names)
    chosen = project.settings if settings is None else settings
    return layout_detection.detect(project.layout, tree, configs, chosen), tree


def session_state(profile: LayoutProfile, commit: str) -> dict[str, Any]:
    """What a session keeps as its ``layout``: the profile and the commit it is of."""
    return {**profile.to_json(), "commit": commit}


def session_profile(state: SessionState, commit: str | None) -> LayoutProfile | None:
    """The profile a session recorded at Initialize for ``commit``, if it recorded one."""
    data = state.layout
    if not isinstance(data, Mapping) or commit is None or data.get("commit") != commit:
        return None
    return LayoutProfile.from_json(data)


def component_paths(
    git: ports.GitRemote,
    project: Project,
    commit: str,
    module_name: str,
    profile: LayoutProfile | None,
) -> ComponentPaths:
    """A component's source and test paths at ``commit``, its existing test file found.

    ``profile`` is the session's (detected again from the commit when the session has none).

    Raises:
        InvalidLayout: the source or test file is a symlink out of the repository, or its
            test path is a folder.
        InvalidModuleName: not a module name of the project's layout.
    """
    if profile is None:
        profile, tree = detect(git, project, commit)
    else:
        tree = read_tree(git, project.code_repo, commit)
    return layout_profile.component_paths(profile, module_name, tree)
