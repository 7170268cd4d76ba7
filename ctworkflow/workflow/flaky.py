"""Run a component's new and changed tests again, and drop the new ones that are flaky.

Once the component's test file passed, the tests the agent added or changed run
``flaky_runs`` more times in one process each, in a random order drawn from a seed of their
own (pytest-randomly), and once alone each (a process per test, at most
:data:`~ctworkflow.domain.flakiness.MAX_ALONE` of them). A test that one of the shuffled runs
ran first already ran alone there (a fresh process, nothing before it, nothing after it that
can change its outcome): it gets no process of its own. A new test that fails any of those
runs is taken out of the file (its function only, every other byte left as it was) and the
file runs once more to confirm it passes without it; an existing test that fails is only
reported. What was dropped, and why, is in the report and goes back to the agent.

The check needs a runner that can run chosen tests (:class:`~ctworkflow.runners.base.
CaseRunner`: pytest and mix); with another the file is kept as it passed and nothing is
recorded. Only Python test functions are taken out; a flaky new Elixir test fails the round.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ctworkflow import errors
from ctworkflow.domain import flakiness, regression
from ctworkflow.domain.flakiness import FlakyTest
from ctworkflow.domain.model import TestReport
from ctworkflow.domain.repository import python_tests
from ctworkflow.domain.repository.environments import Environment
from ctworkflow.effects import nofollow
from ctworkflow.runners.base import CaseRunner, Runner

logger = logging.getLogger(__name__)

_SETTING = "CTW_MAX_TEST_FILE_BYTES"


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """Check the tests of ``test_path`` in ``workspace`` that passed in ``report``."""

    runner: Runner
    workspace: Path
    test_path: str
    report: TestReport
    #: What the file ran at the base, and its content there (None: it is new).
    baseline: TestReport | None
    base_content: str | None
    #: How many runs in random order (the project's ``flaky_runs``).
    runs: int
    #: Seeds are drawn from it and the file's content: the same file gets the same seeds.
    key: str
    timeout_s: float
    max_bytes: int
    should_stop: Callable[[], bool] | None = None
    environment: Environment | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """The file's report after the check, and why the round fails, if it does."""

    report: TestReport
    error: str | None = None


def check(request: Request) -> Checked:
    """Run the new and changed tests again; drop the new ones that fail (see the module)."""
    runner, report = request.runner, request.report
    if request.runs == 0 or not isinstance(runner, CaseRunner):
        return Checked(report=report)
    try:
        content = nofollow.read_text(
            request.workspace, request.test_path, max_bytes=request.max_bytes, setting=_SETTING
        )
    except (errors.UnsafeFile, errors.LimitExceeded, OSError):
        return Checked(report=report)  # refused when the artifact is read
    base_cases = request.baseline.cases if request.baseline else None
    python = request.test_path.endswith(".py")
    checked = flakiness.under_check(
        base_cases,
        report.cases,
        _changed(request.base_content, content) if python else frozenset(),
        python_tests.function_of if python else str,
    )
    if not checked:
        return Checked(report=report)
    runs = _repeat(request, runner, checked, content)
    alone = sum(1 for run in runs if run.label == "alone" and run.cases)
    flaky = flakiness.judge(checked, runs, base_cases)
    counted = dataclasses.replace(report, repeated_runs=request.runs, alone_runs=alone)
    if not flaky:
        return Checked(report=counted)
    if not any(test.dropped for test in flaky):
        return Checked(report=dataclasses.replace(counted, flaky=tuple(flaky)))
    return _drop(request, counted, content, flaky)


def _changed(base_content: str | None, content: str) -> frozenset[str]:
    """The functions of the file at the base whose text the agent changed."""
    if base_content is None:
        return frozenset()
    try:
        before, after = python_tests.definitions(base_content), python_tests.definitions(content)
    except SyntaxError:
        return frozenset()
    return frozenset(name for name, d in after.items() if name in before and before[name] != d)


