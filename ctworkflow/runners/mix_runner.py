"""Run Elixir test files with ``mix test`` (ExUnit) and report on each file.

``mix test`` runs under ``elixir -r report_formatter.exs -S mix``, so the formatter that writes
the per-test report is loaded before Mix starts and the project needs no dependency for it.
``MIX_ENV`` is ``test``; Mix keeps its own files (``MIX_HOME``, ``HEX_HOME``) in a folder of the
runner, never in the worker's home, and the VM writes no crash dump. Mix compiles into
``_build`` inside the workspace, which the workflow treats as build output, not as a change.

When the run ends without a word about some files (a test file that does not compile stops the
whole run), those files are run again one by one, so only the broken file is blamed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ctworkflow.domain.model import TestReport
from ctworkflow.domain.repository.environments import Environment
from ctworkflow.effects import sandbox, shell
from ctworkflow.runners import exunit
from ctworkflow.runners.files import crash_report, output_tail, read_report, run_existing
from ctworkflow.runners.tally import tail

REPORT_ENV_VAR = "EXUNIT_REPORT_FILE"


def default_mix_home() -> Path:
    """Mix's own folder for workers: per user, outside every workspace."""
    return Path(tempfile.gettempdir()) / f"ctworkflow-mix-{os.getuid()}"


class MixRunner:
    """Run the requested files with one ``mix test`` and read the formatter's report."""

    name: str = "mix"

    def __init__(self, *, elixir: str = "elixir", mix_home: Path | None = None) -> None:
        """Use the ``elixir`` program given (``mix`` is found on its PATH)."""
        self.elixir = elixir
        self.mix_home = mix_home or default_mix_home()

    def argv(self, test_paths: Sequence[str], options: Sequence[str] = ()) -> list[str]:
        """Return the command line that tests the given files (``options``: ``mix test``'s)."""
        return [
            self.elixir,
            "-r",
            str(exunit.FORMATTER_FILE),
            "-S",
            "mix",
            "test",
            "--formatter",
            "ExUnit.CLIFormatter",
            "--formatter",
            exunit.FORMATTER_MODULE,
            *options,
            *test_paths,
        ]

    def env(self, report_file: Path, environment: Environment | None = None) -> dict[str, str]:
        """The allow-listed environment plus what Mix needs to run tests unattended (and the
        target environment's dependency folder)."""
        self.mix_home.mkdir(parents=True, exist_ok=True)
        base = shell.base_env()
        return shell.base_env(
            {
                "MIX_ENV": "test",
                "MIX_HOME": str(self.mix_home / "mix"),
                "HEX_HOME": str(self.mix_home / "hex"),
                "HEX_OFFLINE": "1",
                "HOME": base.get("HOME") or str(self.mix_home),
                "ERL_CRASH_DUMP_SECONDS": "0",
                REPORT_ENV_VAR: str(report_file),
                # The dependencies mix fetched for the project (its own MIX_HOME stays ours).
                **_deps_path(environment),
            }
        )

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
            lambda runnable: self._reports(
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
        """Run only ``cases`` of ``test_path`` (``--only test:<name>``) in one ``mix test``, in
        the order ExUnit draws from ``seed`` (``--seed``; None: the order they are defined in).
        The tests left out are reported as skipped."""
        options = ["--seed", str(seed if seed is not None else 0)]
        for case in cases:
            options += ["--only", f"test:{case.split(' ', 1)[-1]}"]
        reports = run_existing(
            workspace,
            [test_path],
            lambda runnable: self._reports(
                workspace, runnable, timeout_s, should_stop, environment, options
            ),
        )
        return reports[test_path]

    def _reports(
        self,
        workspace: Path,
        runnable: dict[str, str],
        timeout_s: float,
        should_stop: Callable[[], bool] | None,
        environment: Environment | None,
        options: Sequence[str] = (),
    ) -> dict[str, TestReport]:
        """Reports of existing files: one run, then each file it said nothing about alone."""
        result, parsed, unreadable = self._mix_test(
            workspace, runnable, timeout_s, should_stop, environment, options
        )
        if result.timed_out or result.stopped or result.exceeded or unreadable:
            crashed = crash_report("mix test", result, timeout_s, unreadable)
            return dict.fromkeys(runnable.values(), crashed)
        missing = {
            path: requested for path, requested in runnable.items() if requested not in parsed
        }
        if len(runnable) > 1:
            for path, requested in missing.items():
                alone = {path: requested}
                parsed.update(
                    self._reports(workspace, alone, timeout_s, should_stop, environment, options)
                )
            return parsed
        for requested in missing.values():
            parsed[requested] = _silent_report(requested, result)
        return parsed

    def _mix_test(
        self,
        workspace: Path,
        runnable: dict[str, str],
        timeout_s: float,
        should_stop: Callable[[], bool] | None,
        environment: Environment | None,
        options: Sequence[str] = (),
    ) -> tuple[shell.CommandResult, dict[str, TestReport], str | None]:
        """Run ``mix test`` once over the files and read what the formatter wrote (or why not)."""
        with tempfile.TemporaryDirectory(prefix="ctw-mix-") as report_dir:
            report_file = Path(report_dir) / "report.tsv"
            result = shell.run(
                self.argv(list(runnable), options),
                cwd=workspace,
                timeout_s=timeout_s,
                env=self.env(report_file, environment),
                should_stop=should_stop,
                policy=sandbox.for_tests(
                    workspace,
                    scratch=(Path(report_dir),),
                    readable=(self.mix_home, *((Path(environment.root),) if environment else ())),
                ),
            )
            text, unreadable = read_report(report_file, "the ExUnit report")
        return result, exunit.parse_report(text or "", workspace, runnable), unreadable


def _silent_report(requested: str, result: shell.CommandResult) -> TestReport:
    """The report of a file the run said nothing about: no test, or a failure before tests."""
    output = output_tail(result)
    if result.ok:
        return TestReport(output_tail=tail(f"no test ran from {requested}\n{output}".rstrip()))
    reason = f"mix test exited with status {result.returncode} before running {requested}"
    return TestReport(errors=1, output_tail=tail(f"{reason}\n{output}".rstrip()))


def _deps_path(environment: Environment | None) -> dict[str, str]:
    """``MIX_DEPS_PATH`` of the target's environment, if it has one."""
    deps = environment.variables.get("MIX_DEPS_PATH") if environment else None
    return {"MIX_DEPS_PATH": deps} if deps else {}
