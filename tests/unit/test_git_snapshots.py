"""The folder snapshots of kept workspaces: what moved, what is new, removing without links."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from ctworkflow.effects.git import snapshots

_SECOND = 1_000_000_000
_LISTING = (
    "100644 blob aa\tREADME.md\0"
    "040000 tree bb\tsrc\0"
    "100644 blob cc\tsrc/module.py\0"
    "040000 tree dd\tsrc/pkg\0"
    "120000 blob ee\tsrc/pkg/link\0"
)


def _snapshot(taken_ns: int, **stamps: tuple[int, int, int] | None) -> snapshots.Snapshot:
    return snapshots.Snapshot(commit="c" * 40, taken_ns=taken_ns, link=(1, 0, 0), stamps=stamps)


def test_a_tree_listing_gives_each_folder_its_entries_and_their_kind() -> None:
    tree = snapshots.parse_tree(_LISTING)
    assert tree.folders == {
        "": {"README.md": False, "src": True},
        "src": {"module.py": False, "pkg": True},
        "src/pkg": {"link": False},
    }
    assert not tree.has_submodules
    assert snapshots.parse_tree("160000 commit ff\tvendor/lib\0").has_submodules


@pytest.mark.parametrize(
    ("after", "moved"),
    [
        ((7, 10, 10), False),  # same stamp, older than the snapshot by far
        ((7, 11, 10), True),  # change time moved (a file made, even with the times set back)
        ((8, 10, 10), True),  # another folder in its place
        (None, True),  # gone, or a link now
    ],
)
def test_a_folder_moved_when_its_stamp_changed(
    after: tuple[int, int, int] | None, moved: bool
) -> None:
    before = _snapshot(100 * _SECOND, src=(7, 10, 10))
    assert snapshots.moved(before, _snapshot(200 * _SECOND, src=after)) == (
        ["src"] if moved else []
    )


def test_a_folder_stamped_close_to_the_snapshot_is_read_again_even_if_unchanged() -> None:
    racy = (7, 100 * _SECOND - 1, 10)  # changed within the clock's tick of the snapshot
    before = _snapshot(100 * _SECOND, src=racy, old=(9, 10, 10))
    assert snapshots.moved(before, _snapshot(200 * _SECOND, src=racy, old=(9, 10, 10))) == ["src"]


def test_new_entries_are_what_the_commit_lacks_or_has_as_another_kind(tmp_path: Path) -> None:
    tree = snapshots.parse_tree(_LISTING)
    (tmp_path / ".git").write_text("gitdir: elsewhere\n")
    (tmp_path / "README.md").mkdir()  # a folder where the commit has a file
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "module.py").write_text("x\n")
    (tmp_path / "src" / "new.py").write_text("y\n")
    (tmp_path / "src" / "pkg" / "link").symlink_to("../module.py")
    found = snapshots.new_entries(tmp_path, tree, ["", "src", "src/pkg"])
    assert found == ["README.md", "src/new.py"]


def test_a_link_in_a_folders_place_is_neither_read_nor_removed_through(tmp_path: Path) -> None:
    tree = snapshots.parse_tree(_LISTING)
    outside = tmp_path / "outside"
    (outside / "pkg").mkdir(parents=True)
    (outside / "pkg" / "keep.txt").write_text("keep\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "src").symlink_to(outside, target_is_directory=True)
    assert snapshots.new_entries(root, tree, ["src"]) is None
    with pytest.raises(OSError):
        snapshots.remove(root, ["src/pkg/keep.txt"])
    assert (outside / "pkg" / "keep.txt").read_text() == "keep\n"
    snapshots.remove(root, ["src"])  # the link itself goes, its target stays
    assert not os.path.lexists(root / "src")
    assert (outside / "pkg" / "keep.txt").exists()


def test_a_snapshot_survives_its_file_and_a_damaged_file_reads_as_none(tmp_path: Path) -> None:
    slot = tmp_path / "slot0"
    slot.mkdir()
    tree = snapshots.parse_tree(_LISTING)
    (slot / "src" / "pkg").mkdir(parents=True)
    (slot / ".git").write_text("gitdir: elsewhere\n")
    taken = snapshots.take(slot, tree, "a" * 40)
    snapshots.save(slot, taken)
    assert snapshots.load(slot) == taken
    snapshots.state_file(slot).write_text(
        '{"commit": "x", "taken_ns": 1, "link": [1], "stamps": {}}'
    )
    assert snapshots.load(slot) is None
    snapshots.forget(slot)
    assert snapshots.load(slot) is None


def test_a_kept_change_check_survives_its_file_and_a_damaged_one_reads_as_none(
    tmp_path: Path,
) -> None:
    slot = tmp_path / "slot0"
    slot.mkdir()
    tree = snapshots.parse_tree(_LISTING)
    (slot / "src" / "pkg").mkdir(parents=True)
    (slot / ".git").write_text("gitdir: elsewhere\n")
    taken = snapshots.take(slot, tree, "a" * 40)
    kept = dataclasses.replace(taken, tracked=(" M src/a.py", " D b.txt"), index=(1, 2, 3))
    snapshots.save(slot, kept)
    assert snapshots.load(slot) == kept
    text = snapshots.state_file(slot).read_text().replace('" D b.txt"', "7")
    snapshots.state_file(slot).write_text(text)
    assert snapshots.load(slot) is None
