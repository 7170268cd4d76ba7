"""The flaky-test check on a real test file with real pytest runs: what is dropped, what is
only reported, and when the round fails instead."""

from __future__ import annotations

from pathlib import Path

from ctworkflow.domain.model import TestReport
from ctworkflow.runners.mix_runner import MixRunner
from ctworkflow.runners.pytest_runner import PytestRunner
from ctworkflow.workflow import flaky
from tests.elixir_support import mix_workspace

PATH = "tests/test_shop.py"

BASE = """\
RAN = []


def test_existing():
    RAN.append("existing")
"""

#: Two new tests that pass only after ``test_existing`` ran in the same process.
BOTH_FLAKY = (
    BASE
    + """

def test_new_needs_existing():
    assert RAN


def test_new_needs_it_too():
    assert RAN
"""
)

#: The existing test changed so that it needs a new one to run first; the new one is sound.
CHANGED_EXISTING = """\
RAN = []


def test_new_sets_it():
    RAN.append("new")


def test_existing():
    assert RAN
"""


def _check(workspace: Path, content: str, *, base: str | None) -> tuple[flaky.Checked, str]:
    test_file = workspace / PATH
    test_file.parent.mkdir(parents=True, exist_ok=True)
    runner = PytestRunner()
    baseline = None
    if base is not None:
        test_file.write_text(base)
        baseline = runner.run(workspace, [PATH], timeout_s=120)[PATH]
    test_file.write_text(content)
    report = runner.run(workspace, [PATH], timeout_s=120)[PATH]
    assert report.all_passed  # the check only runs on a file that passed
    checked = flaky.check(
        flaky.Request(
            runner=runner,
            workspace=workspace,
            test_path=PATH,
            report=report,
            baseline=baseline,
            base_content=base,
            runs=2,
            key="session",
            timeout_s=120,
            max_bytes=1_000_000,
        )
    )
    return checked, test_file.read_text()


def test_when_every_new_test_is_flaky_the_round_fails_and_the_file_stays(tmp_path: Path) -> None:
    checked, after = _check(tmp_path, BOTH_FLAKY, base=BASE)

    assert checked.error is not None
    assert checked.error.startswith(f"every new test of {PATH} is flaky:")
    assert "- test_new_needs_existing: failed" in checked.error
    assert after == BOTH_FLAKY
    assert {t.test for t in checked.report.flaky} == {
        "test_new_needs_existing",
        "test_new_needs_it_too",
    }
    assert not any(t.dropped for t in checked.report.flaky)


def test_a_changed_existing_test_that_turns_flaky_is_reported_not_removed(tmp_path: Path) -> None:
    checked, after = _check(tmp_path, CHANGED_EXISTING, base=BASE)

    assert checked.error is None
    assert after == CHANGED_EXISTING
    (reported,) = checked.report.flaky
    assert reported.test == "test_existing" and not reported.dropped
    assert checked.report.repeated_runs == 2


def test_nothing_is_run_again_when_the_check_is_off(tmp_path: Path) -> None:
    runner = PytestRunner()
    report = TestReport(collected=1, passed=1, cases={"test_new": "passed"})

    checked = flaky.check(
        flaky.Request(
            runner=runner,
            workspace=tmp_path,
            test_path=PATH,
            report=report,
            baseline=None,
            base_content=None,
            runs=0,
            key="session",
            timeout_s=120,
            max_bytes=1_000_000,
        )
    )

    assert checked == flaky.Checked(report=report)


ELIXIR_TESTS = """\
defmodule Demo.OrderTest do
  use ExUnit.Case

  test "sets a flag" do
    :persistent_term.put(:demo_flag, true)
  end

  test "needs the flag" do
    assert :persistent_term.get(:demo_flag, false)
  end
end
"""


def test_a_flaky_new_elixir_test_fails_the_round_and_the_file_stays(tmp_path: Path) -> None:
    path = "test/demo/order_test.exs"
    workspace = mix_workspace(tmp_path / "ws", {path: ELIXIR_TESTS})
    runner = MixRunner(mix_home=tmp_path / "mix")
    report = runner.run(workspace, [path], timeout_s=120)[path]
    # ExUnit draws the first run's order too: take one where the flag is set first.
    for seed in range(1, 20):
        if report.all_passed:
            break
        report = runner.run_cases(workspace, path, list(report.cases), seed=seed, timeout_s=120)
    assert report.all_passed

    checked = flaky.check(
        flaky.Request(
            runner=runner,
            workspace=workspace,
            test_path=path,
            report=report,
            baseline=None,
            base_content=None,
            runs=2,
            key="session",
            timeout_s=120,
            max_bytes=1_000_000,
        )
    )

    assert checked.error is not None
    assert checked.error.startswith(f"flaky new tests in {path} (taken out of Python files only)")
    assert [t.test for t in checked.report.flaky] == ["Demo.OrderTest test needs the flag"]
    assert (workspace / path).read_text() == ELIXIR_TESTS
