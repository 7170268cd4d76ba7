"""``finalize: passing`` on the in-memory kit: the real steps, no server.

Under the project's ``passing`` policy a context session whose rounds cannot make one component
pass lands the others' test files and says which component failed and why; the default ``all``
fails the same session and pushes nothing.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.domain import landing
from ctworkflow.domain.states import ParentStep, ResultStatus, SessionStatus
from ctworkflow.testing.doubles import verdict_file
from ctworkflow.testing.harness import REMOTE, SHOP, Harness

ITEMS, TOTALS = "shop.cart.items", "shop.cart.totals"
ITEMS_TEST, TOTALS_TEST = "tests/cart/test_items.py", "tests/cart/test_totals.py"
PASSING = {"finalize": "passing"}


def spawn_outcomes(h: Harness, session_id: uuid.UUID) -> list[tuple[int, ResultStatus | None]]:
    return [
        (i.attempt, i.outcome.status if i.outcome else None)
        for i in h.interactions(session_id)
        if i.step == ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS
    ]


def pushed(h: Harness) -> list[str]:
    return [p.commit for p in h.git.pushes if p.commit != h.base]


def outcome(h: Harness, session_id: uuid.UUID) -> landing.SessionOutcome | None:
    session = h.session(session_id)
    children = h.children(session_id)
    with h.db() as uow:
        components = uow.catalog.components_by_id(h.scope, [c.component_id for c in children])
        artifacts = uow.sessions.latest_artifacts(h.scope, [c.id for c in children])
    return landing.outcome_of(session, children, components, artifacts)


def test_passing_lands_the_components_that_passed_after_the_rounds_are_spent(
    tmp_path: Path,
) -> None:
    # Given a project that lands what passed, and a component whose tests never pass
    h = Harness(tmp_path, project_settings=PASSING)
    h.agent.plan[ITEMS] = [verdict_file("FAIL")]
    session_id = h.start(max_attempts=2)

    h.run()

    # Then both rounds ran, only the failing component ran again, and the session completed
    session = h.session(session_id)
    assert session.status is SessionStatus.COMPLETE, session.error
    assert spawn_outcomes(h, session_id) == [(1, ResultStatus.ERROR), (2, ResultStatus.OK)]
    assert len(h.agent.calls_for(ITEMS)) == 2 and len(h.agent.calls_for(TOTALS)) == 1
    # with one commit holding the passing component's file and not the failing one's
    [commit] = pushed(h)
    assert session.pushed_commit == commit
    assert h.git.remote_head(REMOTE, str(session.branch_name)) == commit
    files = h.git.commits[commit].files
    assert TOTALS_TEST in files and ITEMS_TEST not in files
    message = h.git.commits[commit].message
    assert "Not landed" in message and ITEMS in message.split("Not landed")[1]
    # and its outcome names what landed, what failed and why
    found = outcome(h, session_id)
    assert found is not None and found.partial
    assert [c.module_name for c in found.landed] == [TOTALS]
    assert [c.test_path for c in found.landed] == [TOTALS_TEST]
    [failed] = found.failed
    assert failed.module_name == ITEMS and "FAILED" in failed.reason


def test_all_fails_the_same_session_and_pushes_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.agent.plan[ITEMS] = [verdict_file("FAIL")]
    session_id = h.start(max_attempts=2)

    h.run()

    session = h.session(session_id)
    assert session.status is SessionStatus.FAILED
    assert pushed(h) == []
    found = outcome(h, session_id)
    assert found is not None and not found.partial and found.landed == ()
    assert [c.module_name for c in found.failed] == [ITEMS]


def test_passing_lands_at_once_when_every_failure_left_is_permanent(tmp_path: Path) -> None:
    # Given a component whose source file is not in the repository: no round can change it
    files = {k: v for k, v in SHOP.items() if k != "shop/cart/items.py"}
    h = Harness(tmp_path, files, project_settings=PASSING)
    session_id = h.start(max_attempts=3)

    h.run()

    session = h.session(session_id)
    assert session.status is SessionStatus.COMPLETE, session.error
    assert spawn_outcomes(h, session_id) == [(1, ResultStatus.OK)]
    [commit] = pushed(h)
    assert TOTALS_TEST in h.git.commits[commit].files
    found = outcome(h, session_id)
    assert found is not None and found.partial
    [failed] = found.failed
    assert "shop/cart/items.py does not exist" in failed.reason


def test_passing_with_no_component_passing_fails_and_pushes_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path, project_settings=PASSING)
    h.agent.plan[ITEMS] = [verdict_file("FAIL")]
    h.agent.plan[TOTALS] = [verdict_file("FAIL")]
    session_id = h.start(max_attempts=2)

    h.run()

    session = h.session(session_id)
    assert session.status is SessionStatus.FAILED
    assert session.error is not None and "2 of 2 components did not pass" in session.error
    assert pushed(h) == []
    assert h.git.remote_head(REMOTE, str(session.branch_name)) is None


def test_passing_retries_a_fixable_failure_before_landing(tmp_path: Path) -> None:
    # A component that fails round one and passes round two lands with the other one.
    h = Harness(tmp_path, project_settings=PASSING)
    h.agent.plan[ITEMS] = [verdict_file("FAIL"), verdict_file("PASS")]
    session_id = h.start(max_attempts=3)

    h.run()

    session = h.session(session_id)
    assert session.status is SessionStatus.COMPLETE
    assert spawn_outcomes(h, session_id) == [(1, ResultStatus.ERROR), (2, ResultStatus.OK)]
    [commit] = pushed(h)
    assert {ITEMS_TEST, TOTALS_TEST} <= set(h.git.commits[commit].files)
    found = outcome(h, session_id)
    assert found is not None and not found.partial and found.failed == ()


@pytest.mark.parametrize("value", ["some", "ALL", 1, None, ["passing"]])
def test_an_unknown_finalize_policy_is_refused_with_one_line(value: object) -> None:
    with pytest.raises(errors.InvalidInput) as raised:
        landing.check_setting(value)
    assert str(raised.value) == f"setting finalize must be one of all, passing, not {value!r}"


def test_the_policy_defaults_to_all() -> None:
    assert landing.policy_of({}) is landing.FinalizePolicy.ALL
    assert landing.policy_of(PASSING) is landing.FinalizePolicy.PASSING
