"""The pure decisions that keep existing tests: the regression gate and validation's use of it."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctworkflow.agents.base import AgentRequest, ExistingTests
from ctworkflow.agents.prompt import build_prompt
from ctworkflow.domain import regression, validation
from ctworkflow.domain.model import ArtifactHead, Component, Session, TestReport
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.session_state import SessionState
from ctworkflow.domain.states import ExecutionMode, SessionStatus, SessionType
from ctworkflow.workflow.test_files import digest

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PATH = "tests/accounts/test_user.py"


def report(**cases: str) -> TestReport:
    passed = sum(1 for outcome in cases.values() if outcome == "passed")
    failed = sum(1 for outcome in cases.values() if outcome == "failed")
    return TestReport(collected=len(cases), passed=passed, failed=failed, cases=cases)


def test_a_test_that_passed_at_the_base_and_is_gone_or_broken_is_lost() -> None:
    base = report(test_a="passed", test_b="passed", test_c="passed", test_d="failed")
    after = report(test_a="passed", test_c="failed", test_d="failed", test_new="passed")

    lost = regression.lost_tests(base, after)

    assert lost.gone == ("test_b",)
    assert lost.broken == ("test_c",)
    assert lost.count == 2 and bool(lost)


def test_a_test_skipped_now_that_passed_at_the_base_counts_as_broken() -> None:
    lost = regression.lost_tests(report(test_a="passed"), report(test_a="skipped"))

    assert lost.broken == ("test_a",)


def test_tests_that_did_not_pass_at_the_base_are_not_the_gates_business() -> None:
    base = report(test_a="failed", test_b="skipped")

    assert not regression.lost_tests(base, report(test_new="passed"))


def test_without_an_existing_file_nothing_can_be_lost() -> None:
    assert not regression.lost_tests(None, report())


def test_appending_loses_nothing() -> None:
    base = report(test_a="passed", **{"TestK::test_b[1]": "passed"})
    after = report(test_a="passed", test_added="passed", **{"TestK::test_b[1]": "passed"})

    assert not regression.lost_tests(base, after)


def test_the_message_names_the_lost_tests_and_cuts_a_long_list() -> None:
    base = report(**{f"test_{i:02}": "passed" for i in range(30)})
    after = report(test_00="failed")

    message = regression.describe(PATH, regression.lost_tests(base, after), base)

    assert message.startswith(f"lost 30 of the 30 existing tests of {PATH} that passed at the base")
    assert "gone: test_01, test_02" in message and "and 9 more" in message
    assert "broken: test_00" in message
    assert "\n" not in message


def test_the_cases_of_a_parametrized_test_are_named_once() -> None:
    base = report(**{"test_p[1]": "passed", "test_p[2]": "passed", "test_q[x]": "passed"})

    message = regression.describe(PATH, regression.lost_tests(base, report()), base)

    assert message.endswith("(gone: test_p (2 cases), test_q[x])")


def test_a_kept_file_is_reported_with_its_count() -> None:
    assert regression.kept_summary(report(**{f"t{i}": "passed" for i in range(76)})) == (
        "kept the existing 76 tests; all pass"
    )


def test_a_report_keeps_its_cases_through_json() -> None:
    original = report(test_a="passed", test_b="failed")

    assert TestReport.from_json(original.to_json()) == original
    assert TestReport.from_json({"collected": 1, "passed": 1}).cases == {}


# -- validation ------------------------------------------------------------------------------


def component(module: str = "shop.accounts.user") -> Component:
    return Component(
        id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        parent_id=uuid.uuid4(),
        name=module.rsplit(".", 1)[-1],
        module_name=module,
        type="module",
        priority=0,
        created_at=NOW,
    )


def child(of: Component, status: SessionStatus, **state: Any) -> Session:
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
        state=SessionState.from_json(state),
        attempt=1,
        max_attempts=3,
        idempotency_key=None,
        branch_name=None,
        base_commit=None,
        error="source file shop/accounts/user.py does not exist"
        if status is SessionStatus.FAILED
        else None,
        created_at=NOW,
        updated_at=NOW,
        completed_at=None,
    )


def artifact(of: Session, content: str = "def test_a(): pass\n") -> ArtifactHead:
    return ArtifactHead(
        id=uuid.uuid4(), session_id=of.id, test_path=PATH, digest=digest(content), size=len(content)
    )


def test_validation_fails_a_component_whose_change_lost_tests_naming_them() -> None:
    # Given: the child says complete, and the orchestrator's own runs disagree.
    user = component()
    done = child(user, SessionStatus.COMPLETE)
    made = artifact(done)
    base = {PATH: report(test_a="passed", test_b="passed")}
    after = {PATH: report(test_b="passed", test_new="passed")}

    (failure,) = validation.disproved([user], [done.round_child], [made], after, base)

    assert failure.module_name == "shop.accounts.user" and not failure.permanent
    assert failure.reason.splitlines()[0].startswith(f"lost 1 of the 2 existing tests of {PATH}")
    assert "gone: test_a" in failure.reason


def test_validation_passes_a_component_that_kept_and_added() -> None:
    user = component()
    done = child(user, SessionStatus.COMPLETE)
    base = {PATH: report(test_a="passed")}
    after = {PATH: report(test_a="passed", test_new="passed")}

    assert validation.disproved([user], [done.round_child], [artifact(done)], after, base) == []


def test_a_kept_file_is_the_one_whose_content_is_the_bases() -> None:
    user, other = component(), component("shop.accounts.other")
    kept_child, changed_child = (
        child(user, SessionStatus.COMPLETE),
        child(other, SessionStatus.COMPLETE),
    )
    kept = artifact(kept_child, "same\n")
    changed = dataclasses.replace(artifact(changed_child, "new\n"), test_path="t2.py")

    base = {PATH: digest("same\n"), "t2.py": digest("old\n")}

    assert validation.kept([kept, changed], base) == [kept]


def test_a_complete_child_whose_test_file_is_empty_has_no_test_file() -> None:
    user = component()
    done = child(user, SessionStatus.COMPLETE)

    (failure,), to_run = validation.unverified(
        [user], [done.round_child], {done.id: artifact(done, "")}
    )

    assert failure.reason == "no test file" and to_run == []


def test_a_child_that_failed_permanently_is_a_permanent_failure() -> None:
    user = component()
    failed = child(user, SessionStatus.FAILED, permanent_failure="source file missing")

    (failure,), to_run = validation.unverified([user], [failed.round_child], {})

    assert failure.permanent and to_run == []
    assert failure.to_json()["permanent"] is True


@pytest.mark.parametrize(("tests", "said"), [(1, "with 1 test."), (76, "with 76 tests.")])
def test_the_prompt_tells_the_agent_about_the_existing_file_and_to_keep_it(
    tests: int, said: str
) -> None:
    request = AgentRequest(
        workspace=Path("/nonexistent"),
        component_name="User",
        module_name="shop.accounts.user",
        source_path="shop/accounts/user.py",
        test_path=PATH,
        layout=Layout.PYTHON,
        existing=ExistingTests(path=PATH, tests=tests, content="..."),
    )

    prompt = build_prompt(request)

    assert f"already has a test file, {PATH}, {said}" in prompt
    assert f"Keep every existing test in {PATH}" in prompt
    assert f"Write the tests to {PATH}." not in prompt
    # ... and how the project runs it, in its own environment.
    assert f"The project runs them with `python -m pytest {PATH}`" in prompt
