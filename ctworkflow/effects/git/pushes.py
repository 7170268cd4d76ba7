"""The remote's branches: read a head, create a branch, and move or delete one under a lease
(``--force-with-lease`` against the head the caller expects)."""

from __future__ import annotations

from pathlib import Path

from ctworkflow import errors
from ctworkflow.effects.git.base import (
    check_remote,
    check_sha,
    failure,
    push_status,
)
from ctworkflow.effects.git.mirrors import Mirrors
from ctworkflow.effects.git.redaction import redact


class Pushing(Mirrors):
    """Branches on the remote."""

    def remote_head(self, remote: str, branch: str) -> str | None:
        """Return the commit ``branch`` points to on ``remote``, or None if there is none."""
        check_remote(remote)
        ref = self._branch_ref(branch)
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        result = self._ok(
            ["ls-remote", "--heads", "--", remote, ref],
            cwd=self._cache_dir,
            what=f"git ls-remote of {branch}",
            remote=remote,
        )
        for line in result.stdout.splitlines():
            sha, _, name = line.partition("\t")
            if name == ref:
                return sha
        return None

    def create_branch(self, remote: str, branch: str, commit: str) -> None:
        """Create ``branch`` at ``commit`` on ``remote``; BranchExists if it is already there."""
        ref = self._branch_ref(branch)
        path = self._mirror_with(remote, commit)
        result = self._git(
            ["push", "--porcelain", f"--force-with-lease={ref}:", "origin", f"{commit}:{ref}"],
            cwd=path,
            what=f"git push of new branch {branch}",
            remote=remote,
        )
        flag, summary = push_status(result.stdout, ref)
        if flag == "=" or (flag == "!" and "stale info" in summary):
            raise errors.BranchExists(f"branch {branch} already exists on {redact(remote)}")
        if not result.ok:
            raise errors.GitError(failure(f"git push of new branch {branch}", result, remote))

    def delete_branch(self, remote: str, branch: str, *, expected_head: str) -> None:
        """Delete ``branch`` on ``remote`` only if it still is at ``expected_head``.

        Raises:
            RemoteMoved: the branch is elsewhere (or gone); nothing was deleted.
        """
        check_sha(expected_head)
        ref = self._branch_ref(branch)
        path = self.mirror(remote)
        result = self._git(
            [
                "push",
                "--porcelain",
                f"--force-with-lease={ref}:{expected_head}",
                "origin",
                f":{ref}",
            ],
            cwd=path,
            what=f"git push deleting {branch}",
            remote=remote,
        )
        if result.ok:
            return
        flag, summary = push_status(result.stdout, ref)
        if flag == "!" and ("stale info" in summary or "remote ref does not exist" in summary):
            raise errors.RemoteMoved(
                f"branch {branch} of {redact(remote)} is no longer at {expected_head}"
            )
        raise errors.GitError(failure(f"git push deleting {branch}", result, remote))

    def push(
        self, worktree: Path, remote: str, branch: str, commit: str, *, expected_head: str | None
    ) -> None:
        """Move ``branch`` on ``remote`` to ``commit`` only if it still is at ``expected_head``
        (None: only if the branch does not exist)."""
        check_remote(remote)
        check_sha(commit)
        if expected_head is not None:
            check_sha(expected_head)
        ref = self._branch_ref(branch)
        lease = f"--force-with-lease={ref}:{expected_head or ''}"
        result = self._git(
            ["push", "--porcelain", lease, "--", remote, f"{commit}:{ref}"],
            cwd=worktree,
            what=f"git push to {branch}",
            remote=remote,
        )
        if result.ok:
            return
        flag, summary = push_status(result.stdout, ref)
        if flag == "!" and "stale info" in summary:
            where = f"at {expected_head}" if expected_head else "absent"
            raise errors.RemoteMoved(f"branch {branch} of {redact(remote)} is no longer {where}")
        raise errors.GitError(failure(f"git push to {branch}", result, remote))
