"""Workspace files read and written without following links: a real file system, no mocks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.effects import nofollow

LIMIT = 1024


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "tests").mkdir(parents=True)
    return root


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    path = tmp_path / "outside.txt"
    path.write_text("original")
    return path


def test_a_file_is_written_with_its_folders_and_read_back(workspace: Path) -> None:
    nofollow.write_text(workspace, "tests/deep/er/test_x.py", "print('é')\n", max_bytes=LIMIT)

    assert (workspace / "tests/deep/er/test_x.py").read_text() == "print('é')\n"
    assert nofollow.read_text(workspace, "tests/deep/er/test_x.py", max_bytes=LIMIT) == (
        "print('é')\n"
    )
    assert nofollow.check(workspace, "tests/deep/er/test_x.py", max_bytes=LIMIT) == 12


def test_an_existing_file_is_replaced_whole(workspace: Path) -> None:
    (workspace / "tests/test_x.py").write_text("a much longer old content\n")

    nofollow.write_text(workspace, "tests/test_x.py", "new\n", max_bytes=LIMIT)

    assert (workspace / "tests/test_x.py").read_text() == "new\n"


def test_a_missing_file_is_none_to_check_and_not_found_to_read(workspace: Path) -> None:
    assert nofollow.check(workspace, "tests/test_x.py", max_bytes=LIMIT) is None
    assert nofollow.check(workspace, "nowhere/test_x.py", max_bytes=LIMIT) is None
    with pytest.raises(FileNotFoundError):
        nofollow.read_text(workspace, "tests/test_x.py", max_bytes=LIMIT)


def test_a_link_at_the_file_is_refused_and_its_target_untouched(
    workspace: Path, canary: Path
) -> None:
    (workspace / "tests/test_x.py").symlink_to(canary)
    said = "test file tests/test_x.py is a symbolic link; refused"

    for attempt in (
        lambda: nofollow.write_text(workspace, "tests/test_x.py", "pwned", max_bytes=LIMIT),
        lambda: nofollow.read_text(workspace, "tests/test_x.py", max_bytes=LIMIT),
        lambda: nofollow.check(workspace, "tests/test_x.py", max_bytes=LIMIT),
    ):
        with pytest.raises(errors.UnsafeFile) as raised:
            attempt()
        assert str(raised.value) == said
    assert canary.read_text() == "original"


def test_a_link_to_a_folder_on_the_path_is_refused(workspace: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workspace / "tests" / "pkg").symlink_to(elsewhere, target_is_directory=True)

    with pytest.raises(errors.UnsafeFile) as raised:
        nofollow.write_text(workspace, "tests/pkg/test_x.py", "pwned", max_bytes=LIMIT)

    assert str(raised.value) == (
        "test file tests/pkg/test_x.py (pkg on its path) is a symbolic link; refused"
    )
    assert list(elsewhere.iterdir()) == []


def test_a_named_pipe_is_refused_without_blocking(workspace: Path) -> None:
    os.mkfifo(workspace / "tests/test_x.py")

    with pytest.raises(errors.UnsafeFile, match="named pipe"):
        nofollow.read_text(workspace, "tests/test_x.py", max_bytes=LIMIT)
    with pytest.raises(errors.UnsafeFile, match="named pipe"):
        nofollow.write_text(workspace, "tests/test_x.py", "x", max_bytes=LIMIT)


def test_a_folder_where_the_file_goes_is_refused(workspace: Path) -> None:
    (workspace / "tests/test_x.py").mkdir()

    with pytest.raises(errors.UnsafeFile, match="a folder, not a file"):
        nofollow.check(workspace, "tests/test_x.py", max_bytes=LIMIT)
    with pytest.raises(errors.UnsafeFile, match="a folder, not a file"):
        nofollow.write_text(workspace, "tests/test_x.py", "x", max_bytes=LIMIT)


def test_a_file_with_another_hard_link_is_refused_and_not_truncated(
    workspace: Path, canary: Path
) -> None:
    os.link(canary, workspace / "tests/test_x.py")

    with pytest.raises(errors.UnsafeFile, match="other hard links"):
        nofollow.write_text(workspace, "tests/test_x.py", "pwned", max_bytes=LIMIT)
    assert canary.read_text() == "original"


def test_a_file_over_its_limit_is_refused_with_the_limit_named(workspace: Path) -> None:
    with (workspace / "tests/test_x.py").open("wb") as big:
        big.truncate(200 << 20)  # sparse: nothing is written to disk
    said = "test file tests/test_x.py is 200 MiB, over the limit of 1 MiB (CTW_MAX_TEST_FILE_BYTES)"

    for attempt in (nofollow.read_text, nofollow.check):
        with pytest.raises(errors.LimitExceeded) as raised:
            attempt(
                workspace, "tests/test_x.py", max_bytes=1 << 20, setting="CTW_MAX_TEST_FILE_BYTES"
            )
        assert str(raised.value) == said
        assert raised.value.limit == 1 << 20
    with pytest.raises(errors.LimitExceeded):
        nofollow.write_text(workspace, "tests/test_y.py", "x" * (LIMIT + 1), max_bytes=LIMIT)
    assert not (workspace / "tests/test_y.py").exists()


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.txt", "tests/../../x", "", "a\0b"])
def test_paths_that_leave_the_workspace_are_refused(workspace: Path, path: str) -> None:
    with pytest.raises(errors.UnsafeFile, match="is outside the workspace"):
        nofollow.write_text(workspace, path, "pwned", max_bytes=LIMIT)


def test_text_that_is_not_utf8_is_refused(workspace: Path) -> None:
    (workspace / "tests/test_x.py").write_bytes(b"\xff\xfe")

    with pytest.raises(errors.UnsafeFile, match="not UTF-8"):
        nofollow.read_text(workspace, "tests/test_x.py", max_bytes=LIMIT)
    assert nofollow.read_bytes(workspace, "tests/test_x.py", max_bytes=LIMIT) == b"\xff\xfe"
