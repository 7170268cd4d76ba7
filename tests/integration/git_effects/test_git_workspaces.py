"""Workspace slots against real git: reused at a commit, reset by undoing exactly what the last
run changed (its snapshot, and its final change check when no program ran after it), and
cleaned whole or rebuilt whenever that cannot be proven."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from ctworkflow.effects import sandbox, shell
from ctworkflow.effects.git import Git, snapshots
from tests.git_support import Remote, run_git, seed_commit

pytestmark = pytest.mark.integration


def test_workspace_is_reused_clean_and_at_the_asked_commit(git: Git, remote: Remote) -> None:
    with git.workspace(remote.url, remote.base) as first:
        assert (first / "README.md").read_text() == "hello\n"
        (first / "README.md").write_text("changed by a run\n")
        (first / "src" / "module.py").unlink()
        (first / "tests").mkdir()
        (first / "tests" / "test_left.py").write_text("left behind\n")
        (first / "ignored.pyc").write_text("")
        run_git("add", "--", "tests/test_left.py", cwd=first)
    newer = seed_commit(remote.seed, "more.txt", "more\n")

    with git.workspace(remote.url, newer) as second:
        assert second == first  # the same slot, not a new checkout
        assert (second / "README.md").read_text() == "hello\n"
        assert (second / "src" / "module.py").read_text() == "VALUE = 1\n"
        assert (second / "more.txt").read_text() == "more\n"
        assert not (second / "tests").exists()
        assert not (second / "ignored.pyc").exists()
        assert git.changed_paths(second) == []
        assert run_git("rev-parse", "HEAD", cwd=second).strip() == newer


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
    run_git("clone", "--quiet", remote.url, str(other), cwd=tmp_path)
    (other / "theirs.txt").write_text("theirs\n")
    run_git("add", "--", "theirs.txt", cwd=other)
    run_git("commit", "--quiet", "-m", "theirs", cwd=other)
    their_head = run_git("rev-parse", "HEAD", cwd=other)
    with git.workspace(remote.url, remote.base) as first:
        (first / ".git").write_text(f"gitdir: {other / '.git'}\n")  # a run re-pointed it

    with git.workspace(remote.url, remote.base) as second:
        assert second == first
        assert run_git("rev-parse", "HEAD", cwd=second).strip() == remote.base
        assert (second / "README.md").read_text() == "hello\n"
    assert run_git("rev-parse", "HEAD", cwd=other) == their_head
    assert run_git("status", "--porcelain", cwd=other) == ""
    assert (other / "theirs.txt").read_text() == "theirs\n"


def _resets(caplog: pytest.LogCaptureFixture) -> int:
    """How many workspace resets undid a run's changes (rather than a whole clean)."""
    return sum(getattr(record, "action", None) == "reset_workspace" for record in caplog.records)


def _status_paths(worktree: Path) -> list[str]:
    """What a whole-tree ``git status`` lists, as the change check did before the snapshots."""
    listing = run_git(
        "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", cwd=worktree
    )
    return sorted(entry[3:] for entry in listing.split("\0") if len(entry) > 3)


def test_a_kept_workspace_is_reset_by_undoing_exactly_what_the_run_changed(
    git: Git, remote: Remote, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctworkflow.effects.git")
    base = seed_commit(remote.seed, ".gitignore", "build/\n*.pyc\n")
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
        assert run_git(*ignored, cwd=second) == ""
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
            run_git("add", "--", "left.txt", cwd=first)
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
        assert (
            run_git("status", "--porcelain", "--untracked-files=all", "--ignored", cwd=second) == ""
        )
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
    return run_git(*listing, cwd=workspace) == ""


def test_a_runs_final_change_check_is_what_the_next_reset_undoes(
    git: Git, remote: Remote, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctworkflow.effects.git")
    base = seed_commit(remote.seed, ".gitignore", "*.pyc\n")
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
            run_git("add", "--", "left.txt", cwd=first)
        else:
            git.commit_all(first, ["left.txt"], "a run's commit\n")
    assert _kept_check(first) is None

    with git.workspace(remote.url, remote.base) as second:
        assert second == first
        assert _resets(caplog) == 0
        assert not (second / "left.txt").exists()
        assert run_git("rev-parse", "HEAD", cwd=second).strip() == remote.base
        assert _clean(second)
