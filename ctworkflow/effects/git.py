"""git through :func:`ctworkflow.effects.shell.run`: one bare mirror per remote, worktrees, pushes.

Every command is an argv list ``["git", ...]`` run with ``cwd=``; commit messages go through
stdin (``git commit -F -``). Mirrors live in ``cache_dir/mirrors/<sha256(remote)[:16]>.git``;
every change to a mirror (creation, fetch, worktree add/remove) holds an exclusive
``fcntl.flock`` on ``cache_dir/mirrors/<key>.lock``, which serialises threads and processes.

Credentials are never stored by this module: they come from the worker's git configuration
and credential helper. A remote URL that carries userinfo is the caller's choice and ends up in
the mirror's git config as given, but every error message and log line goes through
:func:`redact`.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from ctworkflow import errors
from ctworkflow.domain.repository_tree import TreeEntry
from ctworkflow.effects import shell

__all__ = ["BranchExists", "Git", "GitError", "RemoteMoved", "TreeEntry", "redact"]

logger = logging.getLogger(__name__)

_SHA = re.compile(r"[0-9a-fA-F]{4,64}")
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s?#]*@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Branches, and tags: a build that reads its version from git (setuptools-scm, hatch-vcs)
#: finds the project's real version in a workspace only with its tags.
_FETCH_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_SUMMARY_CHARS = 300
#: Reusable workspaces per remote on a host (at most this many runs of one remote at once).
WORKSPACE_SLOTS = 64

#: Commits this process has seen in a mirror. Commits never change, so one ``cat-file`` per
#: (mirror, commit) and process is enough; the cache is trusted only while the mirror exists.
_KNOWN_COMMITS: set[tuple[Path, str]] = set()


class GitError(errors.StepFailed):
    """A git command failed."""


class BranchExists(GitError):
    """The branch already exists on the remote."""


class RemoteMoved(GitError):
    """The remote branch is not where the push expected it to be."""


def redact(url: str) -> str:
    """Return ``url`` without its credentials (userinfo becomes ``***``)."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = ""
    if "@" in netloc:
        url = url.replace(netloc, "***@" + netloc.rpartition("@")[2], 1)
    return _scrub(url)


