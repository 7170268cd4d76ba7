"""What every part of :class:`~ctworkflow.effects.git.Git` shares: running one git command,
the mirror locks, and the checks of remotes, commit ids and branch names."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ctworkflow import errors
from ctworkflow.effects import shell
from ctworkflow.effects.git.redaction import redact, scrub

logger = logging.getLogger("ctworkflow.effects.git")

_SHA = re.compile(r"[0-9a-fA-F]{4,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SUMMARY_CHARS = 300


class GitBase:
    """The cache folders, the time limit and the author of one host's git."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        timeout_s: float = 300.0,
        author_name: str = "ctworkflow",
        author_email: str = "ctworkflow@localhost",
    ) -> None:
        for label, value in (("author name", author_name), ("author email", author_email)):
            if not value or _CONTROL.search(value):
                raise errors.InvalidInput(f"invalid {label}: {value!r}")
        self._cache_dir = cache_dir.absolute()
        self._mirrors = self._cache_dir / "mirrors"
        self._worktrees = self._cache_dir / "worktrees"
        self._timeout_s = timeout_s
        self._author_name = author_name
        self._author_email = author_email

    def _git(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        what: str,
        remote: str | None = None,
        input: str | None = None,
    ) -> shell.CommandResult:
        """Run one git command; raise CommandTimeout if it runs past the time limit."""
        where = f" ({redact(remote)})" if remote is not None else ""
        logger.debug("running %s%s", what, where)
        env = shell.base_env({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
        result = shell.run(["git", *args], cwd=cwd, timeout_s=self._timeout_s, env=env, input=input)
        if result.timed_out:
            raise errors.CommandTimeout(f"{what} timed out after {self._timeout_s:g} s{where}")
        return result

    def _ok(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        what: str,
        remote: str | None = None,
        input: str | None = None,
    ) -> shell.CommandResult:
        """Run one git command; raise GitError unless it succeeds."""
        result = self._git(args, cwd=cwd, what=what, remote=remote, input=input)
        if not result.ok:
            raise errors.GitError(failure(what, result, remote))
        return result

    def _branch_ref(self, branch: str) -> str:
        """Return ``refs/heads/<branch>``; InvalidInput if git would refuse the name."""
        ref = f"refs/heads/{branch}"
        if not branch or branch.startswith("-") or _CONTROL.search(branch):
            raise errors.InvalidInput(f"invalid branch name: {branch!r}")
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        valid = self._git(["check-ref-format", ref], cwd=self._cache_dir, what="git check-ref")
        if not valid.ok:
            raise errors.InvalidInput(f"invalid branch name: {branch!r}")
        return ref

    @contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        """Hold the exclusive lock of one mirror (threads and processes alike)."""
        self._mirrors.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._mirrors / f"{key}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the only descriptor releases the lock


def mirror_key(remote: str) -> str:
    """The cache key of a remote."""
    return hashlib.sha256(remote.encode()).hexdigest()[:16]


def check_remote(remote: str) -> None:
    """Refuse remotes git could take for an option, and control characters."""
    if not remote or remote.startswith("-") or _CONTROL.search(remote):
        raise errors.InvalidInput(f"invalid git remote: {redact(remote)!r}")


def check_sha(sha: str) -> None:
    """Refuse anything but a hexadecimal commit id."""
    if not _SHA.fullmatch(sha):
        raise errors.InvalidInput(f"not a commit id: {sha!r}")


def push_status(porcelain: str, ref: str) -> tuple[str, str]:
    """The flag and summary ``git push --porcelain`` reported for ``ref`` ("" if none)."""
    for line in porcelain.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[1].endswith(f":{ref}"):
            return parts[0], parts[2]
    return "", ""


def failure(what: str, result: shell.CommandResult, remote: str | None) -> str:
    """One line saying what failed, on which (redacted) remote, and git's own words."""
    lines = [line.strip() for line in (result.stderr or result.stdout).splitlines()]
    lines = [line for line in lines if line]
    errors_said = [line for line in lines if line.startswith(("fatal:", "error:"))]
    said = " / ".join(errors_said[:2] or lines[-2:]) or f"exit status {result.returncode}"
    if remote is not None:
        said = said.replace(remote, redact(remote))
    said = scrub(said)[:_SUMMARY_CHARS]
    where = f" on {redact(remote)}" if remote is not None else ""
    return f"{what} failed{where}: {said}"
