"""``deploy/debian-packages``: what make demo and make test need from Debian, installed as root
with apt-get, or one line naming the packages and the command where it cannot install them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "deploy" / "debian-packages"
# runuser lives in /usr/sbin, which a clean PATH (env -i, CI) may leave out.
RUNUSER = shutil.which("runuser", path=os.pathsep.join([os.environ["PATH"], "/usr/sbin", "/sbin"]))


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder another user can read (pytest's own tmp_path is its owner's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="ctw-packages-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _path_without(programs: set[str], mirrors: Path) -> str:
    """PATH with each folder that holds one of ``programs`` replaced by a mirror without it."""
    folders = []
    for index, folder in enumerate(os.environ["PATH"].split(os.pathsep)):
        entries = list(Path(folder).iterdir()) if Path(folder).is_dir() else []
        if not any(entry.name in programs for entry in entries):
            folders.append(folder)
            continue
        mirror = mirrors / str(index)
        mirror.mkdir(parents=True)
        for entry in entries:
            if entry.name not in programs:
                (mirror / entry.name).symlink_to(entry)
        folders.append(str(mirror))
    return os.pathsep.join(folders)


def _run_as_nobody(group: str, path: str) -> subprocess.CompletedProcess[str]:
    assert RUNUSER is not None
    return subprocess.run(
        [RUNUSER, "-u", "nobody", "--", "env", f"PATH={path}", "sh", str(SCRIPT), group],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(os.geteuid() != 0 or RUNUSER is None, reason="needs root to become nobody")
def test_a_user_who_cannot_install_gets_one_line_naming_the_packages_and_the_command(
    shared_dir: Path,
) -> None:
    # Given a host whose elixir and bubblewrap are missing, and a user who is not root
    path = _path_without({"mix", "bwrap"}, shared_dir)

    # When make test asks for its packages
    done = _run_as_nobody("test", path)

    # Then it stops, naming both packages and how to install them, in one line, installing none
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "bubblewrap elixir" in line
    assert line.endswith("sudo apt-get install -y bubblewrap elixir")


@pytest.mark.skipif(os.geteuid() != 0 or RUNUSER is None, reason="needs root to become nobody")
def test_the_demos_sandbox_is_optional_and_said_in_one_line(shared_dir: Path) -> None:
    done = _run_as_nobody("demo", _path_without({"bwrap"}, shared_dir))

    assert done.returncode == 0  # ctw demo then runs its own sample without a sandbox
    (line,) = done.stderr.splitlines()
    assert line.endswith("sudo apt-get install -y bubblewrap")


def test_nothing_is_done_when_every_package_is_there() -> None:
    # make test ran this before the suite: everything it needs is installed by now.
    done = subprocess.run(
        ["sh", str(SCRIPT), "test"], capture_output=True, text=True, timeout=60, check=False
    )

    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_an_unknown_group_is_refused_with_its_usage() -> None:
    done = subprocess.run(
        ["sh", str(SCRIPT), "everything"], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 2
    assert done.stderr == "usage: deploy/debian-packages venv|demo|test\n"
