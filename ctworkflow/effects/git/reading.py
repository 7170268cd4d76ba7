"""Reading commits from the mirror, nothing checked out: files, blobs, matches, renames, logs."""

from __future__ import annotations

from collections.abc import Sequence

from ctworkflow import errors
from ctworkflow.domain.repository.repository_tree import TreeEntry
from ctworkflow.effects.git.base import check_sha, failure
from ctworkflow.effects.git.mirrors import Mirrors


class Reading(Mirrors):
    """What a commit of a remote holds."""

    def commit_message(self, remote: str, commit: str) -> str:
        """Return the full message of ``commit``, fetching it into the mirror if needed."""
        path = self._mirror_with(remote, commit)
        raw = self._ok(["cat-file", "commit", commit], cwd=path, what="git cat-file", remote=remote)
        return raw.stdout.partition("\n\n")[2]

    def list_files(self, remote: str, commit: str) -> list[str]:
        """Every file path in ``commit`` of ``remote``, read from the mirror."""
        check_sha(commit)
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
        check_sha(commit)
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

    def blob_ids(self, remote: str, commit: str, paths: Sequence[str]) -> dict[str, str]:
        """The blob id of each of ``paths`` that is a file of ``commit`` (one ``ls-tree`` of
        just those paths: its cost follows them, not the repository)."""
        check_sha(commit)
        if not paths:
            return {}
        path = self._mirror_with(remote, commit)
        listed = self._ok(
            ["ls-tree", "-z", "--full-tree", commit, "--", *paths],
            cwd=path,
            what="git ls-tree",
            remote=remote,
        )
        found: dict[str, str] = {}
        for record in listed.stdout.split("\0"):
            meta, tab, name = record.partition("\t")
            fields = meta.split()
            if tab and len(fields) == 3 and fields[1] == "blob":
                found[name] = fields[2]
        return found

    def read_blob(self, remote: str, commit: str, obj: str) -> str:
        """The content of blob ``obj`` (an entry of ``commit``), as text."""
        check_sha(obj)
        path = self._mirror_with(remote, commit)
        shown = self._ok(["cat-file", "blob", obj], cwd=path, what="git cat-file", remote=remote)
        return shown.stdout

    def matching_lines(
        self, remote: str, commit: str, pattern: str, paths: Sequence[str]
    ) -> dict[str, list[str]]:
        """The lines of ``paths`` in ``commit`` that match the extended regex ``pattern``."""
        check_sha(commit)
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
            raise errors.GitError(failure("git grep", result, remote))
        found: dict[str, list[str]] = {}
        prefix = f"{commit}:"
        for line in result.stdout.splitlines():
            name, _, rest = line.partition("\0")
            _number, _, text = rest.partition("\0")
            found.setdefault(name.removeprefix(prefix), []).append(text)
        return found

    def renamed_paths(self, remote: str, old: str, new: str) -> dict[str, str]:
        """The files git sees as renamed from commit ``old`` to ``new``; {} if ``old`` is gone."""
        check_sha(old)
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

    def commits_between(self, remote: str, head: str, base: str) -> list[tuple[str, str]]:
        """The commits reachable from ``head`` but not from ``base``, newest first, each with
        its full message: what moving a branch from ``head`` to ``base`` would drop."""
        check_sha(head)
        check_sha(base)
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
