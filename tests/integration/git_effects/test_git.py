"""ctworkflow.effects.git against real git: a temporary bare repository plays the remote."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import threading
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.effects.git import Git, redact
from ctworkflow.errors import BranchExists, GitError, RemoteMoved
from tests.git_support import Remote, run_git, seed_commit

pytestmark = pytest.mark.integration

_HOSTILE_MESSAGE = (
    "Add tests for $(touch pwned)\n"
    "\n"
    "; rm -rf x\n"
    "'single' \"double\" `touch pwned` && touch pwned | cat\n"
    "EOF\n"
    "trailing   \n"
    "# not a comment\n"
)
_UNREACHABLE = ("/nonexistent/repo.git", "https://user:s3cret@127.0.0.1:9/x.git")


def _mirror_path(tmp_path: Path, url: str) -> Path:
    return tmp_path / "cache" / "mirrors" / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.git"


def _no_pwned(root: Path) -> None:
    assert not any(path.name == "pwned" for path in root.rglob("*"))


def test_mirror_is_created_once_and_reused(git: Git, remote: Remote, tmp_path: Path) -> None:
    path = git.mirror(remote.url)
    assert path == _mirror_path(tmp_path, remote.url)
    assert run_git("config", "remote.origin.url", cwd=path).strip() == remote.url
    assert run_git("rev-parse", "refs/heads/main", cwd=path).strip() == remote.base
    fetched = (path / "FETCH_HEAD").stat().st_mtime_ns

    assert git.mirror(remote.url, need=remote.base) == path
    assert (path / "FETCH_HEAD").stat().st_mtime_ns == fetched
    assert sorted(p.name for p in path.parent.glob("*.git")) == [path.name]

    newer = seed_commit(remote.seed, "more.txt", "more\n")
    assert git.mirror(remote.url, need=newer) == path
    assert (path / "FETCH_HEAD").stat().st_mtime_ns != fetched
    assert run_git("rev-parse", "refs/heads/main", cwd=path).strip() == newer


def test_remote_head(git: Git, remote: Remote) -> None:
    assert git.remote_head(remote.url, "main") == remote.base
    assert git.remote_head(remote.url, "no-such-branch") is None


def test_create_branch_refuses_an_existing_branch(git: Git, remote: Remote) -> None:
    git.create_branch(remote.url, "ctw/one", remote.base)
    assert git.remote_head(remote.url, "ctw/one") == remote.base
    with pytest.raises(BranchExists, match="ctw/one"):
        git.create_branch(remote.url, "ctw/one", remote.base)
    newer = seed_commit(remote.seed, "more.txt", "more\n")
    with pytest.raises(BranchExists):
        git.create_branch(remote.url, "ctw/one", newer)
    assert git.remote_head(remote.url, "ctw/one") == remote.base


def test_worktree_has_the_files_and_is_removed(git: Git, remote: Remote) -> None:
    with git.worktree(remote.url, remote.base) as worktree:
        assert (worktree / "README.md").read_text() == "hello\n"
        assert (worktree / "src" / "module.py").read_text() == "VALUE = 1\n"
        assert run_git("rev-parse", "HEAD", cwd=worktree).strip() == remote.base
        assert run_git("status", "--porcelain", cwd=worktree) == ""
    assert not worktree.exists()
    mirror = git.mirror(remote.url, need=remote.base)
    assert run_git("worktree", "list", "--porcelain", cwd=mirror).count("worktree ") == 1


def test_worktree_is_removed_after_an_error_or_when_already_gone(git: Git, remote: Remote) -> None:
    with pytest.raises(RuntimeError), git.worktree(remote.url, remote.base) as worktree:
        (worktree / "untracked.txt").write_text("x")
        raise RuntimeError("boom")
    assert not worktree.exists()
    with git.worktree(remote.url, remote.base) as worktree:
        subprocess.run(["rm", "-rf", "--", str(worktree)], check=True)
    mirror = git.mirror(remote.url, need=remote.base)
    assert run_git("worktree", "list", "--porcelain", cwd=mirror).count("worktree ") == 1


def test_commit_all_and_push_land_one_commit(git: Git, remote: Remote) -> None:
    git.create_branch(remote.url, "ctw/tests", remote.base)
    with git.worktree(remote.url, remote.base) as worktree:
        (worktree / "tests").mkdir()
        (worktree / "tests" / "test_module.py").write_text("def test_x() -> None: ...\n")
        (worktree / "not-staged.txt").write_text("left out\n")
        commit = git.commit_all(worktree, ["tests/test_module.py"], "Add module tests\n")
        git.push(worktree, remote.url, "ctw/tests", commit, expected_head=remote.base)

    assert git.remote_head(remote.url, "ctw/tests") == commit
    assert (
        run_git("rev-list", "--count", f"{remote.base}..ctw/tests", cwd=remote.bare).strip() == "1"
    )
    assert run_git("rev-parse", f"{commit}^", cwd=remote.bare).strip() == remote.base
    files = run_git("show", "--name-only", "--format=", commit, cwd=remote.bare).split()
    assert files == ["tests/test_module.py"]
    author = run_git("log", "-1", "--format=%an <%ae>", commit, cwd=remote.bare).strip()
    assert author == "ctworkflow <ctworkflow@localhost>"
    assert git.commit_message(remote.url, commit) == "Add module tests\n"

    with git.worktree(remote.url, remote.base) as worktree:
        (worktree / "README.md").write_text("changed\n")
        stale = git.commit_all(worktree, ["README.md"], "Racing change\n")
        with pytest.raises(RemoteMoved, match="ctw/tests"):
            git.push(worktree, remote.url, "ctw/tests", stale, expected_head=remote.base)
    assert git.remote_head(remote.url, "ctw/tests") == commit


def test_nothing_to_commit_is_permanent(git: Git, remote: Remote) -> None:
    refused = pytest.raises(errors.StepFailed)
    with git.worktree(remote.url, remote.base) as worktree, refused as caught:
        git.commit_all(worktree, ["README.md"], "No change\n")
    assert str(caught.value) == "nothing to commit"
    assert not errors.is_transient(caught.value)


def test_hostile_message_and_paths_are_taken_literally(
    git: Git, remote: Remote, tmp_path: Path
) -> None:
    git.create_branch(remote.url, "ctw/hostile", remote.base)
    odd_name = "--odd $(touch pwned); name.txt"
    with git.worktree(remote.url, remote.base) as worktree:
        (worktree / odd_name).write_text("x\n")
        commit = git.commit_all(worktree, [odd_name], _HOSTILE_MESSAGE)
        git.push(worktree, remote.url, "ctw/hostile", commit, expected_head=remote.base)
        _no_pwned(worktree)

    logged = run_git("log", "-1", "--format=%B", "ctw/hostile", cwd=remote.bare)
    assert logged == _HOSTILE_MESSAGE + "\n"
    assert git.commit_message(remote.url, commit) == _HOSTILE_MESSAGE
    assert run_git("show", "--name-only", "--format=", commit, cwd=remote.bare).strip() == odd_name
    _no_pwned(tmp_path)


@pytest.mark.parametrize("url", _UNREACHABLE, ids=["missing-path", "refused-with-secret"])
def test_an_unreachable_remote_is_named_redacted(
    git: Git, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctworkflow")
    for attempt in (
        lambda: git.remote_head(url, "main"),
        lambda: git.mirror(url),
        lambda: git.create_branch(url, "ctw/x", "0" * 40),
    ):
        with pytest.raises(GitError) as caught:
            attempt()
        message = str(caught.value)
        assert redact(url) in message
        assert "s3cret" not in message
        assert "\n" not in message
    assert "s3cret" not in caplog.text


def test_a_timeout_raises_command_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "git"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    slow = Git(tmp_path / "cache", timeout_s=0.3)
    with pytest.raises(errors.CommandTimeout) as caught:
        slow.mirror("https://user:s3cret@example.invalid/x.git")
    assert "https://***@example.invalid/x.git" in str(caught.value)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        ("remote", "--upload-pack=touch pwned"),
        ("remote", "/tmp/x\nfetch = evil"),
        ("branch", "-x"),
        ("branch", "a..b"),
        ("branch", "has space"),
        ("commit", "HEAD"),
        ("commit", "--all"),
    ],
)
def test_hostile_arguments_are_refused(
    git: Git, remote: Remote, tmp_path: Path, call: str, bad: str
) -> None:
    args = {"remote": remote.url, "branch": "ctw/ok", "commit": remote.base, call: bad}
    with pytest.raises(errors.InvalidInput):
        git.create_branch(args["remote"], args["branch"], args["commit"])
    _no_pwned(tmp_path)


def test_concurrent_mirror_and_worktree(git: Git, remote: Remote) -> None:
    barrier = threading.Barrier(2)
    seen: list[str] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            git.mirror(remote.url)
            with git.worktree(remote.url, remote.base) as worktree:
                seen.append((worktree / "README.md").read_text())
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert seen == ["hello\n", "hello\n"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:tok@host/x.git", "https://***@host/x.git"),
        ("https://tok@host:8443/x.git", "https://***@host:8443/x.git"),
        ("https://u:p@ss@host/x.git", "https://***@host/x.git"),
        ("ssh://git@host/x.git", "ssh://***@host/x.git"),
        ("https://host/x.git", "https://host/x.git"),
        ("git@host:x.git", "git@host:x.git"),
        ("/srv/git/x.git", "/srv/git/x.git"),
        ("file:///srv/git/x.git", "file:///srv/git/x.git"),
    ],
)
def test_redact(url: str, expected: str) -> None:
    assert redact(url) == expected
