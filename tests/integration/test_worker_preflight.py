"""A worker refuses to start when its time budget cannot hold, and says what to change."""

from __future__ import annotations

import os
import subprocess
import sys
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
