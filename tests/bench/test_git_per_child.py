"""A component run's git work timed alone, on the repo shapes' repository."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_each_part_of_a_runs_git_work_is_reported() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.git_per_child", "30", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert (document["files"], document["runs"]) == (30, 3)
    assert list(document["median_ms"]) == ["mirror", "paths", "workspace", "check", "run"]
