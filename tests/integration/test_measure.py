"""Coverage and mutants of a component's tests, measured for real: an environment built from
the package index (pytest and coverage.py), every run in the sandbox."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctworkflow.config import get_settings
from ctworkflow.domain import quality
from ctworkflow.domain.repository import environments
from ctworkflow.domain.repository.environments import Environment
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.effects.environments import Environments
from ctworkflow.runners import measure

CALC = '''"""Small arithmetic."""


def clamp(value: int, low: int, high: int) -> int:
    if value < low:
        return low
    if value > high:
        return high
    return value


def sign(x: int) -> str:
    if x > 0:
        return "positive"
    elif x < 0:
        return "negative"
    return "zero"
'''
CALC_TESTS = """from pkg.calc import clamp


def test_clamp_raises_a_low_value() -> None:
    assert clamp(-5, 0, 10) == 0


def test_clamp_keeps_a_value_in_range() -> None:
    assert clamp(5, 0, 10) == 5
"""
COUNTDOWN = '''"""A loop a mutant can make endless."""


def countdown(n: int) -> int:
    while n:
        n -= 1
    return n
'''
COUNTDOWN_TESTS = """from pkg.countdown import countdown


def test_countdown_ends_at_zero() -> None:
    assert countdown(3) == 0
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "checkout"
    files = {
        "pkg/__init__.py": "",
        "pkg/calc.py": CALC,
        "pkg/countdown.py": COUNTDOWN,
        "tests/test_calc.py": CALC_TESTS,
        "tests/test_countdown.py": COUNTDOWN_TESTS,
    }
    for relative, content in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(content)
    return folder


@pytest.fixture
def environment(workspace: Path) -> Iterator[Environment]:
    recipe = environments.detect(Layout.PYTHON, {})  # no packaging: pytest and coverage.py
    with Environments(get_settings()).using(str(uuid.uuid4()), recipe, workspace) as build:
        yield build.environment


def target(workspace: Path, environment: Environment, module: str) -> measure.Target:
    return measure.Target(
        workspace=workspace,
        source_path=f"pkg/{module}.py",
        test_path=f"tests/test_{module}.py",
        environment=environment,
        seed=f"pkg.{module}",
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_coverage_and_mutants_of_a_test_file_and_the_source_left_as_it_was(
    workspace: Path, environment: Environment
) -> None:
    before = digest(workspace / "pkg/calc.py")
    kills: measure.Kills = set()

    found = measure.measure(
        target(workspace, environment, "calc"),
        quality.QualitySettings(),
        timeout_s=60,
        tests_pass=True,
        kills=kills,
    )

    coverage = found["coverage"]
    assert coverage["status"] == "measured"
    assert (coverage["line_percent"], coverage["branch_percent"], coverage["percent"]) == (
        50.0,
        37.5,
        45.0,
    )
    assert coverage["uncovered"] == "8, 13-17"
    assert "13->14" in coverage["missing_branches"]
    mutants = found["mutation"]
    assert mutants["status"] == "measured"
    # Every mutant of the module was judged (fewer than the cap of 40).
    assert mutants["mutants"] == mutants["candidates"] == mutants["killed"] + mutants["survived"]
    assert mutants["score"] == round(100 * mutants["killed"] / mutants["mutants"], 1)
    survivors = {(s["line"], s["original"], s["mutated"]) for s in mutants["surviving"]}
    # Killed: clamp(-5, 0, 10) no longer returns 0 when `return low` returns None.
    assert (6, "return low", "return None") not in survivors
    # Survived: no test reaches sign(), and no test sits on the boundary value == low.
    assert (14, 'return "positive"', "return None") in survivors
    assert (5, "value < low", "(value <= low)") in survivors
    # No mutant was left behind.
    assert digest(workspace / "pkg/calc.py") == before

    # Measured again with the same tests kept (as after a change the regression gate passed),
    # the mutants they killed are not run again, and the figures are the same.
    assert len(kills) == mutants["killed"]
    again = measure.measure(
        target(workspace, environment, "calc"),
        quality.QualitySettings(),
        timeout_s=60,
        tests_pass=True,
        kills=set(kills),
    )["mutation"]
    assert again["reused"] == mutants["killed"]
    assert (again["killed"], again["survived"]) == (mutants["killed"], mutants["survived"])


def test_an_endless_mutant_is_killed_at_its_timeout_and_the_budget_stops_the_rest(
    workspace: Path, environment: Environment
) -> None:
    countdown = target(workspace, environment, "countdown")
    settings = quality.QualitySettings(mutation_timeout_s=2)

    found = measure.measure(countdown, settings, timeout_s=60, tests_pass=True)["mutation"]

    # `n -= 1` → `n += 1` (and `n -= 0`) never end: killed when their time is up; the loop
    # skipped and `return None` fail the test.
    assert (found["mutants"], found["killed"], found["survived"]) == (4, 4, 0)
    assert found["timed_out"] >= 2
    assert found["score"] == 100.0

    budget = quality.QualitySettings(mutation_budget_s=0.2)
    cut = measure.measure(countdown, budget, timeout_s=60, tests_pass=True)["mutation"]

    assert cut["stopped"] == "time budget of 0.2 s spent"
    assert cut["killed"] == 0 and cut["not_run"] == cut["candidates"]
    assert cut["score"] is None
    assert (workspace / "pkg/countdown.py").read_text() == COUNTDOWN