def _repeat(
    request: Request, runner: CaseRunner, checked: Sequence[str], content: str
) -> list[flakiness.Run]:
    """The runs in random order, then alone each checked test that none of them ran first
    (a bounded number of them)."""
    digest = hashlib.sha256(content.encode()).hexdigest()
    runs = [
        _run(request, runner, f"random order, seed {seed}", checked, seed)
        for seed in flakiness.seeds(f"{request.key}:{digest}", request.runs)
    ]
    firsts = {flakiness.first_case(run) for run in runs}
    alone = [case for case in checked if case not in firsts][: flakiness.MAX_ALONE]
    return runs + [_run(request, runner, "alone", [case], None) for case in alone]


def _run(
    request: Request, runner: CaseRunner, label: str, cases: Sequence[str], seed: int | None
) -> flakiness.Run:
    if request.should_stop is not None and request.should_stop():
        return flakiness.Run(label=label, cases={})  # cancelled: the round's result is dropped
    found = runner.run_cases(
        request.workspace,
        request.test_path,
        cases,
        seed=seed,
        timeout_s=request.timeout_s,
        should_stop=request.should_stop,
        environment=request.environment,
    )
    return flakiness.Run(label=label, cases=found.cases, output=found.output_tail)


def _drop(request: Request, counted: TestReport, content: str, flaky: list[FlakyTest]) -> Checked:
    """Take the flaky new tests out of the file, and confirm it passes without them."""
    path, listed = request.test_path, flakiness.describe(flaky)
    doomed = {python_tests.function_of(t.test) for t in flaky if t.dropped}
    refused = _why_kept(request, counted, doomed)
    if refused is not None:
        return _failed(counted, flaky, f"{refused}:\n{listed}")
    try:
        kept = python_tests.remove(content, doomed)
    except (SyntaxError, ValueError) as error:
        return _failed(
            counted, flaky, f"flaky tests cannot be taken out of {path} ({error}):\n{listed}"
        )
    nofollow.write_text(
        request.workspace, path, kept, max_bytes=request.max_bytes, setting=_SETTING
    )
    confirmed = request.runner.run(
        request.workspace,
        [path],
        timeout_s=request.timeout_s,
        should_stop=request.should_stop,
        environment=request.environment,
    ).get(path, TestReport())
    lost = regression.lost_tests(request.baseline, confirmed)
    if not confirmed.all_passed or lost:
        nofollow.write_text(
            request.workspace, path, content, max_bytes=request.max_bytes, setting=_SETTING
        )
        return _failed(
            counted,
            flaky,
            f"{path} does not pass without its flaky tests:\n{listed}\n"
            f"{confirmed.output_tail}".rstrip(),
        )
    logger.info("dropped %d flaky tests from %s", len(doomed), path, extra={"action": "flaky"})
    return Checked(
        report=dataclasses.replace(
            confirmed,
            repeated_runs=counted.repeated_runs,
            alone_runs=counted.alone_runs,
            flaky=tuple(flaky),
        )
    )


def _why_kept(request: Request, counted: TestReport, doomed: set[str]) -> str | None:
    """Why the flaky new tests cannot just be taken out of the file, if they cannot."""
    path = request.test_path
    if not path.endswith(".py"):
        return f"flaky new tests in {path} (taken out of Python files only)"
    base_functions = {
        python_tests.function_of(case) for case in counted.cases if _at_base(request, case)
    }
    if request.base_content is not None:
        with contextlib.suppress(SyntaxError):
            base_functions |= set(python_tests.definitions(request.base_content))
    at_base = sorted(doomed & base_functions)
    if at_base:
        return (
            f"flaky new cases of tests that exist at the base ({', '.join(at_base)}), "
            "which are never removed"
        )
    remaining = [
        case
        for case in counted.cases
        if not _at_base(request, case) and python_tests.function_of(case) not in doomed
    ]
    return None if remaining else f"every new test of {path} is flaky"


def _at_base(request: Request, case: str) -> bool:
    return request.baseline is not None and case in request.baseline.cases


def _failed(counted: TestReport, flaky: list[FlakyTest], reason: str) -> Checked:
    """The round fails: nothing was taken out of the file."""
    kept = tuple(dataclasses.replace(t, dropped=False) for t in flaky)
    return Checked(
        report=dataclasses.replace(counted, flaky=kept), error=f"{reason}\n{flakiness.ADVICE}"
    )
