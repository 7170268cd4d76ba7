"""One bare mirror per remote, in ``cache_dir/mirrors/<sha256(remote)[:16]>.git``, fetched only
when it lacks a commit asked for; every change to it holds the mirror's lock."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ctworkflow import errors
from ctworkflow.effects.git.base import GitBase, check_remote, check_sha, mirror_key
from ctworkflow.effects.git.redaction import redact

#: Branches, and tags: a build that reads its version from git (setuptools-scm, hatch-vcs)
#: finds the project's real version in a workspace only with its tags.
_FETCH_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")

#: Commits this process has seen in a mirror. Commits never change, so one ``cat-file`` per
#: (mirror, commit) and process is enough; the cache is trusted only while the mirror exists.
_KNOWN_COMMITS: set[tuple[Path, str]] = set()


class Mirrors(GitBase):
    """The mirrors of the remotes this host works on."""

    def mirror(self, remote: str, *, need: str | None = None) -> Path:
        """Return the bare mirror of ``remote``, fetched unless it already has commit ``need``."""
        check_remote(remote)
        if need is not None:
            check_sha(need)
        key = mirror_key(remote)
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
            raise errors.GitError(f"commit {commit} not found in {redact(remote)}")
        return path
