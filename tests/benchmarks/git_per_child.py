"""``python -m tests.benchmarks.git_per_child FILES [RUNS]``: a component run's git work alone.

The ``repo:`` shapes measure a whole component run on a padded repository, where the workers,
PostgreSQL and the machine's load all add their noise. This times only what a run asks of git,
in this process, on the same repository (:func:`tests.benchmarks.fixture.build_repository`):
the mirror's check for the base commit, the component's paths (the commit's tree), the
workspace slot (the reset of the last run's changes), and the change check after an "agent"
that writes a new test file and a ``__pycache__`` folder. Run it with 100 and with 10,000
files to see what grows with the repository. Prints one JSON document: the median of each part
and of the whole run, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ctworkflow.effects import repository_layout
from ctworkflow.effects.git import Git
from tests.benchmarks.fixture import PACKAGE, build_repository, component_module, context_module
from tests.benchmarks.shapes import parse_shapes

_PARTS = ("mirror", "paths", "workspace", "check", "run")
_RACY_S = 1.5


def _one_run(git: Git, remote: str, commit: str, times: dict[str, list[float]]) -> None:
    """One component run's git work, each part timed into ``times``."""

    def timed(part: str, action: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = action()
        times[part].append((time.perf_counter() - started) * 1000)
        return result

    started = time.perf_counter()
    timed("mirror", lambda: git.mirror(remote, need=commit))
    timed("paths", lambda: repository_layout.read_tree(git, remote, commit))
    slot = git.workspace(remote, commit)
    folder = timed("workspace", slot.__enter__)
    assert isinstance(folder, Path)
    try:
        tests = folder / "tests" / PACKAGE / context_module(0)
        tests.mkdir(parents=True, exist_ok=True)
        (tests / f"test_{component_module(0)}.py").write_text("def test_one(): pass\n")
        cache = folder / PACKAGE / context_module(0) / "__pycache__"
        cache.mkdir(exist_ok=True)
        (cache / "module.pyc").write_bytes(b"\0")
        timed("check", lambda: git.changed_paths(folder))
    finally:
        slot.__exit__(None, None, None)
    times["run"].append((time.perf_counter() - started) * 1000)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("files", type=int, help="files in the repository")
    parser.add_argument("runs", type=int, nargs="?", default=50, help="component runs to time")
    args = parser.parse_args(argv)
    [shape] = parse_shapes(f"repo:1x1:{args.files}")
    with tempfile.TemporaryDirectory(prefix="ctw-git-per-child-") as folder:
        root = Path(folder)
        remote = str(build_repository(root / "repository", shape))
        listed = ["git", "ls-remote", remote, "refs/heads/main"]
        commit = subprocess.run(listed, capture_output=True, text=True, check=True).stdout[:40]
        git = Git(root / "cache")
        warm_up: dict[str, list[float]] = {part: [] for part in _PARTS}
        _one_run(git, remote, commit, warm_up)  # the mirror's clone and the slot's checkout
        # Files checked out in the same second as the index are "racy": each git status hashes
        # them again and rewrites the index until it is written a second later. A slot is like
        # that only in its first second; the runs below measure the steady state.
        time.sleep(_RACY_S)
        _one_run(git, remote, commit, warm_up)
        times: dict[str, list[float]] = {part: [] for part in _PARTS}
        for _ in range(args.runs):
            _one_run(git, remote, commit, times)
    medians = {part: round(statistics.median(values), 2) for part, values in times.items()}
    document = {
        "files": args.files,
        "runs": args.runs,
        "median_ms": medians,
    }
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
