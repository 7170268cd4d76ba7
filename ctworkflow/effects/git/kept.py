"""What a run changed in a kept workspace, read from its snapshot (:mod:`.snapshots`) and the
index: the cost follows the folders the run touched, plus git's ``lstat`` of the tracked files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ctworkflow.effects.git import snapshots
from ctworkflow.effects.git.base import GitBase

_TRACKED_STATUS = ("status", "--porcelain=v1", "-z", "--untracked-files=no", "--no-renames")


@dataclass(frozen=True, slots=True)
class Changes:
    """A kept workspace's changes since its snapshot."""

    snapshot: snapshots.Snapshot
    tree: snapshots.Tree
    tracked: list[str]  # git's "XY path" entries of tracked files
    new: list[str]  # entries the commit does not have (untracked and ignored alike)


class KeptWorkspaces(GitBase):
    """Reads a workspace slot's changes without walking its whole tree."""

    def _since_snapshot(self, directory: Path) -> Changes | None:
        """What changed in a slot since its snapshot; None when the snapshot cannot tell."""
        snapshot = snapshots.load(directory)
        if snapshot is None or snapshots.head(directory) != snapshot.commit:
            return None
        tree = self._tree(directory, snapshot.commit)
        if tree.has_submodules or set(tree.folders) != set(snapshot.stamps):
            return None
        now = snapshots.take(directory, tree, snapshot.commit)
        if now.link is None or now.link != snapshot.link:
            return None  # the link to the mirror was rewritten: what git reads is unknown
        new = snapshots.new_entries(directory, tree, snapshots.moved(snapshot, now))
        tracked = self._tracked_changes(directory)
        if new is None or tracked is None:
            return None
        return Changes(snapshot=snapshot, tree=tree, tracked=tracked, new=new)

    def _tree(self, directory: Path, commit: str) -> snapshots.Tree:
        """The folders and entries of ``commit`` (read once per process and commit)."""
        tree = snapshots.cached_tree(commit)
        if tree is None:
            listing = ["ls-tree", "-r", "-t", "-z", "--full-tree", commit]
            tree = snapshots.parse_tree(self._ok(listing, cwd=directory, what="git ls-tree").stdout)
            snapshots.remember_tree(commit, tree)
        return tree

    def _tracked_changes(self, directory: Path) -> list[str] | None:
        """git's entries for tracked files that differ from the commit, or None if it failed."""
        result = self._git(_TRACKED_STATUS, cwd=directory, what="git status")
        if not result.ok:
            return None
        return [entry for entry in result.stdout.split("\0") if len(entry) > 3]
