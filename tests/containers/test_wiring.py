"""The smoke suite is whole even where it is skipped: a fixture it needs that no longer exists
(a rename in pytest-celery, say) fails here, on every machine, instead of hiding behind the skip
of machines without a Docker engine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SMOKE = Path(__file__).with_name("test_smoke.py")


def test_the_smoke_test_sets_up_from_fixtures_that_all_exist() -> None:
    # --setup-plan resolves every fixture and runs none (conftest skips nothing then).
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--setup-plan", "-q", str(SMOKE)],
        cwd=SMOKE.parent.parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    planned = [line for line in done.stdout.splitlines() if "test_smoke.py::" in line]
    assert len(planned) == 1, done.stdout
    # The setup of pytest-celery, the project's image and workers, and the registered sample.
    for fixture in ("celery_setup", "ctw_image", "ctw_orchestration", "ctw_components", "shop"):
        assert f" {fixture}," in planned[0] or f" {fixture})" in planned[0], planned[0]
