"""A worker refuses to start when its time budget cannot hold, and says what to change."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"CTW_COMPONENT_TIME_LIMIT_S": "5000"}, "CTW_VISIBILITY_TIMEOUT_S"),
        (
            {"CTW_COMPONENT_SOFT_TIME_LIMIT_S": "60", "CTW_COMPONENT_TIME_LIMIT_S": "30"},
            "CTW_COMPONENT_TIME_LIMIT_S",
        ),
        ({"CTW_MAX_ATTEMPTS": "many"}, "CTW_MAX_ATTEMPTS"),
    ],
)
@pytest.mark.parametrize("role", ["orchestration", "components"])
def test_a_worker_with_an_impossible_time_budget_refuses_to_start(
    role: str, settings: dict[str, str], named: str, tmp_path: Path
) -> None:
    env = {**os.environ, "CTW_DATA_DIR": str(tmp_path), **settings}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            f"ctworkflow.workers.{role}",
            "worker",
            "--pool=solo",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"ctworkflow {role} worker refuses to start")
    assert named in lines[0]


def _worker_argv(role: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        f"ctworkflow.workers.{role}",
        "worker",
        "--pool=solo",
    ]


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"PATH": "{empty}"}, "CTW_SANDBOX=bubblewrap needs bwrap, which is not installed"),
        ({"CTW_SANDBOX": "docker"}, "CTW_SANDBOX: Input should be 'bubblewrap' or 'none'"),
    ],
    ids=["bwrap missing", "unknown sandbox"],
)
def test_a_worker_without_a_usable_sandbox_refuses_to_start_in_one_line(
    settings: dict[str, str], says: str, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    wanted = {name: value.format(empty=tmp_path / "empty") for name, value in settings.items()}
    env = {**os.environ, "CTW_DATA_DIR": str(tmp_path), **wanted}
    done = subprocess.run(
        _worker_argv("components"),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ctworkflow components worker refuses to start: ")
    assert says in lines[0]


def test_a_worker_without_a_sandbox_must_be_told_and_warns_at_start(tmp_path: Path) -> None:
    env = {**os.environ, "CTW_DATA_DIR": str(tmp_path), "CTW_SANDBOX": "none"}
    worker = subprocess.Popen(
        [*_worker_argv("components"), "--loglevel=WARNING"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None
        deadline = time.monotonic() + 90
        warned = ""
        while time.monotonic() < deadline and not warned:
            line = worker.stderr.readline()
            if not line:
                break
            if "CTW_SANDBOX=none" in line:
                warned = line
        assert "WARNING" in warned and "run unsandboxed" in warned, warned
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
