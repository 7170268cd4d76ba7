"""A commit's tree is read from git once per process, whatever number of components read it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from ctworkflow.domain.model import Project
from ctworkflow.domain.repository import layouts
from ctworkflow.domain.repository.layout_profile import default_profile
from ctworkflow.domain.repository.repository_tree import TreeEntry
from ctworkflow.effects import repository_layout
from ctworkflow.testing.git import FakeGit

_FILES = {"pkg/__init__.py": "", "pkg/a.py": "A = 1\n", "pkg/b.py": "B = 2\n"}


class CountingGit(FakeGit):
    """The in-memory remote, counting the tree listings it is asked for."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.listings = 0

    def tree_entries(self, remote: str, commit: str) -> list[TreeEntry]:
        self.listings += 1
        return super().tree_entries(remote, commit)


def _project(remote: str) -> Project:
    return Project(
        id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        name="cached",
        code_repo=remote,
        layout=layouts.Layout.PYTHON,
        default_branch="main",
        created_at=datetime.now(UTC),
    )


def test_every_component_of_a_commit_reads_its_tree_once(tmp_path: Path) -> None:
    git = CountingGit(tmp_path)
    remote = f"file:///{uuid.uuid4().hex}"
    commit = git.add_remote(remote, _FILES)
    profile = default_profile(layouts.Layout.PYTHON)
    project = _project(remote)
    first = repository_layout.component_paths(git, project, commit, "pkg.a", profile)
    second = repository_layout.component_paths(git, project, commit, "pkg.b", profile)
    assert (first.source, second.source) == ("pkg/a.py", "pkg/b.py")
    assert git.listings == 1


def test_a_commit_named_other_than_by_its_full_id_is_read_each_time(tmp_path: Path) -> None:
    git = CountingGit(tmp_path)
    remote = f"file:///{uuid.uuid4().hex}"
    commit = git.add_remote(remote, _FILES)
    git.commits["main"] = git.commits[commit]  # a name that could move
    for _ in range(2):
        assert repository_layout.read_tree(git, remote, "main").is_file("pkg/a.py")
    assert git.listings == 2
