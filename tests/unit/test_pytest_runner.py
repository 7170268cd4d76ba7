"""The pytest runner: one real pytest process, one report per requested file."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.runners.pytest_runner import PytestRunner
from ctworkflow.runners.registry import get_runner


def write(workspace: Path, relative: str, source: str) -> str:
    """Write a file in the workspace and return its relative path."""
    path = workspace / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return relative


PASSING = """\
def test_one():
    assert 1 + 1 == 2


def test_two():
    assert "a".upper() == "A"
"""

MIXED = """\
import pytest


def test_passes():
    assert True


def test_fails():
    assert 6 * 7 == 41, "arithmetic is broken"


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


class TestGroup:
    def test_in_a_class(self):
        assert True
"""


def test_two_files_in_one_run_are_reported_separately(tmp_path: Path) -> None:
    first = write(tmp_path, "tests/test_first.py", PASSING)
    second = write(tmp_path, "tests/sub/test_second.py", MIXED)

    reports = PytestRunner().run(tmp_path, [first, second], timeout_s=120)

    assert list(reports) == [first, second]
    one, two = reports[first], reports[second]
    assert (one.collected, one.passed, one.failed, one.errors, one.skipped) == (2, 2, 0, 0, 0)
    assert one.all_passed
    assert one.output_tail == ""
    assert (two.collected, two.passed, two.failed, two.errors, two.skipped) == (4, 2, 1, 0, 1)
    assert not two.all_passed
    assert "test_fails" in two.output_tail
    assert "arithmetic is broken" in two.output_tail
    # Every test case by its id within the file, as pytest's node id reads after the path.
    assert one.cases == {"test_one": "passed", "test_two": "passed"}
    assert two.cases == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_skipped": "skipped",
        "TestGroup::test_in_a_class": "passed",
    }


def test_a_file_with_a_syntax_error_reports_an_error_and_leaves_the_other_file_alone(
    tmp_path: Path,
) -> None:
    broken = write(tmp_path, "tests/test_broken.py", "def test_x(:\n    pass\n")
    good = write(tmp_path, "tests/test_good.py", PASSING)

    reports = PytestRunner().run(tmp_path, [broken, good], timeout_s=120)

    assert reports[broken].errors >= 1
    assert reports[broken].collected >= 1
    assert reports[broken].passed == 0
    assert "SyntaxError" in reports[broken].output_tail
    assert reports[good].all_passed
    assert reports[good].collected == 2


def test_a_file_without_tests_reports_nothing_collected(tmp_path: Path) -> None:
    empty = write(tmp_path, "tests/test_empty.py", "VALUE = 1\n")

    report = PytestRunner().run(tmp_path, [empty], timeout_s=120)[empty]

    assert report.collected == 0
    assert not report.all_passed
    assert report.output_tail.startswith("no test collected from tests/test_empty.py")


def test_a_missing_file_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    good = write(tmp_path, "tests/test_good.py", PASSING)

    reports = PytestRunner().run(tmp_path, ["tests/test_missing.py", good], timeout_s=120)

    assert reports["tests/test_missing.py"].collected == 0
    assert reports["tests/test_missing.py"].output_tail == (
        "test file tests/test_missing.py does not exist"
    )
    assert reports[good].all_passed


def test_a_path_outside_the_workspace_is_not_run(tmp_path: Path) -> None:
    write(tmp_path, "test_outside.py", PASSING)
    workspace = tmp_path / "ws"
    workspace.mkdir()

    report = PytestRunner().run(workspace, ["../test_outside.py"], timeout_s=120)

    assert report["../test_outside.py"].collected == 0
    assert "outside the workspace" in report["../test_outside.py"].output_tail


def test_tests_can_import_the_workspace_code(tmp_path: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/calc.py", "def triple(x):\n    return 3 * x\n")
    test = write(
        tmp_path,
        "tests/test_calc.py",
        "from pkg.calc import triple\n\n\ndef test_triple():\n    assert triple(2) == 6\n",
    )

    report = PytestRunner().run(tmp_path, [test], timeout_s=120)[test]

    assert report.all_passed
    assert not list(tmp_path.rglob("__pycache__"))
    assert not (tmp_path / ".pytest_cache").exists()


def test_a_run_past_its_time_limit_gives_every_file_an_error(tmp_path: Path) -> None:
    slow = write(
        tmp_path, "tests/test_slow.py", "import time\n\ndef test_slow():\n    time.sleep(60)\n"
    )
    good = write(tmp_path, "tests/test_good.py", PASSING)

    reports = PytestRunner().run(tmp_path, [slow, good], timeout_s=3)

    for path in (slow, good):
        assert reports[path].errors == 1
        assert reports[path].output_tail.startswith("pytest timed out after 3 s")


def test_a_stop_request_ends_the_run(tmp_path: Path) -> None:
    slow = write(
        tmp_path, "tests/test_slow.py", "import time\n\ndef test_slow():\n    time.sleep(60)\n"
    )

    report = PytestRunner().run(tmp_path, [slow], timeout_s=120, should_stop=lambda: True)[slow]

    assert report.errors == 1
    assert report.output_tail.startswith("pytest stopped: session cancelled")


def test_a_python_without_a_program_gives_every_file_an_error(tmp_path: Path) -> None:
    good = write(tmp_path, "tests/test_good.py", PASSING)

    report = PytestRunner(python=str(tmp_path / "no-python")).run(tmp_path, [good], timeout_s=60)

    assert report[good].errors == 1
    assert report[good].output_tail.startswith("pytest exited with status 127 without a report")
    assert "program not found" in report[good].output_tail


def test_the_registry_knows_the_pytest_runner() -> None:
    runner = get_runner("pytest")

    assert isinstance(runner, PytestRunner)
    assert runner.name == "pytest"
    assert runner.python == sys.executable


def test_the_registry_refuses_an_unknown_runner() -> None:
    with pytest.raises(
        errors.InvalidInput, match=r"unknown runner 'nose': expected one of mix, pytest"
    ):
        get_runner("nose")


def test_case_ids_name_parameters_and_nested_classes_and_keep_the_worst_outcome(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "tests/test_ids.py",
        """\
        import pytest


        @pytest.mark.parametrize("x", [1, "a b", "x::y"])
        def test_param(x):
            pass


        class TestOuter:
            class TestInner:
                def test_deep(self):
                    pass


        @pytest.fixture
        def breaks_on_teardown():
            yield
            raise RuntimeError("teardown")


        def test_fails_then_errors(breaks_on_teardown):
            assert False
        """,
    )

    report = PytestRunner().run(tmp_path, [path], timeout_s=120)[path]

    assert report.cases == {
        "test_param[1]": "passed",
        "test_param[a b]": "passed",
        "test_param[x::y]": "passed",
        "TestOuter::TestInner::test_deep": "passed",
        "test_fails_then_errors": "error",
    }
    assert report.passing_ids() == {
        "test_param[1]",
        "test_param[a b]",
        "test_param[x::y]",
        "TestOuter::TestInner::test_deep",
    }


ORDER_DEPENDENT = """\
RAN = []


