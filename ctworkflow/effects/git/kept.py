"""What a run changed in a kept workspace, read from its snapshot (:mod:`.snapshots`) and the
index: the cost follows the folders the run touched, plus git's ``lstat`` of the tracked files.

That ``lstat`` of every tracked file (``git status``) is the one part that grows with the
repository, so a run pays it once: its change check's findings are noted (:meth:`_note_check`)
and, if no program ran after the check, kept on the slot when the run ends
(:meth:`_keep_check`). The next reset undoes exactly those tracked changes without asking git
again; new entries are still found from the folders' stamps, and a staged change, a moved index
or another commit still makes the slot be cleaned whole.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ctworkflow.effects import shell
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


@dataclass(frozen=True, slots=True)
class _Check:
    """What a run's change check found of the tracked files, and when (in programs run)."""

    commit: str
    tracked: tuple[str, ...]
    index: snapshots.Stamp | None
    policy_runs: int


#: The last change check of each slot in use by this process, until its run ends.
_CHECKS: dict[Path, _Check] = {}


class KeptWorkspaces(GitBase):
    """Reads a workspace slot's changes without walking its whole tree."""

    def _since_snapshot(self, directory: Path, *, trust_kept: bool = False) -> Changes | None:
        """What changed in a slot since its snapshot; None when the snapshot cannot tell.

        With ``trust_kept`` (the reset, before any program of a new run), the tracked changes
        the last run's check left on the snapshot stand for git's answer while the index is
        the one that check saw.
        """
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
        kept = snapshot.tracked if trust_kept and _index_unmoved(directory, snapshot) else None
        tracked = list(kept) if kept is not None else self._tracked_changes(directory)
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

    def _note_check(self, directory: Path, changes: Changes) -> None:
        """Note a change check's findings for :meth:`_keep_check` (after git has read all)."""
        _CHECKS[directory] = _Check(
            commit=changes.snapshot.commit,
            tracked=tuple(changes.tracked),
            index=snapshots.index_stamp(directory),
            policy_runs=shell.policy_runs(),
        )

    def _keep_check(self, directory: Path, commit: str) -> None:
        """At the end of a run in a slot: keep its last change check on the slot's snapshot.

        Only if the check is still the whole truth: no program started since (each one's
        processes are all gone when it returns), the slot still at ``commit`` with the
        index the check saw. Otherwise the snapshot stays as it was and the next reset asks git.
        """
        check = _CHECKS.pop(directory, None)
        if check is None or check.policy_runs != shell.policy_runs() or check.commit != commit:
            return
        if snapshots.head(directory) != commit or snapshots.index_stamp(directory) != check.index:
            return
        snapshot = snapshots.load(directory)
        if snapshot is None or snapshot.commit != commit or check.index is None:
            return
        kept = dataclasses.replace(snapshot, tracked=check.tracked, index=check.index)
        snapshots.save(directory, kept)


def forget_check(directory: Path) -> None:
    """Drop a slot's noted check (a new run starts in it)."""
    _CHECKS.pop(directory, None)


def _index_unmoved(directory: Path, snapshot: snapshots.Snapshot) -> bool:
    """Tell whether the index is the one the snapshot's kept check saw."""
    return snapshot.index is not None and snapshots.index_stamp(directory) == snapshot.index
