"""Measure what a Python test file exercises of its source: coverage.py, then mutants.

Both run the target's own interpreter in its environment (coverage.py is one of the packages
every Python environment gets), in the sandbox, with the checkout's source first on the import
path, like the test runs themselves (:mod:`ctworkflow.runners.pytest_runner`).

Each mutant is written over the source file in the workspace, the test file runs against it
(``pytest -x``), and the original is put back before the next one; the file's digest is checked
after every restore, so no mutant is ever left behind (a failed restore raises).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain import coverage, mutation, quality
from ctworkflow.domain.repository.environments import Environment
from ctworkflow.effects import nofollow, sandbox, shell
from ctworkflow.runners.pytest_runner import NO_SHUFFLE, run_variables

#: A source file larger than this is not mutated.
MAX_SOURCE_BYTES: Final = 2 * 1024 * 1024
#: A mutant's run may take this many times what the unchanged tests took.
MUTANT_SLOWDOWN: Final = 3.0
#: The mutants a measurement's tests killed.
Kills = set[mutation.Mutant]
#: pytest as the measurements run it: in the file's own order (pytest-randomly off).
_PYTEST: Final = (
    "-m",
    "pytest",
    "-q",
    "-p",
    "no:cacheprovider",
    *NO_SHUFFLE,
    "--import-mode=importlib",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What one measurement is about, and where it runs."""

    workspace: Path
    source_path: str
    test_path: str
    environment: Environment | None
    #: The mutants' sampling seed (the component's module name: reproducible).
    seed: str
    should_stop: Callable[[], bool] | None = None


def measure(
    target: Target,
    config: quality.QualitySettings,
    *,
    timeout_s: float,
    tests_pass: bool,
    kills: Kills | None = None,
) -> dict[str, Any]:
    """The measurement document (:mod:`ctworkflow.domain.quality`) of the target's test file.

    ``tests_pass``: the file passed against the unchanged source; mutants are run only then.
    ``kills``: the mutants an earlier measurement's tests killed (not run again: the regression
    gate keeps every test that passed there), updated with the ones this one kills.
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ctw-measure-") as scratch:
        folder = Path(scratch)
        coverage, missing, baseline_s = _coverage(target, folder, timeout_s)
        if config.max_mutants == 0:
            mutants: dict[str, Any] = {"status": quality.DISABLED, "reason": "max_mutants is 0"}
        elif not tests_pass:
            mutants = quality.unavailable("the tests do not pass against the unchanged source")
        else:
            mutants = _mutation(
                target, config, folder, missing, baseline_s, kills if kills is not None else set()
            )
    return {
        "coverage": coverage,
        "mutation": mutants,
        "duration_s": round(time.monotonic() - started, 2),
    }


def _python(target: Target) -> str:
    env = target.environment
    return env.python if env is not None and env.python else sys.executable


def _run(
    target: Target, argv: list[str], folder: Path, timeout_s: float, extra: Mapping[str, str]
) -> shell.CommandResult:
    variables = {**run_variables(target.workspace, target.environment), **extra}
    # Bytecode only from a folder of this measurement: never a stale one of another mutant.
    variables["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    readable = (Path(target.environment.root),) if target.environment else ()
    return shell.run(
        argv,
        cwd=target.workspace,
        timeout_s=timeout_s,
        env=variables,
        should_stop=target.should_stop,
        policy=sandbox.for_tests(target.workspace, scratch=(folder,), readable=readable),
    )


def _coverage(
    target: Target, folder: Path, timeout_s: float
) -> tuple[dict[str, Any], set[int], float]:
    """The coverage figure, the lines no test ran, and how long the tests took."""
    source = str(target.workspace / target.source_path)
    rcfile = folder / "coveragerc"  # the project's own configuration is not ours to follow
    rcfile.write_text("[run]\nbranch = True\n")
    extra = {"COVERAGE_FILE": str(folder / "coverage.data")}
    common = [f"--rcfile={rcfile}", f"--include={source}"]
    python = _python(target)
    ran = _run(
        target,
        [python, "-m", "coverage", "run", "--branch", *common, *_PYTEST, "--", target.test_path],
        folder,
        timeout_s,
        extra,
    )
    if "No module named coverage" in ran.stderr:
        missing_tool = "coverage.py is not installed in the target's environment"
        return quality.unavailable(missing_tool), set(), ran.duration_s
    if ran.timed_out or ran.stopped or ran.exceeded:
        return (
            quality.unavailable(f"the tests did not finish within {timeout_s:g} s"),
            set(),
            timeout_s,
        )
    report = folder / "coverage.json"
    made = _run(
        target,
        [python, "-m", "coverage", "json", *common, "-o", str(report)],
        folder,
        timeout_s,
        extra,
    )
    if "No data to report" in made.stdout + made.stderr:
        text = source_text(target)
        statements = coverage.statement_lines(text or "")
        return coverage.never_ran(statements), set(statements), ran.duration_s
    if not made.ok or not report.is_file():
        tail = (made.stderr or made.stdout).strip().splitlines()[-1:] or ["no output"]
        return quality.unavailable(f"coverage json failed: {tail[0]}"), set(), ran.duration_s
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return (
            quality.unavailable(f"coverage.py's report is unreadable: {error}"),
            set(),
            ran.duration_s,
        )
    figure = coverage.coverage_from_json(data, target.source_path)
    missing = {
        line
        for first, last in quality.parse_ranges(str(figure.get("uncovered") or ""))
        for line in range(first, last + 1)
    }
    return figure, missing, ran.duration_s


def source_text(target: Target) -> str | None:
    """The target's source file, if it can be read as UTF-8 text."""
    try:
        return nofollow.read_text(
            target.workspace, target.source_path, max_bytes=MAX_SOURCE_BYTES, what="source file"
        )
    except (OSError, errors.UnsafeFile, errors.LimitExceeded):
        return None


