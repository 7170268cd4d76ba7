"""Run Python test files with one pytest process and report on each file.

The run uses the target environment's interpreter (:mod:`ctworkflow.effects.environments`):
its dependencies and the project as installed there, with the workspace's own source first
on the import path (the environment's ``python_path``: ``src`` for a src layout), so the code
tested is always the checkout's, whatever was installed when the environment was built.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ctworkflow.domain.model import TestReport
from ctworkflow.domain.repository.environments import Environment
from ctworkflow.effects import sandbox, shell
from ctworkflow.runners.files import crash_report, output_tail, read_report, run_existing
from ctworkflow.runners.junit import parse_reports, tail

#: Options that keep pytest's own test order, even where pytest-randomly is installed.
NO_SHUFFLE = ("-p", "no:randomly")


class PytestRunner:
    """Run every requested file in a single pytest process and read its JUnit XML report."""

    name: str = "pytest"

    def __init__(self, python: str = sys.executable) -> None:
        """Use the given Python interpreter, which must have pytest installed."""
        self.python = python
        #: Whether pytest-randomly is there, by interpreter.
        self._randomly: dict[str, bool] = {}

    def argv(
        self,
        workspace: Path,
        test_paths: Sequence[str],
        junit_xml: Path,
        environment: Environment | None = None,
        order: Sequence[str] = NO_SHUFFLE,
    ) -> list[str]:
        """Return the pytest command line for the given files (or node ids); ``order`` are the
        options on test order (by default none is shuffled, pytest-randomly or not)."""
        python = environment.python if environment and environment.python else self.python
        return [
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            "--continue-on-collection-errors",
            "-o",
            "junit_family=xunit1",
            "--junitxml",
            str(junit_xml),
            "--rootdir",
            str(workspace),
            *order,
            "--",
            *test_paths,
        ]

    def run(
        self,
        workspace: Path,
        test_paths: Sequence[str],
        *,
        timeout_s: float,
        should_stop: Callable[[], bool] | None = None,
        environment: Environment | None = None,
    ) -> dict[str, TestReport]:
        """Run the test files and return a report keyed by each requested path."""
        return run_existing(
            workspace,
            test_paths,
            lambda runnable: self._run_files(
                workspace, runnable, timeout_s, should_stop, environment
            ),
        )

    def run_cases(
        self,
        workspace: Path,
        test_path: str,
        cases: Sequence[str],
        *,
        seed: int | None,
        timeout_s: float,
        should_stop: Callable[[], bool] | None = None,
        environment: Environment | None = None,
    ) -> TestReport:
        """Run only ``cases`` (ids within ``test_path``) in one process: in a random order drawn
        from ``seed`` (pytest-randomly where the environment has it, which also reseeds
        ``random``; else the node ids shuffled), or in the file's order when ``seed`` is None."""
        ids = [f"{test_path}::{case}" for case in cases]
        order: Sequence[str] = NO_SHUFFLE
        if seed is not None:
            random.Random(seed).shuffle(ids)
            if self.has_randomly(workspace, environment):
                order = ("-p", "randomly", f"--randomly-seed={seed}")
        reports = run_existing(
            workspace,
            [test_path],
            lambda runnable: self._run_files(
                workspace, runnable, timeout_s, should_stop, environment, ids, order
            ),
        )
        return reports[test_path]

    def has_randomly(self, workspace: Path, environment: Environment | None) -> bool:
        """Whether pytest-randomly can be imported where the tests run: installed in the
        target's environment, else asked of its interpreter (once)."""
        if environment is not None and any(
            Path(environment.root).glob("lib/python*/site-packages/pytest_randomly/__init__.py")
        ):
            return True
        python = environment.python if environment and environment.python else self.python
        if python not in self._randomly:
            readable = (Path(environment.root),) if environment else ()
            result = shell.run(
                [python, "-c", "import pytest_randomly"],
                cwd=workspace,
                timeout_s=60,
                env=run_variables(workspace, environment),
                policy=sandbox.for_tests(workspace, readable=readable),
            )
            self._randomly[python] = result.ok
        return self._randomly[python]

    def _run_files(
        self,
        workspace: Path,
        runnable: dict[str, str],
        timeout_s: float,
        should_stop: Callable[[], bool] | None,
        environment: Environment | None,
        targets: Sequence[str] = (),
        order: Sequence[str] = NO_SHUFFLE,
    ) -> dict[str, TestReport]:
        """Run pytest once over existing files (or ``targets``, node ids in them) and build
        their reports."""
        with tempfile.TemporaryDirectory(prefix="ctw-pytest-") as report_dir:
            junit_xml = Path(report_dir) / "junit.xml"
            readable = (Path(environment.root),) if environment else ()
            result = shell.run(
                self.argv(workspace, list(targets or runnable), junit_xml, environment, order),
                cwd=workspace,
                timeout_s=timeout_s,
                env=run_variables(workspace, environment),
                should_stop=should_stop,
                policy=sandbox.for_tests(workspace, scratch=(Path(report_dir),), readable=readable),
            )
            xml_text, unreadable = read_report(junit_xml, "pytest's report")
        parsed = None
        if xml_text is not None and not (result.timed_out or result.stopped or result.exceeded):
            parsed = parse_reports(xml_text, list(runnable))
        if parsed is None:
            crashed = crash_report("pytest", result, timeout_s, unreadable)
            return dict.fromkeys(runnable.values(), crashed)
        output = output_tail(result)
        reports: dict[str, TestReport] = {}
        for path, requested in runnable.items():
            found = parsed.get(path)
            if found is None:
                found = TestReport(
                    output_tail=tail(f"no test collected from {requested}\n{output}".rstrip())
                )
            reports[requested] = found
        return reports


def run_variables(workspace: Path, environment: Environment | None) -> dict[str, str]:
    """The variables of a Python run in ``workspace``: the allow-listed ones, the
    environment's, and the import path with the checkout's source first; no bytecode written."""
    extra = dict(environment.variables) if environment else {}
    roots = environment.import_path(workspace) if environment else []
    extra["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([*roots, str(workspace)]))
    extra["PYTHONDONTWRITEBYTECODE"] = "1"
    return shell.base_env(extra)