def _scrub(text: str) -> str:
    """Replace the userinfo of every URL in ``text`` with ``***``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


class Git:
    """git for the workflow: cached mirrors, throwaway worktrees, guarded pushes."""

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

    def mirror(self, remote: str, *, need: str | None = None) -> Path:
        """Return the bare mirror of ``remote``, fetched unless it already has commit ``need``."""
        _check_remote(remote)
        if need is not None:
            _check_sha(need)
        key = _key(remote)
        path = self._mirrors / f"{key}.git"
        if need is not None and self._has_commit(path, need):
            return path
        with self._locked(key):
            if not path.exists():
                self._create_mirror(path, remote)
            if need is None or not self._has_commit(path, need):
                fetch = ["fetch", "--prune", "--no-tags", "--quiet", "origin", *_FETCH_REFSPECS]
                self._ok(fetch, cwd=path, what="git fetch", remote=remote)
        return path

    def remote_head(self, remote: str, branch: str) -> str | None:
        """Return the commit ``branch`` points to on ``remote``, or None if there is none."""
        _check_remote(remote)
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

    def commit_message(self, remote: str, commit: str) -> str:
        """Return the full message of ``commit``, fetching it into the mirror if needed."""
        path = self._mirror_with(remote, commit)
        raw = self._ok(["cat-file", "commit", commit], cwd=path, what="git cat-file", remote=remote)
        return raw.stdout.partition("\n\n")[2]

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
        flag, summary = _push_status(result.stdout, ref)
        if flag == "=" or (flag == "!" and "stale info" in summary):
            raise BranchExists(f"branch {branch} already exists on {redact(remote)}")
        if not result.ok:
            raise GitError(_failure(f"git push of new branch {branch}", result, remote))

    @contextmanager
    def worktree(self, remote: str, commit: str) -> Iterator[Path]:
        """Check ``commit`` out in a fresh detached worktree; remove it on exit."""
        path = self._mirror_with(remote, commit)
        key = _key(remote)
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

    def list_files(self, remote: str, commit: str) -> list[str]:
        """Every file path in ``commit`` of ``remote``, read from the mirror."""
        _check_sha(commit)
        path = self._mirror_with(remote, commit)
        listed = self._ok(
            ["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit],
            cwd=path,
            what="git ls-tree",
            remote=remote,
        )
        return sorted(name for name in listed.stdout.split("\0") if name)

    def tree_entries(self, remote: str, commit: str) -> list[TreeEntry]:
        """Every file of ``commit`` with its mode and size (submodules left out)."""
        _check_sha(commit)
        path = self._mirror_with(remote, commit)
        listed = self._ok(
            ["ls-tree", "-r", "-z", "-l", "--full-tree", commit],
            cwd=path,
            what="git ls-tree",
            remote=remote,
        )
        entries: list[TreeEntry] = []
        for record in listed.stdout.split("\0"):
            meta, tab, name = record.partition("\t")
            fields = meta.split()
            if not tab or len(fields) != 4 or fields[1] != "blob":
                continue  # a submodule (a commit), or the empty tail
            size = int(fields[3]) if fields[3].isdigit() else 0
            entries.append(TreeEntry(path=name, mode=fields[0], object=fields[2], size=size))
        return sorted(entries, key=lambda entry: entry.path)

    def read_blob(self, remote: str, commit: str, obj: str) -> str:
        """The content of blob ``obj`` (an entry of ``commit``), as text."""
        _check_sha(obj)
        path = self._mirror_with(remote, commit)
        shown = self._ok(["cat-file", "blob", obj], cwd=path, what="git cat-file", remote=remote)
        return shown.stdout

    def matching_lines(
        self, remote: str, commit: str, pattern: str, paths: Sequence[str]
    ) -> dict[str, list[str]]:
        """The lines of ``paths`` in ``commit`` that match the extended regex ``pattern``."""
        _check_sha(commit)
        if not paths:
            return {}
        path = self._mirror_with(remote, commit)
        grep = ["--literal-pathspecs", "grep", "-z", "-n", "-I", "-E", "-e", pattern, commit]
        result = self._git(
            [*grep, "--", *paths],
            cwd=path,
            what="git grep",
            remote=remote,
        )
        if result.returncode not in (0, 1):  # 1: nothing matched
            raise GitError(_failure("git grep", result, remote))
        found: dict[str, list[str]] = {}
        prefix = f"{commit}:"
        for line in result.stdout.splitlines():
            name, _, rest = line.partition("\0")
            _number, _, text = rest.partition("\0")
            found.setdefault(name.removeprefix(prefix), []).append(text)
        return found

    def renamed_paths(self, remote: str, old: str, new: str) -> dict[str, str]:
        """The files git sees as renamed from commit ``old`` to ``new``; {} if ``old`` is gone."""
        _check_sha(old)
        path = self._mirror_with(remote, new)
        if not self._has_commit(path, old):
            return {}
        diff = self._ok(
            ["diff", "--name-status", "-z", "-M", "--diff-filter=R", old, new],
            cwd=path,
            what="git diff",
            remote=remote,
        )
        fields = [field for field in diff.stdout.split("\0") if field]
        return {fields[i + 1]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}

    @contextmanager
    def workspace(self, remote: str, commit: str) -> Iterator[Path]:
        """A worktree at ``commit`` that the next run on this host reuses (a component run's).

        A free slot (``<key>-slot<n>``, held by an ``flock``) is switched to ``commit`` and
        cleaned of everything the last run left (``checkout --force`` + ``clean -ffdx``), which
        rewrites only what changed instead of checking the whole tree out again. A slot that
        cannot be reused is made anew; with every slot busy this is :meth:`worktree`.
        """
        path = self._mirror_with(remote, commit)
        key = _key(remote)
        self._worktrees.mkdir(parents=True, exist_ok=True)
        slot = self._take_slot(key)
        if slot is None:
            with self.worktree(remote, commit) as directory:
                yield directory
            return
        fd, directory = slot
        try:
            if not self._reuse(path, directory, commit):
                self._renew_slot(key, path, directory, commit)
            yield directory
        finally:
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

    def changed_paths(self, worktree: Path) -> list[str]:
        """Paths added, changed or deleted in a worktree since its commit (untracked too)."""
        result = self._ok(
            ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"],
            cwd=worktree,
            what="git status",
        )
        # Each entry is "XY path\0"; the path is taken as git wrote it, never interpreted.
        return sorted(entry[3:] for entry in result.stdout.split("\0") if len(entry) > 3)

    def commit_all(self, worktree: Path, paths: Sequence[str], message: str) -> str:
        """Stage ``paths`` and commit them with ``message``; return the new commit's sha."""
        if not paths:
            raise errors.InvalidInput("no paths to commit")
        if not message.strip():
            raise errors.InvalidInput("empty commit message")
        self._ok(["--literal-pathspecs", "add", "--", *paths], cwd=worktree, what="git add")
        staged = self._git(["diff", "--cached", "--quiet"], cwd=worktree, what="git diff")
        if staged.returncode == 0:
            raise GitError("nothing to commit")
        if staged.returncode != 1:
            raise GitError(_failure("git diff", staged, None))
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

    def commits_between(self, remote: str, head: str, base: str) -> list[tuple[str, str]]:
        """The commits reachable from ``head`` but not from ``base``, newest first, each with
        its full message: what moving a branch from ``head`` to ``base`` would drop."""
        _check_sha(head)
        _check_sha(base)
        path = self._mirror_with(remote, head)
        self._mirror_with(remote, base)
        listed = self._ok(
            ["log", "-z", "--format=%H%n%B", head, "--not", base, "--"],
            cwd=path,
            what="git log",
            remote=remote,
        )
        found: list[tuple[str, str]] = []
        for entry in listed.stdout.split("\0"):
            sha, _, message = entry.lstrip("\n").partition("\n")
            if sha:
                found.append((sha, message))
        return found

    def delete_branch(self, remote: str, branch: str, *, expected_head: str) -> None:
        """Delete ``branch`` on ``remote`` only if it still is at ``expected_head``.

        Raises:
            RemoteMoved: the branch is elsewhere (or gone); nothing was deleted.
        """
        _check_sha(expected_head)
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
        flag, summary = _push_status(result.stdout, ref)
        if flag == "!" and ("stale info" in summary or "remote ref does not exist" in summary):
            raise RemoteMoved(
                f"branch {branch} of {redact(remote)} is no longer at {expected_head}"
            )
        raise GitError(_failure(f"git push deleting {branch}", result, remote))

    def push(
        self, worktree: Path, remote: str, branch: str, commit: str, *, expected_head: str | None
    ) -> None:
        """Move ``branch`` on ``remote`` to ``commit`` only if it still is at ``expected_head``
        (None: only if the branch does not exist)."""
        _check_remote(remote)
        _check_sha(commit)
        if expected_head is not None:
            _check_sha(expected_head)
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
        flag, summary = _push_status(result.stdout, ref)
        if flag == "!" and "stale info" in summary:
            where = f"at {expected_head}" if expected_head else "absent"
            raise RemoteMoved(f"branch {branch} of {redact(remote)} is no longer {where}")
        raise GitError(_failure(f"git push to {branch}", result, remote))

    # -- helpers ---------------------------------------------------------------------------

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
            raise GitError(_failure(what, result, remote))
        return result

    def _create_mirror(self, path: Path, remote: str) -> None:
        """Initialise the bare mirror of ``remote`` next to ``path``, then move it in place."""
        staging = Path(tempfile.mkdtemp(prefix=f"{path.name}.", suffix=".new", dir=path.parent))
        try:
            steps = (
                ["init", "--bare", "--quiet"],
                ["remote", "add", "--", "origin", remote],
                # No remote-tracking refs: fetches name their refspec, pushes update nothing here.
                ["config", "--unset-all", "remote.origin.fetch"],
                ["config", "gc.autoDetach", "false"],
                ["config", "maintenance.autoDetach", "false"],
            )
            for step in steps:
                self._ok(step, cwd=staging, what=f"git {step[0]} of the mirror", remote=remote)
            staging.rename(path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _has_commit(self, mirror: Path, sha: str) -> bool:
        """Tell whether the mirror holds commit ``sha``."""
        if not (mirror / "HEAD").exists():
            _KNOWN_COMMITS.difference_update({k for k in _KNOWN_COMMITS if k[0] == mirror})
            return False
        if (mirror, sha) in _KNOWN_COMMITS:
            return True
        found = self._git(["cat-file", "-e", f"{sha}^{{commit}}"], cwd=mirror, what="git cat-file")
        if found.ok:
            _KNOWN_COMMITS.add((mirror, sha))
        return found.ok

    def _mirror_with(self, remote: str, commit: str) -> Path:
        """Return the mirror of ``remote`` once it holds ``commit``; GitError if it cannot."""
        path = self.mirror(remote, need=commit)
        if not self._has_commit(path, commit):
            raise GitError(f"commit {commit} not found in {redact(remote)}")
        return path

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


def _key(remote: str) -> str:
    """The cache key of a remote."""
    return hashlib.sha256(remote.encode()).hexdigest()[:16]


def _check_remote(remote: str) -> None:
    """Refuse remotes git could take for an option, and control characters."""
    if not remote or remote.startswith("-") or _CONTROL.search(remote):
        raise errors.InvalidInput(f"invalid git remote: {redact(remote)!r}")


def _check_sha(sha: str) -> None:
    """Refuse anything but a hexadecimal commit id."""
    if not _SHA.fullmatch(sha):
        raise errors.InvalidInput(f"not a commit id: {sha!r}")


def _push_status(porcelain: str, ref: str) -> tuple[str, str]:
    """The flag and summary ``git push --porcelain`` reported for ``ref`` ("" if none)."""
    for line in porcelain.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[1].endswith(f":{ref}"):
            return parts[0], parts[2]
    return "", ""


def _failure(what: str, result: shell.CommandResult, remote: str | None) -> str:
    """One line saying what failed, on which (redacted) remote, and git's own words."""
    lines = [line.strip() for line in (result.stderr or result.stdout).splitlines()]
    lines = [line for line in lines if line]
    errors_said = [line for line in lines if line.startswith(("fatal:", "error:"))]
    said = " / ".join(errors_said[:2] or lines[-2:]) or f"exit status {result.returncode}"
    if remote is not None:
        said = said.replace(remote, redact(remote))
    said = _scrub(said)[:_SUMMARY_CHARS]
    where = f" on {redact(remote)}" if remote is not None else ""
    return f"{what} failed{where}: {said}"