def test_first():
    RAN.append(1)


def test_needs_first():
    assert RAN, "test_first did not run before"


def test_other():
    assert True
"""


def test_chosen_cases_run_alone_or_in_an_order_drawn_from_a_seed(tmp_path: Path) -> None:
    path = write(tmp_path, "tests/test_order.py", ORDER_DEPENDENT)
    runner = PytestRunner()

    alone = runner.run_cases(tmp_path, path, ["test_needs_first"], seed=None, timeout_s=120)
    shuffled = [
        runner.run_cases(
            tmp_path, path, ["test_first", "test_needs_first"], seed=seed, timeout_s=120
        )
        for seed in (0, 1)
    ]

    # Alone, only the chosen test runs, and what it needs from another test is not there.
    assert alone.cases == {"test_needs_first": "failed"}
    assert "test_first did not run before" in alone.output_tail
    # Runs in random order hold only the chosen tests, and one of these seeds puts the
    # dependent first (the worker's interpreter has no pytest-randomly: the runner shuffles).
    assert all(set(run.cases) == {"test_first", "test_needs_first"} for run in shuffled)
    outcomes = {run.cases["test_needs_first"] for run in shuffled}
    assert outcomes == {"passed", "failed"}
    # The file's own runs keep its order whatever is installed.
    again = runner.run(tmp_path, [path], timeout_s=120)[path]
    assert again.all_passed
