"""Test-quality figures: coverage.py's JSON read, ranges, settings, the bar and its feedback."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.domain import coverage, quality
from ctworkflow.domain.model import TestReport
from ctworkflow.runners import measure
from ctworkflow.services.catalog import check_project_settings
from ctworkflow.workflow import quality as test_quality

#: What ``coverage json`` wrote for a run of tests/test_calc.py (coverage.py 7, branch on).
REPORT = {
    "meta": {"version": "7.6.1", "branch_coverage": True},
    "files": {
        "pkg/calc.py": {
            "executed_lines": [4, 5, 6, 7, 9, 12],
            "missing_lines": [8, 13, 14, 15, 16, 17],
            "excluded_lines": [],
            "summary": {
                "covered_lines": 6,
                "num_statements": 12,
                "percent_covered": 45.0,
                "missing_lines": 6,
                "num_branches": 8,
                "covered_branches": 3,
                "missing_branches": 5,
                "num_partial_branches": 1,
            },
            "missing_branches": [[7, 8], [13, 14], [13, 15], [15, 16], [15, 17]],
        }
    },
}
SOURCE = "\n".join(f"line {n}" for n in range(1, 21)) + "\n"


def measurement(percent: float, uncovered: str = "8, 13-17") -> dict[str, object]:
    return {
        "coverage": {"status": "measured", "percent": percent, "uncovered": uncovered},
        "mutation": {
            "status": "measured",
            "score": 50.0,
            "survived": 1,
            "surviving": [
                {"line": 5, "operator": "compare", "original": "a < b", "mutated": "(a <= b)"}
            ],
        },
    }


def test_coverage_json_gives_line_branch_and_combined_percentages_and_ranges() -> None:
    figure = coverage.coverage_from_json(REPORT, "pkg/calc.py")

    assert figure["status"] == "measured"
    assert figure["line_percent"] == 50.0
    assert figure["branch_percent"] == 37.5
    assert figure["percent"] == 45.0  # (6 + 3) / (12 + 8)
    assert figure["uncovered"] == "8, 13-17"
    assert figure["missing_branches"] == ["7->8", "13->14", "13->15", "15->16", "15->17"]


def test_coverage_json_is_matched_by_the_end_of_an_absolute_path() -> None:
    absolute = {"files": {"/tmp/ws/pkg/calc.py": REPORT["files"]["pkg/calc.py"]}}  # type: ignore[index]

    assert coverage.coverage_from_json(absolute, "pkg/calc.py")["percent"] == 45.0
    assert coverage.coverage_from_json(absolute, "calc.py")["percent"] == 45.0
    missing = coverage.coverage_from_json(absolute, "pkg/other.py")
    assert missing == {
        "status": "unavailable",
        "reason": "coverage.py measured nothing of pkg/other.py",
    }


def test_ranges_run_over_statements_not_blank_lines() -> None:
    statements = [1, 2, 5, 6, 9, 12, 13]

    assert coverage.ranges(statements, [2, 5, 6, 12]) == "2-6, 12"
    assert coverage.ranges(statements, [13]) == "13"
    assert coverage.ranges(statements, []) == ""
    assert quality.parse_ranges("2-6, 12") == [(2, 6), (12, 12)]


def test_a_file_no_test_imported_is_reported_as_not_covered_at_all() -> None:
    statements = coverage.statement_lines('"""Doc."""\n\n\ndef f():\n    return 1\n')
    figure = coverage.never_ran(statements)

    assert figure["percent"] == 0.0
    assert figure["uncovered"] == "1-5"


def test_settings_have_defaults_and_take_valid_values() -> None:
    assert quality.settings({}) == quality.QualitySettings(
        min_coverage=None,
        never_lower_coverage=False,
        max_mutants=40,
        mutation_timeout_s=10.0,
        mutation_budget_s=60.0,
    )
    chosen = quality.settings({"min_coverage": 80, "max_mutants": 0, "never_lower_coverage": True})
    assert (chosen.min_coverage, chosen.max_mutants, chosen.never_lower_coverage) == (
        80.0,
        0,
        True,
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"min_coverage": 120}, "setting min_coverage must be a percentage from 0 to 100"),
        ({"min_coverage": -1}, "setting min_coverage must be a percentage from 0 to 100"),
        ({"min_coverage": "80"}, "setting min_coverage must be a percentage from 0 to 100"),
        ({"max_mutants": -1}, "setting max_mutants must be a whole number of 0 or more"),
        ({"max_mutants": 2.5}, "setting max_mutants must be a whole number of 0 or more"),
        ({"never_lower_coverage": "yes"}, "setting never_lower_coverage must be true or false"),
        ({"mutation_timeout_s": 0}, "setting mutation_timeout_s must be a number of seconds"),
        ({"mutation_budget_s": True}, "setting mutation_budget_s must be a number of seconds"),
    ],
)
def test_a_project_with_a_bad_quality_setting_is_refused_in_one_line(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        check_project_settings(settings)

    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_bar_fails_below_min_coverage_and_when_coverage_falls() -> None:
    bar = quality.QualitySettings(min_coverage=80)
    never_lower = quality.QualitySettings(never_lower_coverage=True)

    assert quality.bar_failure(bar, None, measurement(85)) is None
    below = quality.bar_failure(bar, None, measurement(45))
    assert below is not None and "45 %" in below and "min_coverage of 80 %" in below
    assert quality.bar_failure(never_lower, measurement(60), measurement(60)) is None
    fell = quality.bar_failure(never_lower, measurement(60), measurement(55))
    assert fell is not None and "less than the 60 %" in fell
    # Nothing is held up by a figure that could not be taken.
    unmeasured = {"coverage": quality.unavailable("no coverage.py"), "mutation": {}}
    assert quality.bar_failure(bar, None, unmeasured) is None


def test_feedback_shows_uncovered_lines_in_context_and_surviving_mutants() -> None:
    text = quality.feedback("it is low", measurement(45), SOURCE, "pkg/calc.py")

    assert text.startswith("The tests pass, but it is low.")
    assert "Lines of pkg/calc.py no test runs (8, 13-17)" in text
    assert "       7 | line 7" in text  # the line before, for context
    assert "  >    8 | line 8" in text
    assert "  >   17 | line 17" in text
    assert "line 5: a < b -> (a <= b)" in text


def test_feedback_stays_bounded() -> None:
    ranges = ", ".join(str(n) for n in range(1, 2000, 2))
    source = "\n".join("x" * 80 for _ in range(2000)) + "\n"

    text = quality.feedback("it is low", measurement(1, ranges), source, "pkg/big.py")

    assert len(text) <= quality.MAX_FEEDBACK_CHARS
    assert text.endswith("(cut)")


def test_views_get_base_and_after_and_sessions_get_medians() -> None:
    document = {"base": measurement(40), "after": measurement(90, "")}

    head = quality.headline(document)
    assert head["coverage"] == {"base": 40.0, "after": 90.0}
    assert head["mutation"] == {"base": 50.0, "after": 50.0}
    assert quality.arrow(head["coverage"]) == "40→90"
    assert quality.arrow({"base": None, "after": 75.5}) == "75.5"
    assert quality.arrow(quality.headline(None)["coverage"]) == "-"
    medians = quality.medians(
        [
            document,
            {"base": None, "after": measurement(60)},
            {"base": None, "after": measurement(70)},
            None,
        ]
    )
    assert medians == {
        "measured": 3,
        "coverage": {"base": 40.0, "after": 70.0},
        "mutation": {"base": 50.0, "after": 50.0},
    }


def test_a_restored_source_is_checked_byte_for_byte(tmp_path: Path) -> None:
    source = tmp_path / "pkg" / "calc.py"
    source.parent.mkdir()
    source.write_text("x = 1\n")
    digest = hashlib.sha256(b"x = 1\n").hexdigest()

    source.write_text("x = 0\n")  # a mutant left in place
    measure.restore(tmp_path, "pkg/calc.py", "x = 1\n", digest)
    assert source.read_text() == "x = 1\n"

    with pytest.raises(RuntimeError, match="could not be restored"):
        measure.restore(tmp_path, "pkg/calc.py", "x = 2\n", digest)


def test_an_elixir_component_records_why_it_is_not_measured(tmp_path: Path) -> None:
    gauge = test_quality.Gauge(
        runner="mix",
        project_settings={},
        target=measure.Target(
            workspace=tmp_path,
            source_path="lib/shop/user.ex",
            test_path="test/shop/user_test.exs",
            environment=None,
            seed="Shop.User",
        ),
        test_timeout_s=60,
    )

    judged = gauge.judge(TestReport(collected=1, passed=1))

    assert judged.failure is None
    for figure in ("coverage", "mutation"):
        assert judged.measurement[figure]["status"] == "unavailable"
        assert "not measured for Elixir components yet" in judged.measurement[figure]["reason"]
    assert quality.headline(gauge.document())["unavailable"]["coverage"].startswith("not measured")


def test_an_agent_is_given_the_newest_uncovered_lines_of_the_run(tmp_path: Path) -> None:
    gauge = test_quality.Gauge(
        runner="pytest",
        project_settings={},
        target=measure.Target(
            workspace=tmp_path,
            source_path="pkg/calc.py",
            test_path="tests/test_calc.py",
            environment=None,
            seed="pkg.calc",
        ),
        test_timeout_s=60,
    )
    assert gauge.uncovered() == ()

    gauge.base = measurement(40, "8, 13-17")
    assert gauge.uncovered() == ((8, 8), (13, 17))
    gauge.after = measurement(90, "13")
    assert gauge.uncovered() == ((13, 13),)
    gauge.after = {"coverage": quality.unavailable("no coverage.py"), "mutation": {}}
    assert gauge.uncovered() == ()
