"""Changes in a worktree and the commit that records them (the message goes through stdin)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ctworkflow import errors
from ctworkflow.effects.git.base import failure
from ctworkflow.effects.git.kept import Changes, KeptWorkspaces

#: New entries named to ``git ls-files`` at most; beyond, one whole-tree status is cheaper.
_MAX_PATHSPECS = 1000


class Committing(KeptWorkspaces):
    """What changed in a worktree, and committing it."""

    def changed_paths(self, worktree: Path) -> list[str]:
        """Paths added, changed or deleted in a worktree since its commit (untracked too).

        In a workspace slot the snapshot says which folders can hold new files, so only those
        are read (:mod:`.snapshots`); elsewhere, or when it cannot tell, ``git status`` walks all.
        A slot's check is noted, so that the run's end can leave it to the next reset.
        """
        changes = self._since_snapshot(worktree)
        if changes is not None and len(changes.new) <= _MAX_PATHSPECS:
            listed = self._listed(worktree, changes)
            self._note_check(worktree, changes)
            return listed
        result = self._ok(
            ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"],
            cwd=worktree,
            what="git status",
        )
        # Each entry is "XY path\0"; the path is taken as git wrote it, never interpreted.
        return sorted(entry[3:] for entry in result.stdout.split("\0") if len(entry) > 3)

    def _listed(self, worktree: Path, changes: Changes) -> list[str]:
        """The paths of ``changes`` as ``git status`` lists them (ignored files left out)."""
        untracked: list[str] = []
        if changes.new:
            pathspecs = [f":(literal){path}" for path in changes.new]
            others = ["ls-files", "-z", "--others", "--exclude-standard", "--", *pathspecs]
            untracked = self._ok(others, cwd=worktree, what="git ls-files").stdout.split("\0")
        paths = {entry[3:] for entry in changes.tracked} | {path for path in untracked if path}
        return sorted(paths)

    def commit_all(self, worktree: Path, paths: Sequence[str], message: str) -> str:
        """Stage ``paths`` and commit them with ``message``; return the new commit's sha."""
        if not paths:
            raise errors.InvalidInput("no paths to commit")
        if not message.strip():
            raise errors.InvalidInput("empty commit message")
        self._ok(["--literal-pathspecs", "add", "--", *paths], cwd=worktree, what="git add")
        staged = self._git(["diff", "--cached", "--quiet"], cwd=worktree, what="git diff")
        if staged.returncode == 0:
            raise errors.StepFailed("nothing to commit")
        if staged.returncode != 1:
            raise errors.GitError(failure("git diff", staged, None))
        settings = (
            f"user.name={self._author_name}",
            f"user.email={self._author_email}",
            "commit.gpgSign=false",
        )
        options = [arg for setting in settings for arg in ("-c", setting)]
        self._ok(
            [*options, "commit", "--quiet", "--no-verify", "--cleanup=verbatim", "-F", "-"],
            cwd=worktree,
            what="git commit",
            input=message,
        )
        head = ["rev-parse", "--verify", "HEAD^{commit}"]
        return self._ok(head, cwd=worktree, what="git rev-parse").stdout.strip()
