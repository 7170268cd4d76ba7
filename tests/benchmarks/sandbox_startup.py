"""``python -m tests.benchmarks.sandbox_startup RUNS``: what the sandbox adds to one run.

Times a trivial program (``true``) started through :func:`ctworkflow.effects.shell.run` as a
worker starts every agent and test run: ``RUNS`` times without a policy (a bare child process),
then ``RUNS`` times with a test run's policy under this process's ``CTW_SANDBOX`` setting. The
benchmark runs it with the workers' settings, once with ``CTW_SANDBOX=bubblewrap`` and once
with ``none``. Prints one JSON document: the mode and the median and slowest run of each, in
milliseconds, and the median difference (the sandbox's start-up per run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ctworkflow.config import get_settings
from ctworkflow.effects import sandbox, shell
from tests.benchmarks.sandboxed import TRIVIAL, TRIVIAL_TIMEOUT_S


def _times_ms(workspace: Path, runs: int, policy: sandbox.Policy | None) -> list[float]:
    times: list[float] = []
    for _ in range(runs):
        began = time.perf_counter()
        result = shell.run(TRIVIAL, cwd=workspace, timeout_s=TRIVIAL_TIMEOUT_S, policy=policy)
        times.append(1000 * (time.perf_counter() - began))
        if not result.ok:
            raise RuntimeError(f"the trivial program failed: {result.stderr[-500:]}")
    return times


def _summary(times: Sequence[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def measure(runs: int) -> dict[str, Any]:
    """Time the trivial program bare and in the sandbox, ``runs`` times each."""
    with tempfile.TemporaryDirectory(prefix="ctw-sandbox-startup-") as folder:
        workspace = Path(folder)
        _times_ms(workspace, 1, sandbox.for_tests(workspace))  # warm the page cache
        bare = _times_ms(workspace, runs, None)
        contained = _times_ms(workspace, runs, sandbox.for_tests(workspace))
    return {
        "mode": get_settings().sandbox,
        "runs": runs,
        "bare": _summary(bare),
        "sandboxed": _summary(contained),
        "startup_ms": round(statistics.median(contained) - statistics.median(bare), 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.sandbox_startup")
    parser.add_argument("runs", type=int, help="runs of each kind, e.g. 50")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("runs must be at least 1")
    sys.stdout.write(json.dumps(measure(args.runs)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
