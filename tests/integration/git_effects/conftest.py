"""The fixtures of the git tests: a remote of their own, a Git with its own cache, and no
configuration of the machine's."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctworkflow.effects.git import Git
from tests.git_support import Remote, hermetic, make_remote


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the system's nor the user's git configuration leaks into the tests."""
    hermetic(monkeypatch, tmp_path)


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    """A bare repository with one commit on ``main``."""
    return make_remote(tmp_path)


@pytest.fixture
def git(tmp_path: Path) -> Git:
    """The object under test, with its own cache."""
    return Git(tmp_path / "cache", timeout_s=30)
