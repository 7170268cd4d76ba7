"""A git remote in memory, implementing :class:`~ctworkflow.ports.GitRemote`.

Commits are values (files, parent, message) kept in a dictionary; each remote is a mapping of
branch names to commits. A workspace is a real temporary folder holding a commit's files (so
agents and runners see files on disk), and :meth:`FakeGit.changed_paths` compares it with
that commit. Pushes and branch deletions honour their lease as ``--force-with-lease`` does,
and :attr:`FakeGit.pushes` records every push that moved a branch.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ctworkflow import errors
from ctworkflow.domain.repository.repository_tree import TreeEntry


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeCommit:
    """A commit: every file it holds, its parent and its message."""

    sha: str
    parent: str | None
    files: Mapping[str, str]
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Push:
    """A push that moved a branch."""

    remote: str
    branch: str
    commit: str


def _blob_id(text: str) -> str:
    """Git's blob id of ``text`` (what ``git hash-object`` prints)."""
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class FakeGit:
    """Remotes, commits and workspaces in memory (workspaces under ``root``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.commits: dict[str, FakeCommit] = {}
        self.remotes: dict[str, dict[str, str]] = {}
        self.pushes: list[Push] = []
        self._blobs: dict[str, str] = {}
        self._workspaces: dict[Path, str] = {}

    # -- set-up ---------------------------------------------------------------------------

    def add_remote(self, remote: str, files: Mapping[str, str], *, branch: str = "main") -> str:
        """A remote whose ``branch`` holds one commit of ``files``; that commit."""
        sha = self.add_commit(files, parent=None, message="initial commit\n")
        self.remotes[remote] = {branch: sha}
        return sha

    def add_commit(self, files: Mapping[str, str], *, parent: str | None, message: str) -> str:
        """A new commit (reachable from no branch until one is moved to it)."""
        digest = hashlib.sha1(usedforsecurity=False)
        for part in (parent or "", message, *sorted(f"{p}\0{t}" for p, t in files.items())):
            digest.update(part.encode() + b"\1")
        digest.update(str(len(self.commits)).encode())
        sha = digest.hexdigest()
        for text in files.values():
            self._blobs[_blob_id(text)] = text
        self.commits[sha] = FakeCommit(sha=sha, parent=parent, files=dict(files), message=message)
        return sha

    def move_branch(self, remote: str, branch: str, commit: str) -> None:
        """Point a branch somewhere, as another user's push would."""
        self._branches(remote)[branch] = commit

    # -- the port -------------------------------------------------------------------------

    def _branches(self, remote: str) -> dict[str, str]:
        if remote not in self.remotes:
            raise errors.GitError(f"git ls-remote failed: no remote {remote}")
        return self.remotes[remote]

    def _commit(self, commit: str) -> FakeCommit:
        if commit not in self.commits:
            raise errors.GitError(f"no commit {commit}")
        return self.commits[commit]

    def mirror(self, remote: str, *, need: str | None = None) -> Path:
        self._branches(remote)
        if need is not None:
            self._commit(need)
        return self.root

    def remote_head(self, remote: str, branch: str) -> str | None:
        return self._branches(remote).get(branch)

    def commit_message(self, remote: str, commit: str) -> str:
        return self._commit(commit).message

    def create_branch(self, remote: str, branch: str, commit: str) -> None:
        branches = self._branches(remote)
        if branch in branches:
            raise errors.BranchExists(f"branch {branch} already exists on {remote}")
        self._commit(commit)
        branches[branch] = commit
        self.pushes.append(Push(remote=remote, branch=branch, commit=commit))

    def tree_entries(self, remote: str, commit: str) -> list[TreeEntry]:
        files = self._commit(commit).files
        return [
            TreeEntry(path=path, mode="100644", object=_blob_id(text), size=len(text.encode()))
            for path, text in sorted(files.items())
        ]

    def blob_ids(self, remote: str, commit: str, paths: Sequence[str]) -> dict[str, str]:
        files = self._commit(commit).files
        return {path: _blob_id(files[path]) for path in paths if path in files}

    def read_blob(self, remote: str, commit: str, obj: str) -> str:
        if obj not in self._blobs:
            raise errors.GitError(f"no object {obj}")
        return self._blobs[obj]

    @contextmanager
    def workspace(self, remote: str, commit: str) -> Iterator[Path]:
        files = self._commit(commit).files
        self.root.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="workspace-", dir=self.root))
        try:
            for path, text in files.items():
                target = directory / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            self._workspaces[directory] = commit
            yield directory
        finally:
            self._workspaces.pop(directory, None)
            shutil.rmtree(directory, ignore_errors=True)

    def _on_disk(self, worktree: Path) -> dict[str, str]:
        found: dict[str, str] = {}
        for path in worktree.rglob("*"):
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(worktree).as_posix()] = path.read_text(encoding="utf-8")
        return found

    def changed_paths(self, worktree: Path) -> list[str]:
        base = self._commit(self._workspaces[worktree]).files
        now = self._on_disk(worktree)
        return sorted(p for p in set(base) | set(now) if base.get(p) != now.get(p))

    def commit_all(self, worktree: Path, paths: Sequence[str], message: str) -> str:
        if not paths:
            raise errors.InvalidInput("no paths to commit")
        parent = self._workspaces[worktree]
        files = dict(self._commit(parent).files)
        now = self._on_disk(worktree)
        for path in paths:
            if path in now:
                files[path] = now[path]
            else:
                files.pop(path, None)
        if files == dict(self._commit(parent).files):
            raise errors.StepFailed("nothing to commit")
        sha = self.add_commit(files, parent=parent, message=message)
        self._workspaces[worktree] = sha
        return sha

    def commits_between(self, remote: str, head: str, base: str) -> list[tuple[str, str]]:
        ancestors: set[str] = set()
        walk: str | None = base
        while walk is not None:
            ancestors.add(walk)
            walk = self._commit(walk).parent
        found: list[tuple[str, str]] = []
        walk = head
        while walk is not None and walk not in ancestors:
            commit = self._commit(walk)
            found.append((commit.sha, commit.message))
            walk = commit.parent
        return found

    def delete_branch(self, remote: str, branch: str, *, expected_head: str) -> None:
        branches = self._branches(remote)
        if branches.get(branch) != expected_head:
            raise errors.RemoteMoved(f"branch {branch} of {remote} is no longer at {expected_head}")
        del branches[branch]

    def push(
        self, worktree: Path, remote: str, branch: str, commit: str, *, expected_head: str | None
    ) -> None:
        branches = self._branches(remote)
        if branches.get(branch) != expected_head:
            where = f"at {expected_head}" if expected_head else "absent"
            raise errors.RemoteMoved(f"branch {branch} of {remote} is no longer {where}")
        self._commit(commit)
        branches[branch] = commit
        self.pushes.append(Push(remote=remote, branch=branch, commit=commit))
