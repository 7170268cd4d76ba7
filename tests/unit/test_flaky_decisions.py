"""Flaky new tests: which are checked, the verdict, the setting, and taking one out of a file."""

from __future__ import annotations

import pytest

from ctworkflow import errors
from ctworkflow.domain import flakiness
from ctworkflow.domain.flakiness import FlakyTest, Run
from ctworkflow.domain.model import TestReport
from ctworkflow.domain.repository import python_tests

TEST_FILE = '''\
"""Tests of the shop."""

import pytest

from shop import cart  # the module under test


@pytest.fixture
def basket():
    return cart.Basket()


def test_total_of_an_empty_basket(basket):
    assert basket.total() == 0


# Order matters here, so it is flaky.
@pytest.mark.parametrize(
    "count",
    [1, 2],
)
def test_flaky(basket, count):
    assert cart.COUNTER


class TestDiscounts:
    """Discounts."""

    def test_ten_percent(self, basket):
        assert basket.discount(10) == 0

    @pytest.mark.slow
    async def test_flaky_too(self):  # trailing comment
        assert cart.COUNTER

    def test_none(self, basket):
        assert basket.discount(0) == 0


class TestOnlyFlaky:
    def test_alone(self):
        assert cart.COUNTER


def test_last():
    assert True
'''


def _without(text: str, *snippets: str) -> str:
    for snippet in snippets:
        assert snippet in text
        text = text.replace(snippet, "", 1)
    return text


def test_a_flaky_parametrized_test_goes_with_its_decorators_and_nothing_else() -> None:
    kept = python_tests.remove(TEST_FILE, [python_tests.function_of("test_flaky[2]")])

    # Its comment line above stays: it is not part of the function.
    assert kept == _without(
        TEST_FILE,
        '@pytest.mark.parametrize(\n    "count",\n    [1, 2],\n)\n'
        "def test_flaky(basket, count):\n    assert cart.COUNTER\n",
    )


def test_a_flaky_method_goes_and_its_class_and_siblings_stay() -> None:
    kept = python_tests.remove(TEST_FILE, ["TestDiscounts::test_flaky_too"])

    assert kept == _without(
        TEST_FILE,
        "    @pytest.mark.slow\n    async def test_flaky_too(self):  # trailing comment\n"
        "        assert cart.COUNTER\n",
    )
    assert set(python_tests.definitions(kept)) >= {
        "TestDiscounts::test_ten_percent",
        "TestDiscounts::test_none",
        "test_flaky",
    }


def test_a_class_left_empty_goes_with_its_last_test() -> None:
    kept = python_tests.remove(TEST_FILE, ["TestOnlyFlaky::test_alone"])

    assert kept == _without(
        TEST_FILE, "class TestOnlyFlaky:\n    def test_alone(self):\n        assert cart.COUNTER\n"
    )


def test_windows_line_ends_and_the_other_bytes_are_kept() -> None:
    text = "def test_a():\r\n    pass\r\n\r\n\r\ndef test_b():\r\n    pass\r\n"

    assert python_tests.remove(text, ["test_b"]) == "def test_a():\r\n    pass\r\n\r\n\r\n"


@pytest.mark.parametrize(
    ("text", "name", "why"),
    [
        ("def test_a():\n    pass\n", "test_missing", "not a function defined"),
        ("class TestA:\n    pass\n", "TestA", "not a function defined"),
        ("if True:\n    def test_a():\n        pass\n", "test_a", "not a function defined"),
    ],
)
def test_what_cannot_be_taken_out_is_refused(text: str, name: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        python_tests.remove(text, [name])


def test_only_new_tests_and_changed_ones_that_passed_are_checked() -> None:
    base = {"test_old": "passed", "test_changed": "passed", "test_was_failing": "failed"}
    now = {
        "test_old": "passed",
        "test_changed": "passed",
        "test_new[1]": "passed",
        "test_new_skipped": "skipped",
        "test_was_failing": "passed",
    }

    checked = flakiness.under_check(base, now, {"test_changed"}, python_tests.function_of)

    assert checked == ["test_changed", "test_new[1]"]
    # With no file at the base, every passing test is new.
    assert flakiness.under_check(None, now, set(), python_tests.function_of) == [
        "test_old",
        "test_changed",
        "test_new[1]",
        "test_was_failing",
    ]


def test_a_test_failing_one_run_is_flaky_and_only_a_new_one_is_dropped() -> None:
    output = (
        "tests.test_shop::test_new failure: assert []\n"
        ">       assert cart.COUNTER\nE       assert []\n\n"
        "tests.test_shop::test_old failure: boom\nE   boom"
    )
    runs = [
        Run(label="random order, seed 1", cases={"test_new": "passed", "test_old": "passed"}),
        Run(
            label="random order, seed 2",
            cases={"test_new": "failed", "test_old": "failed", "test_good": "passed"},
            output=output,
        ),
        Run(label="alone", cases={"test_new": "error"}, output=output),
        Run(label="alone", cases={"test_good": "passed"}),
    ]

    flaky = flakiness.judge(["test_good", "test_new", "test_old"], runs, {"test_old": "passed"})

    assert flaky == [
        FlakyTest(
            test="test_new",
            failed_runs=2,
            runs=3,
            failed_in=("random order, seed 2", "alone"),
            line="E       assert []",
            dropped=True,
        ),
        FlakyTest(
            test="test_old",
            failed_runs=1,
            runs=2,
            failed_in=("random order, seed 2",),
            line="E   boom",
            dropped=False,
        ),
    ]
    told = flakiness.feedback("tests/test_shop.py", flaky)
    assert told is not None
    assert "dropped from the file:\n- test_new: failed 2 of 3 runs" in told
    assert "(kept, not yours to remove):\n- test_old" in told


def test_the_report_keeps_what_the_check_found() -> None:
    flaky = FlakyTest(
        test="test_new", failed_runs=1, runs=6, failed_in=("alone",), line="E x", dropped=True
    )
    report = TestReport(collected=2, passed=2, repeated_runs=5, alone_runs=1, flaky=(flaky,))

    document = report.to_json()

    assert document["flaky"] == [
        {
            "test": "test_new",
            "failed_runs": 1,
            "runs": 6,
            "failed_in": ["alone"],
            "line": "E x",
            "dropped": True,
        }
    ]
    assert TestReport.from_json(document) == report
    assert "flaky" not in TestReport(collected=1, passed=1).to_json()


def test_seeds_differ_and_are_reproducible() -> None:
    seeds = flakiness.seeds("child:digest", 5)

    assert len(set(seeds)) == 5
    assert seeds == flakiness.seeds("child:digest", 5)
    assert seeds != flakiness.seeds("child:other", 5)


@pytest.mark.parametrize("value", [-1, 21, 2.5, "5", True, None])
def test_a_bad_flaky_runs_setting_is_refused_in_one_line(value: object) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        flakiness.runs_setting({"flaky_runs": value})

    assert "\n" not in str(refused.value)
    assert "flaky_runs" in str(refused.value)


def test_the_setting_defaults_to_five_runs_and_zero_turns_it_off() -> None:
    assert flakiness.runs_setting({}) == 5
    assert flakiness.runs_setting({"flaky_runs": 0}) == 0


def test_the_case_a_run_ran_first_is_its_first_that_was_not_skipped() -> None:
    ran = Run(label="r", cases={"test_left_out": "skipped", "test_b": "failed", "test_a": "passed"})

    assert flakiness.first_case(ran) == "test_b"
    assert flakiness.first_case(Run(label="crashed", cases={})) is None
