"""The pure decisions inside the workflow's steps: which changes an agent may make, whether it
kept the existing test file, which test files a commit holds, a taken-over branch, why a test
run failed, a round over its budget, and which components land."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from ctworkflow.domain import branches, budgets, changes, commits, regression
from ctworkflow.domain.model import Artifact, Component, Outcome, Session, TestReport
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.session_state import SessionState
from ctworkflow.domain.states import ExecutionMode, SessionStatus, SessionType

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TEST = "tests/shop/test_cart.py"


# -- the agent's changes ------------------------------------------------------------------------


def test_build_output_is_not_a_change() -> None:
    # Given the paths git reports after a run of pytest
    changed = [TEST, ".pytest_cache/v/cache/nodeids", "shop/__pycache__/cart.cpython-311.pyc"]

    # Then only the test file is a change of the agent's
    assert changes.without_build_output(Layout.PYTHON, changed) == [TEST]


def test_mix_build_folders_are_not_changes_of_a_phoenix_project() -> None:
    changed = ["test/shop/cart_test.exs", "_build/test/lib/shop.beam", "deps/x/mix.exs"]

    assert changes.without_build_output(Layout.PHOENIX, changed) == ["test/shop/cart_test.exs"]


def test_only_the_test_file_may_change_without_a_support_folder() -> None:
    changed = ["shop/cart.py", TEST, "conftest.py"]

    assert changes.outside_allowed(changed, test_path=TEST, support_dir="") == [
        "conftest.py",
        "shop/cart.py",
    ]


def test_files_under_the_support_folder_may_change() -> None:
    changed = [TEST, "tests/support/factories.py", "tests/supporting.py"]

    outside = changes.outside_allowed(changed, test_path=TEST, support_dir="tests/support")

    # Then the folder's files are allowed, and a sibling sharing its prefix is not
    assert outside == ["tests/supporting.py"]


@pytest.mark.parametrize(
    ("changed", "existed", "passes", "kept"),
    [
        ([], True, True, True),  # the existing file, untouched, passes
        ([TEST], True, True, False),  # the agent changed it
        ([], False, True, False),  # there was none to keep
        ([], True, False, False),  # kept, but it does not pass
        (["tests/other.py"], True, True, True),  # another file changed, not the test file
    ],
)
def test_an_existing_test_file_is_kept_only_unchanged_and_passing(
    changed: list[str], existed: bool, passes: bool, kept: bool
) -> None:
    assert changes.kept_existing(TEST, changed, existed=existed, passes=passes) is kept


def test_a_commit_holds_the_test_files_that_changed_and_keeps_the_others() -> None:
    paths = {"tests/b.py", "tests/a.py", "tests/c.py"}

    committed, kept = changes.committed_and_kept(paths, ["tests/c.py", "tests/a.py", "README"])

    assert committed == ["tests/a.py", "tests/c.py"]
    assert kept == ["tests/b.py"]


# -- the branch ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "taken_over"), [(None, False), ("a" * 40, False), ("b" * 40, True)]
)
def test_a_branch_found_away_from_the_base_was_taken_over(
    head: str | None, taken_over: bool
) -> None:
    assert branches.taken_over(head, "a" * 40) is taken_over


# -- a test run's failure -----------------------------------------------------------------------


def test_a_failed_run_says_its_counts_then_the_output() -> None:
    report = TestReport(collected=3, passed=1, failed=2, output_tail="assert 1 == 2\n")

    reason = regression.run_failure(TEST, report, regression.Lost(), None)

    assert reason == "2 failed, 0 errors, 1 passed of 3 collected\nassert 1 == 2"


def test_a_run_that_lost_tests_of_the_base_names_them_first() -> None:
    # Given a base where two tests passed, and a run that passes but lost one of them
    base = TestReport(collected=2, passed=2, cases={"test_a": "passed", "test_b": "passed"})
    after = TestReport(collected=1, passed=1, cases={"test_a": "passed"})
    lost = regression.lost_tests(base, after)

    reason = regression.run_failure(TEST, after, lost, base)

    # Then the reason is the lost tests alone: every test that ran passed
    assert reason == regression.describe(TEST, lost, base)
    assert "test_b" in reason and "collected" not in reason


# -- the budget ---------------------------------------------------------------------------------


def test_a_failed_round_over_budget_is_the_last_and_says_why_first() -> None:
    outcome, give_up = budgets.verdict_within_budget(
        Outcome.error("1 of 2 components failed"), False, "budget spent"
    )

    assert give_up
    assert outcome.error_message == "budget spent; 1 of 2 components failed"


@pytest.mark.parametrize(
    ("outcome", "over"),
    [(Outcome.ok(), "budget spent"), (Outcome.error("1 of 2 components failed"), None)],
)
def test_a_passed_round_or_one_within_budget_is_left_as_judged(
    outcome: Outcome, over: str | None
) -> None:
    for give_up in (False, True):
        assert budgets.verdict_within_budget(outcome, give_up, over) == (outcome, give_up)


# -- what lands ---------------------------------------------------------------------------------


def component(name: str) -> Component:
    return Component(
        id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        parent_id=None,
        name=name.title(),
        module_name=f"shop.{name}",
        type="module",
        priority=0,
        created_at=NOW,
    )


def child(of: Component, status: SessionStatus, error: str | None = None) -> Session:
    return Session(
        id=uuid.uuid4(),
        type=SessionType.COMPONENT_TESTING,
        status=status,
        account_id=of.account_id,
        project_id=of.project_id,
        user_id="u",
        component_id=of.id,
        parent_id=uuid.uuid4(),
        execution_mode=ExecutionMode.AGENTIC,
        environment_type="local",
        agent="scaffold",
        state=SessionState(),
        attempt=1,
        max_attempts=3,
        idempotency_key=None,
        branch_name=None,
        base_commit=None,
        error=error,
        created_at=NOW,
        updated_at=NOW,
        completed_at=None,
    )


def artifact(of: Session, test_path: str) -> Artifact:
    return Artifact(
        id=uuid.uuid4(),
        session_id=of.id,
        attempt=1,
        test_path=test_path,
        content="def test(): pass\n",
        digest="d",
        report=TestReport(collected=1, passed=1),
        created_at=NOW,
    )


def test_complete_children_with_an_artifact_land_and_the_others_are_left_out_with_why() -> None:
    # Given a complete child with a test file, a complete one without, and a failed one
    cart, items, totals = component("cart"), component("items"), component("totals")
    landed = child(cart, SessionStatus.COMPLETE)
    empty = child(items, SessionStatus.COMPLETE)
    failed = child(totals, SessionStatus.FAILED, error="\n  2 failed\nassert 1 == 2")
    cancelled = dataclasses.replace(child(totals, SessionStatus.CANCELLED), error=None)
    children = [c.round_child for c in (landed, empty, failed, cancelled)]
    components = {c.id: c for c in (cart, items, totals)}
    artifacts = {landed.id: artifact(landed, "tests/test_cart.py").head}

    # Then only the first lands, and the not complete ones are named with their first line
    assert commits.landed(children, components, artifacts) == [
        commits.Entry(name="Cart", module_name="shop.cart", test_path="tests/test_cart.py")
    ]
    assert commits.left_out(children, components) == [
        commits.Left(name="Totals", module_name="shop.totals", reason="2 failed"),
        commits.Left(name="Totals", module_name="shop.totals", reason="cancelled"),
    ]