def _mutation(
    target: Target,
    config: quality.QualitySettings,
    folder: Path,
    missing: set[int],
    baseline_s: float,
    kills: Kills,
) -> dict[str, Any]:
    """Run the sampled mutants; each may take ``mutation_timeout_s``, or three times what the
    unchanged tests took if that is longer (a loaded host must not kill a slow survivor)."""
    started = time.monotonic()
    per_mutant = max(config.mutation_timeout_s, MUTANT_SLOWDOWN * baseline_s)
    original = source_text(target)
    if original is None:
        return quality.unavailable(f"{target.source_path} cannot be read as UTF-8 text")
    try:
        found = mutation.mutants(original)
    except (SyntaxError, ValueError) as error:
        return quality.unavailable(f"{target.source_path} does not parse: {error}")
    chosen = mutation.sample(found, config.max_mutants, target.seed)
    killed, timed_out, survivors = 0, 0, []
    stopped = None
    reused = 0
    for mutant in chosen:
        if mutant in kills:  # killed by tests the file still has
            killed, reused = killed + 1, reused + 1
            continue
        if mutant.line in missing:  # no test runs that line: nothing can notice the change
            survivors.append({**mutant.to_json(), "uncovered": True})
            continue
        left = config.mutation_budget_s - (time.monotonic() - started)
        if left <= 0:
            stopped = f"time budget of {config.mutation_budget_s:g} s spent"
            break
        verdict = _try(target, original, mutant, folder, min(per_mutant, left))
        if verdict == "stopped":
            stopped = "the run was stopped"
            break
        if verdict == "timed_out" and left < per_mutant:
            stopped = f"time budget of {config.mutation_budget_s:g} s spent"  # cut, not killed
            break
        if verdict == "survived":
            survivors.append(mutant.to_json())
        else:
            killed += 1
            kills.add(mutant)
            timed_out += verdict == "timed_out"
    return quality.mutation_figure(
        candidates=len(found),
        killed=killed,
        survivors=survivors,
        not_run=len(chosen) - killed - len(survivors),
        duration_s=time.monotonic() - started,
        timed_out=timed_out,
        stopped=stopped,
        reused=reused,
    )


def _try(
    target: Target, original: str, mutant: mutation.Mutant, folder: Path, timeout_s: float
) -> str:
    """Run the test file against one mutant: ``killed``, ``timed_out``, ``survived`` or
    ``stopped`` (the session asked the run to stop)."""
    digest = hashlib.sha256(original.encode()).hexdigest()
    path = target.source_path
    try:
        nofollow.write_text(
            target.workspace,
            path,
            mutation.apply(original, mutant),
            max_bytes=MAX_SOURCE_BYTES,
            what="source file",
        )
        argv = [_python(target), *_PYTEST, "-x", "--", target.test_path]
        result = _run(target, argv, folder, timeout_s, {})
    finally:
        restore(target.workspace, path, original, digest)
    if result.stopped:
        return "stopped"
    if result.timed_out:
        return "timed_out"
    return "survived" if result.ok else "killed"


def restore(workspace: Path, path: str, original: str, digest: str) -> None:
    """Put ``original`` back at ``path`` and check it is there, byte for byte.

    Raises:
        RuntimeError: the file does not hold the original afterwards.
    """
    nofollow.write_text(workspace, path, original, max_bytes=MAX_SOURCE_BYTES, what="source file")
    back = nofollow.read_bytes(workspace, path, max_bytes=MAX_SOURCE_BYTES, what="source file")
    if hashlib.sha256(back).hexdigest() != digest:
        raise RuntimeError(f"{path} could not be restored after a mutant")
