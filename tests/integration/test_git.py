"""ctworkflow.effects.git against real git: a temporary bare repository plays the remote."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.effects import sandbox, shell
from ctworkflow.effects.git import Git, redact, snapshots
from ctworkflow.errors import BranchExists, GitError, RemoteMoved

pytestmark = pytest.mark.integration

_IDENTITY = ("-c", "user.name=Test Seeder", "-c", "user.email=seed@example.invalid")
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Remote:
    """The bare repository standing for the remote, its seed clone and its first commit."""

    url: str
    bare: Path
    seed: Path
    base: str


def _git(*args: str, cwd: Path) -> str:
    """Run a helper git command of the test itself and return its output."""
    done = subprocess.run(
        ["git", *_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


def _seed_commit(seed: Path, name: str, text: str) -> str:
    """Commit one file in the seed clone, push it to ``main`` and return the commit."""
    (seed / name).write_text(text)
    _git("add", "--", name, cwd=seed)
    _git("commit", "--quiet", "-m", f"add {name}", cwd=seed)
    _git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=seed)
    return _git("rev-parse", "HEAD", cwd=seed).strip()


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the system's nor the user's git configuration leaks into the tests."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    """A bare repository with one commit on ``main``."""
    bare = tmp_path / "remote.git"
    _git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path)
    seed = tmp_path / "seed"
    _git("clone", "--quiet", str(bare), str(seed), cwd=tmp_path)
    (seed / "src").mkdir()
    (seed / "src" / "module.py").write_text("VALUE = 1\n")
    _git("add", "--", "src/module.py", cwd=seed)
    base = _seed_commit(seed, "README.md", "hello\n")
    return Remote(url=str(bare), bare=bare, seed=seed, base=base)


@pytest.fixture
def git(tmp_path: Path) -> Git:
    """The object under test, with its own cache."""
    return Git(tmp_path / "cache", timeout_s=30)


def _mirror_path(tmp_path: Path, url: str) -> Path:
    return tmp_path / "cache" / "mirrors" / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.git"


def _no_pwned(root: Path) -> None:
    assert not any(path.name == "pwned" for path in root.rglob("*"))


def test_mirror_is_created_once_and_reused(git: Git, remote: Remote, tmp_path: Path) -> None:
    path = git.mirror(remote.url)
    assert path == _mirror_path(tmp_path, remote.url)
    assert _git("config", "remote.origin.url", cwd=path).strip() == remote.url
    assert _git("rev-parse", "refs/heads/main", cwd=path).strip() == remote.base
    fetched = (path / "FETCH_HEAD").stat().st_mtime_ns

    assert git.mirror(remote.url, need=remote.base) == path
    assert (path / "FETCH_HEAD").stat().st_mtime_ns == fetched
    assert sorted(p.name for p in path.parent.glob("*.git")) == [path.name]

    newer = _seed_commit(remote.seed, "more.txt", "more\n")
    assert git.mirror(remote.url, need=newer) == path
    assert (path / "FETCH_HEAD").stat().st_mtime_ns != fetched
    assert _git("rev-parse", "refs/heads/main", cwd=path).strip() == newer


def test_remote_head(git: Git, remote: Remote) -> None:
    assert git.remote_head(remote.url, "main") == remote.base
    assert git.remote_head(remote.url, "no-such-branch") is None


def test_create_branch_refuses_an_existing_branch(git: Git, remote: Remote) -> None:
    git.create_branch(remote.url, "ctw/one", remote.base)
    assert git.remote_head(remote.url, "ctw/one") == remote.base
    with pytest.raises(BranchExists, match="ctw/one"):
        git.create_branch(remote.url, "ctw/one", remote.base)
    newer = _seed_commit(remote.seed, "more.txt", "more\n")
    with pytest.raises(BranchExists):
        git.create_branch(remote.url, "ctw/one", newer)
    assert git.remote_head(remote.url, "ctw/one") == remote.base


def test_worktree_has_the_files_and_is_removed(git: Git, remote: Remote) -> None:
    with git.worktree(remote.url, remote.base) as worktree:
        assert (worktree / "README.md").read_text() == "hello\n"
        assert (worktree / "src" / "module.py").read_text() == "VALUE = 1\n"
        assert _git("rev-parse", "HEAD", cwd=worktree).strip() == remote.base
        assert _git("status", "--porcelain", cwd=worktree) == ""
    assert not worktree.exists()
    mirror = git.mirror(remote.url, need=remote.base)
    assert _git("worktree", "list", "--porcelain", cwd=mirror).count("worktree ") == 1


def test_worktree_is_removed_after_an_error_or_when_already_gone(git: Git, remote: Remote) -> None:
    with pytest.raises(RuntimeError), git.worktree(remote.url, remote.base) as worktree:
        (worktree / "untracked.txt").write_text("x")
        raise RuntimeError("boom")
    assert not worktree.exists()
    with git.worktree(remote.url, remote.base) as worktree:
        subprocess.run(["rm", "-rf", "--", str(worktree)], check=True)
    mirror = git.mirror(remote.url, need=remote.base)
    assert _git("worktree", "list", "--porcelain", cwd=mirror).count("worktree ") == 1


def test_commit_all_and_push_land_one_commit(git: Git, remote: Remote) -> None:
    git.create_branch(remote.url, "ctw/tests", remote.base)
    with git.worktree(remote.url, remote.base) as worktree:
        (worktree / "tests").mkdir()
        (worktree / "tests" / "test_module.py").write_text("def test_x() -> None: ...\n")
        (worktree / "not-staged.txt").write_text("left out\n")
        commit = git.commit_all(worktree, ["tests/test_module.py"], "Add module tests\n")
        git.push(worktree, remote.url, "ctw/tests", commit, expected_head=remote.base)

    assert git.remote_head(remote.url, "ctw/tests") == commit
    assert _git("rev-list", "--count", f"{remote.base}..ctw/tests", cwd=remote.bare).strip() == "1"
    assert _git("rev-parse", f"{commit}^", cwd=remote.bare).strip() == remote.base
    files = _git("show", "--name-only", "--format=", commit, cwd=remote.bare).split()
    assert files == ["tests/test_module.py"]
    author = _git("log", "-1", "--format=%an <%ae>", commit, cwd=remote.bare).strip()
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

    logged = _git("log", "-1", "--format=%B", "ctw/hostile", cwd=remote.bare)
    assert logged == _HOSTILE_MESSAGE + "\n"
    assert git.commit_message(remote.url, commit) == _HOSTILE_MESSAGE
    assert _git("show", "--name-only", "--format=", commit, cwd=remote.bare).strip() == odd_name
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


def test_workspace_is_reused_clean_and_at_the_asked_commit(git: Git, remote: Remote) -> None:
    with git.workspace(remote.url, remote.base) as first:
        assert (first / "README.md").read_text() == "hello\n"
        (first / "README.md").write_text("changed by a run\n")
        (first / "src" / "module.py").unlink()
        (first / "tests").mkdir()
        (first / "tests" / "test_left.py").write_text("left behind\n")
        (first / "ignored.pyc").write_text("")
        _git("add", "--", "tests/test_left.py", cwd=first)
    newer = _seed_commit(remote.seed, "more.txt", "more\n")

    with git.workspace(remote.url, newer) as second:
        assert second == first  # the same slot, not a new checkout
        assert (second / "README.md").read_text() == "hello\n"
        assert (second / "src" / "module.py").read_text() == "VALUE = 1\n"
        assert (second / "more.txt").read_text() == "more\n"
        assert not (second / "tests").exists()
        assert not (second / "ignored.pyc").exists()
        assert git.changed_paths(second) == []
        assert _git("rev-parse", "HEAD", cwd=second).strip() == newer


def test_workspaces_in_use_at_once_are_distinct(git: Git, remote: Remote) -> None:
    with (
        git.workspace(remote.url, remote.base) as one,
        git.workspace(remote.url, remote.base) as two,
    ):
        assert one != two
        assert (one / "README.md").is_file() and (two / "README.md").is_file()


def test_a_broken_workspace_is_made_anew(git: Git, remote: Remote) -> None:
    with git.workspace(remote.url, remote.base) as first:
        (first / ".git").write_text("gitdir: /nonexistent\n")  # a run broke its link
    with git.workspace(remote.url, remote.base) as second:
        assert second == first
        assert (second / "README.md").read_text() == "hello\n"
        assert git.changed_paths(second) == []


def test_a_workspace_pointed_at_another_repository_is_rebuilt_and_that_one_untouched(
    git: Git, remote: Remote, tmp_path: Path
) -> None:
    other = tmp_path / "other"  # a clone of the same remote, with work of its own on top
    _git("clone", "--quiet", remote.url, str(other), cwd=tmp_path)
    (other / "theirs.txt").write_text("theirs\n")
    _git("add", "--", "theirs.txt", cwd=other)
    _git("commit", "--quiet", "-m", "theirs", cwd=other)
    their_head = _git("rev-parse", "HEAD", cwd=other)
    with git.workspace(remote.url, remote.base) as first:
        (first / ".git").write_text(f"gitdir: {other / '.git'}\n")  # a run re-pointed it

    with git.workspace(remote.url, remote.base) as second:
        assert second == first
        assert _git("rev-parse", "HEAD", cwd=second).strip() == remote.base
        assert (second / "README.md").read_text() == "hello\n"
    assert _git("rev-parse", "HEAD", cwd=other) == their_head
    assert _git("status", "--porcelain", cwd=other) == ""
    assert (other / "theirs.txt").read_text() == "theirs\n"


def _resets(caplog: pytest.LogCaptureFixture) -> int:
    """How many workspace resets undid a run's changes (rather than a whole clean)."""
    return sum(getattr(record, "action", None) == "reset_workspace" for record in caplog.records)


