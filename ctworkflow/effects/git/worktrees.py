"""Checkouts of a commit: throwaway worktrees, and reusable workspace slots per remote."""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ctworkflow import errors
from ctworkflow.effects.git import kept, snapshots
from ctworkflow.effects.git.base import logger, mirror_key
from ctworkflow.effects.git.kept import KeptWorkspaces
from ctworkflow.effects.git.mirrors import Mirrors

#: Reusable workspaces per remote on a host (at most this many runs of one remote at once).
WORKSPACE_SLOTS = 64


class Worktrees(Mirrors, KeptWorkspaces):
    """Worktrees of the mirrors, under ``cache_dir/worktrees``."""

    @contextmanager
    def worktree(self, remote: str, commit: str) -> Iterator[Path]:
        """Check ``commit`` out in a fresh detached worktree; remove it on exit."""
        path = self._mirror_with(remote, commit)
        key = mirror_key(remote)
        self._worktrees.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=self._worktrees))
        try:
            with self._locked(key):
                self._ok(
                    ["worktree", "add", "--detach", "--no-checkout", "--", str(directory), commit],
                    cwd=path,
                    what="git worktree add",
                    remote=remote,
                )
            # What `worktree add` would run itself; it only touches the worktree's own files.
            self._ok(["reset", "--hard", "--quiet"], cwd=directory, what="git checkout")
            yield directory
        finally:
            self._remove_worktree(key, path, directory)

    @contextmanager
    def workspace(self, remote: str, commit: str) -> Iterator[Path]:
        """A worktree at ``commit`` that the next run on this host reuses (a component run's).

        A free slot (``<key>-slot<n>``, held by an ``flock``) still at ``commit`` is reset by
        undoing exactly what the last run changed (:meth:`_reset`); one at another commit, or
        whose state the reset cannot prove clean, is switched and cleaned whole
        (``checkout --force`` + ``clean -ffdx``), and one that cannot be reused is made anew.
        Either way the slot's snapshot (:mod:`.snapshots`) is then taken for the next run and
        the change check. A run that ends normally leaves its last change check on the
        snapshot if no program ran after it (:meth:`_keep_check`), so the next reset need not
        ask git again. With every slot busy this is :meth:`worktree`.
        """
        path = self._mirror_with(remote, commit)
        key = mirror_key(remote)
        self._worktrees.mkdir(parents=True, exist_ok=True)
        slot = self._take_slot(key)
        if slot is None:
            with self.worktree(remote, commit) as directory:
                yield directory
            return
        fd, directory = slot
        kept.forget_check(directory)
        try:
            if not self._reset(path, directory, commit):
                snapshots.forget(directory)
                if not self._reuse(path, directory, commit):
                    self._renew_slot(key, path, directory, commit)
                self._snapshot(directory, commit)
            yield directory
            self._keep_check(directory, commit)
        finally:
            kept.forget_check(directory)
            os.close(fd)  # releases the slot

    def _take_slot(self, key: str) -> tuple[int, Path] | None:
        """The lock and folder of the first free workspace slot of a remote, or None."""
        for index in range(WORKSPACE_SLOTS):
            lock = self._worktrees / f"{key}-slot{index}.lock"
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return fd, self._worktrees / f"{key}-slot{index}"
        return None

    def _reset(self, mirror: Path, directory: Path, commit: str) -> bool:
        """Undo exactly what the last run changed in a slot at ``commit``; False if it cannot.

        The snapshot names the folders the run touched; their entries the commit lacks
        (untracked and ignored alike) are deleted, the tracked files git finds changed (or the
        last run's final check found, when it kept its findings) are checked out again from
        the index. The proof: a new snapshot, taken before the check, shows no entry the
        commit lacks in any folder that moved, every folder is a real one, and git finds no
        tracked change. An index the run changed, a link in a folder's place,
        a ``.git`` that moved: False, and the slot is cleaned whole or rebuilt.
        """
        if not _points_at(directory, mirror):
            return False
        changes = self._since_snapshot(directory, trust_kept=True)
        if changes is None or changes.snapshot.commit != commit:
            return False
        if any(entry[0] != " " for entry in changes.tracked):
            return False  # the run staged something: the index itself must be rebuilt
        try:
            snapshots.remove(directory, changes.new)
        except OSError:
            return False
        if changes.tracked:
            restore = ["checkout-index", "--force", "-z", "--stdin"]
            paths = "".join(f"{entry[3:]}\0" for entry in changes.tracked)
            if not self._git(restore, cwd=directory, what="git checkout-index", input=paths).ok:
                return False
        proof = snapshots.take(directory, changes.tree, commit)
        moved = snapshots.moved(changes.snapshot, proof)
        left = snapshots.new_entries(directory, changes.tree, moved)
        if (
            left != []
            or not snapshots.all_real_folders(proof)
            or proof.link != changes.snapshot.link
        ):
            logger.warning(
                "workspace %s is not clean after its reset; cleaning it whole", directory
            )
            return False
        # Restored files are checked again; with none, git's first look is the proof.
        if changes.tracked and self._tracked_changes(directory) != []:
            return False
        snapshots.save(directory, proof)
        logger.debug(
            "workspace %s reset: %d entries removed, %d files restored",
            directory,
            len(changes.new),
            len(changes.tracked),
            extra={"action": "reset_workspace"},
        )
        return True

    def _snapshot(self, directory: Path, commit: str) -> None:
        """Take a clean slot's snapshot for the next reset and change check (none if odd)."""
        tree = self._tree(directory, commit)
        snapshot = snapshots.take(directory, tree, commit)
        if not tree.has_submodules and snapshots.all_real_folders(snapshot):
            snapshots.save(directory, snapshot)

    def _reuse(self, mirror: Path, directory: Path, commit: str) -> bool:
        """Bring a kept workspace to ``commit`` with nothing else in it; False if it cannot.

        The workspace is used only if its ``.git`` still points at its own place in the mirror
        and, once cleaned, ``git status`` (ignored files included) finds nothing: a leftover
        of another run (a process that outlived it) makes the slot be rebuilt instead.
        """
        if not _points_at(directory, mirror):
            return False
        steps = (
            ["checkout", "--quiet", "--force", "--detach", commit],
            ["clean", "-ffdxq"],
        )
        for step in steps:
            if not self._git(step, cwd=directory, what=f"git {step[0]} of a workspace").ok:
                logger.info("workspace %s could not be reused; making it anew", directory)
                return False
        status = ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored"]
        left = self._git(status, cwd=directory, what="git status of a workspace")
        if not left.ok or left.stdout:
            logger.warning("workspace %s is not clean after cleaning; making it anew", directory)
            return False
        return True

    def _renew_slot(self, key: str, mirror: Path, directory: Path, commit: str) -> None:
        """(Re)create a slot's worktree at ``commit`` (the slot's lock is held)."""
        with self._locked(key):
            if directory.exists():
                remove = ["worktree", "remove", "--force", str(directory)]
                self._git(remove, cwd=mirror, what="git worktree remove")
                shutil.rmtree(directory, ignore_errors=True)
            self._git(["worktree", "prune"], cwd=mirror, what="git worktree prune")
            self._ok(
                ["worktree", "add", "--detach", "--no-checkout", "--", str(directory), commit],
                cwd=mirror,
                what="git worktree add",
            )
        self._ok(["reset", "--hard", "--quiet"], cwd=directory, what="git checkout")

    def _remove_worktree(self, key: str, mirror: Path, directory: Path) -> None:
        """Remove a worktree and its bookkeeping in the mirror, whatever state it is in."""
        try:
            with self._locked(key):
                if mirror.exists():
                    remove = ["worktree", "remove", "--force", str(directory)]
                    self._git(remove, cwd=mirror, what="git worktree remove")
                shutil.rmtree(directory, ignore_errors=True)
                if mirror.exists():
                    self._git(["worktree", "prune"], cwd=mirror, what="git worktree prune")
        except errors.CtWorkflowError as exc:
            logger.warning("could not clean up worktree %s: %s", directory, exc)
            shutil.rmtree(directory, ignore_errors=True)


def _points_at(directory: Path, mirror: Path) -> bool:
    """Tell whether a worktree's ``.git`` file is a regular file naming its place in ``mirror``."""
    git_file = directory / ".git"
    try:
        if not stat.S_ISREG(git_file.lstat().st_mode):
            return False
        text = git_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if not text.startswith("gitdir: "):
        return False
    gitdir = Path(text.strip().removeprefix("gitdir: ")).resolve()
    if gitdir.parent != mirror.resolve() / "worktrees":
        return False
    try:  # git's own record, in the mirror, of where this worktree is
        back = (gitdir / "gitdir").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return Path(back).resolve() == git_file.resolve()
