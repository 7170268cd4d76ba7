"""``ctw demo`` on a machine with no server and no ``CTW_*`` setting, run twice: the second
time on a host without bubblewrap, where it runs its own sample unsandboxed and says so."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.cli_support import base_env, ctw
from tests.samples import git

BRANCH = "test-context-testing-session-for-accounts"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _path_without(program: str, env: dict[str, str], mirrors: Path) -> str:
    """``env``'s PATH with every folder holding ``program`` replaced by a mirror without it."""
    folders = []
    for index, folder in enumerate(env["PATH"].split(os.pathsep)):
        if not (Path(folder) / program).exists():
            folders.append(folder)
            continue
        mirror = mirrors / str(index)
        mirror.mkdir(parents=True)
        for entry in Path(folder).iterdir():
            if entry.name != program:
                (mirror / entry.name).symlink_to(entry)
        folders.append(str(mirror))
    return os.pathsep.join(folders)


# A minute and a half (two whole embedded sessions, the first building their environment):
# the slow tier, which CI runs too; `make demo` itself is the README's command.
@pytest.mark.slow
def test_demo_runs_a_whole_session_embedded_and_runs_again(tmp_path: Path) -> None:
    env = base_env(tmp_path / "home")  # no CTW_* at all: the embedded default
    data = tmp_path / "home" / ".local" / "share" / "ctworkflow"
    no_bwrap = {**env, "PATH": _path_without("bwrap", env, tmp_path / "bin")}
    commits = []
    for run_env in (env, no_bwrap):
        result = ctw("demo", env=run_env, timeout=300)

        assert result.code == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        branch = re.search(r"^branch\s+(\S+)", result.stdout, re.M)
        commit = re.search(r"^commit\s+([0-9a-f]{40})", result.stdout, re.M)
        remote = re.search(r"^remote\s+(\S+)", result.stdout, re.M)
        assert branch and commit and remote, result.stdout
        assert branch.group(1) == BRANCH
        # The commit printed is the head of the branch pushed to the sample's bare remote.
        assert git("rev-parse", BRANCH, cwd=Path(remote.group(1))) == commit.group(1)
        assert Path(remote.group(1)).is_relative_to(data)
        # Five components, each complete with passing tests, in the table.
        rows = re.findall(r"shop\.accounts\.\w+\s+.\s+complete\s+.\s+1\s+.\s+(\d+)", result.stdout)
        assert len(rows) == 5 and all(int(n) > 0 for n in rows), result.stdout
        # The worker it started is stopped.
        started = re.search(r"worker started \(pid (\d+)", result.stdout)
        assert started and f"worker stopped (pid {started.group(1)})" in result.stdout
        assert not _pid_alive(int(started.group(1)))
        # Unsandboxed only where the sandbox cannot run, and said in one line.
        said = [line for line in result.stdout.splitlines() if line.startswith("no sandbox:")]
        if run_env is no_bwrap:
            assert len(said) == 1 and "apt-get install bubblewrap" in said[0], result.stdout
        else:
            assert not said, result.stdout
        commits.append(commit.group(1))
    assert commits[0] != commits[1]
    assert (data / "ctworkflow.sqlite3").exists() and (data / "broker.sqlite3").exists()