def _status_paths(worktree: Path) -> list[str]:
    """What a whole-tree ``git status`` lists, as the change check did before the snapshots."""
    listing = _git(
        "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", cwd=worktree
    )
    return sorted(entry[3:] for entry in listing.split("\0") if len(entry) > 3)


def test_a_kept_workspace_is_reset_by_undoing_exactly_what_the_run_changed(
    git: Git, remote: Remote, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctworkflow.effects.git")
    base = _seed_commit(remote.seed, ".gitignore", "build/\n*.pyc\n")
    with git.workspace(remote.url, base) as first:
        # A run: a new test file, a changed and a deleted tracked file, ignored build output.
        (first / "tests").mkdir()
        (first / "tests" / "test_new.py").write_text("def test_x() -> None: ...\n")
        (first / "README.md").write_text("changed by a run\n")
        (first / "src" / "module.py").unlink()
        (first / "build" / "lib").mkdir(parents=True)
        (first / "build" / "lib" / "out.so").write_text("binary\n")
        (first / "src" / "module.pyc").write_text("cache\n")
        expected = ["README.md", "src/module.py", "tests/test_new.py"]
        assert _status_paths(first) == expected
        assert git.changed_paths(first) == expected
    assert _resets(caplog) == 0

    with git.workspace(remote.url, base) as second:
        assert second == first
        assert _resets(caplog) == 1  # undone in place, not checked out and cleaned whole
        assert (second / "README.md").read_text() == "hello\n"
        assert (second / "src" / "module.py").read_text() == "VALUE = 1\n"
        assert not (second / "tests").exists()
        assert not (second / "build").exists()
        assert not (second / "src" / "module.pyc").exists()
        ignored = ["status", "--porcelain", "--untracked-files=all", "--ignored"]
        assert _git(*ignored, cwd=second) == ""
        assert git.changed_paths(second) == []
        (second / "src" / "another.py").write_text("NEW = 2\n")
        assert git.changed_paths(second) == ["src/another.py"]


def test_the_change_check_sees_a_file_whose_folder_times_were_set_back(
    git: Git, remote: Remote
) -> None:
    with git.workspace(remote.url, remote.base) as workspace:
        before = (workspace / "src").stat()
        (workspace / "src" / "sneaky.py").write_text("x = 1\n")
        os.utime(workspace / "src", ns=(before.st_atime_ns, before.st_mtime_ns))
        assert git.changed_paths(workspace) == ["src/sneaky.py"]


@pytest.mark.parametrize("damage", ["staged", "link", "state"])
def test_a_workspace_its_reset_cannot_prove_clean_is_cleaned_whole(
    git: Git, remote: Remote, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctworkflow.effects.git")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep\n")
    with git.workspace(remote.url, remote.base) as first:
        (first / "left.txt").write_text("left\n")
        if damage == "staged":  # the run changed the index itself
            _git("add", "--", "left.txt", cwd=first)
        elif damage == "link":  # a tracked folder replaced by a link out of the workspace
            (first / "src" / "module.py").unlink()
            (first / "src").rmdir()
            (first / "src").symlink_to(outside, target_is_directory=True)
        else:  # the slot's record is unreadable
            (first.parent / f"{first.name}.state").write_text("{not json")

    with git.workspace(remote.url, remote.base) as second:
        assert second == first
        assert _resets(caplog) == 0
        assert (second / "src").is_dir() and not (second / "src").is_symlink()
        assert (second / "src" / "module.py").read_text() == "VALUE = 1\n"
        assert not (second / "left.txt").exists()
        assert git.changed_paths(second) == []
        assert _git("status", "--porcelain", "--untracked-files=all", "--ignored", cwd=second) == ""
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert (outside / "keep.txt").read_text() == "keep\n"

    with git.workspace(remote.url, remote.base) as third:  # proven clean again: reset next time
        assert third == first
        assert _resets(caplog) == 1


def _kept_check(workspace: Path) -> tuple[str, ...] | None:
    """The tracked changes a slot's snapshot keeps from its last run's final change check."""
    snapshot = snapshots.load(workspace)
    assert snapshot is not None
    return snapshot.tracked


def _clean(workspace: Path) -> bool:
    """Tell whether git, ignored files included, finds nothing in a workspace."""
    listing = ["status", "--porcelain", "--untracked-files=all", "--ignored"]
    return _git(*listing, cwd=workspace) == ""


def test_a_runs_final_change_check_is_what_the_next_reset_undoes(
    git: Git, remote: Remote, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctworkflow.effects.git")
    base = _seed_commit(remote.seed, ".gitignore", "*.pyc\n")
    with git.workspace(remote.url, base) as first:
        (first / "README.md").write_text("changed by a run\n")
        (first / "src" / "module.py").unlink()
        (first / "src" / "module.pyc").write_text("cache\n")
        (first / "tests").mkdir()
        (first / "tests" / "test_new.py").write_text("def test_x() -> None: ...\n")
        assert git.changed_paths(first) == ["README.md", "src/module.py", "tests/test_new.py"]
    # Nothing ran after the check: its findings stand for git's next look.
    assert _kept_check(first) == (" M README.md", " D src/module.py")

    with git.workspace(remote.url, base) as second:
        assert second == first
        assert _resets(caplog) == 1
        assert (second / "README.md").read_text() == "hello\n"
        assert (second / "src" / "module.py").read_text() == "VALUE = 1\n"
        assert not (second / "src" / "module.pyc").exists()
        assert not (second / "tests").exists()
        assert _clean(second)
        assert _kept_check(second) is None  # this run's own check has not been made yet
        assert git.changed_paths(second) == []
    assert _kept_check(first) == ()


def test_a_program_run_after_the_change_check_makes_the_reset_ask_git(
    git: Git, remote: Remote
) -> None:
    with git.workspace(remote.url, remote.base) as first:
        (first / "tests").mkdir()
        (first / "tests" / "test_new.py").write_text("def test_x() -> None: ...\n")
        assert git.changed_paths(first) == ["tests/test_new.py"]
        # A program of the run, after the check, rewrites a tracked file in place.
        rewrite = ["sh", "-c", "printf 'rewritten\\n' > README.md"]
        done = shell.run(rewrite, cwd=first, timeout_s=30, policy=sandbox.for_tests(first))
        assert done.ok, done.stderr
    assert _kept_check(first) is None

    with git.workspace(remote.url, remote.base) as second:
        assert second == first
        assert (second / "README.md").read_text() == "hello\n"
        assert not (second / "tests").exists()
        assert _clean(second)


@pytest.mark.parametrize("after_check", ["staged", "committed"])
def test_a_workspace_whose_index_or_commit_moved_after_the_check_is_cleaned_whole(
    git: Git, remote: Remote, caplog: pytest.LogCaptureFixture, after_check: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctworkflow.effects.git")
    with git.workspace(remote.url, remote.base) as first:
        (first / "left.txt").write_text("left\n")
        assert git.changed_paths(first) == ["left.txt"]
        if after_check == "staged":
            _git("add", "--", "left.txt", cwd=first)
        else:
            git.commit_all(first, ["left.txt"], "a run's commit\n")
    assert _kept_check(first) is None

    with git.workspace(remote.url, remote.base) as second:
        assert second == first
        assert _resets(caplog) == 0
        assert not (second / "left.txt").exists()
        assert _git("rev-parse", "HEAD", cwd=second).strip() == remote.base
        assert _clean(second)
