"""Files a target's build generates (git ignores them) are put into each workspace it runs in."""

from __future__ import annotations

from pathlib import Path

from ctworkflow.domain.repository.environments import Environment
from ctworkflow.workflow.environment import put_generated


def environment_with(tmp_path: Path, content: str) -> Environment:
    built = tmp_path / "env" / "lib" / "_version.py"
    built.parent.mkdir(parents=True)
    built.write_text(content)
    return Environment(
        key="p-1", root=str(tmp_path / "env"), generated={"src/pkg/_version.py": str(built)}
    )


def test_a_generated_file_the_checkout_lacks_is_copied_in(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "src" / "pkg").mkdir(parents=True)

    put_generated(environment_with(tmp_path, "version = '2.9.0'\n"), workspace)

    assert (workspace / "src/pkg/_version.py").read_text() == "version = '2.9.0'\n"


def test_a_file_already_there_is_never_overwritten(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "src" / "pkg").mkdir(parents=True)
    (workspace / "src/pkg/_version.py").write_text("mine\n")

    put_generated(environment_with(tmp_path, "theirs\n"), workspace)

    assert (workspace / "src/pkg/_version.py").read_text() == "mine\n"


def test_nothing_is_written_through_a_link_out_of_the_workspace(tmp_path: Path) -> None:
    workspace, outside = tmp_path / "ws", tmp_path / "outside"
    (workspace / "src").mkdir(parents=True)
    outside.mkdir()
    (workspace / "src" / "pkg").symlink_to(outside)

    put_generated(environment_with(tmp_path, "x\n"), workspace)

    assert list(outside.iterdir()) == []
