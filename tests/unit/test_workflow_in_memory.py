"""The workflow's decisions on the in-memory kit: the real steps, no server.

Each test runs :mod:`ctworkflow.workflow`'s steps (initialize, spawn, the component runs,
validation, finalize) on :class:`ctworkflow.testing.harness.Harness`: an in-memory database,
git remote and clock, a scripted agent and a runner that reads verdicts from the test file.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from ctworkflow.agents.base import AgentRequest
from ctworkflow.domain.states import ParentStep, ResultStatus, SessionStatus
from ctworkflow.services import sessions
from ctworkflow.testing.doubles import verdict_file
from ctworkflow.testing.harness import REMOTE, SHOP, Harness
from ctworkflow.workflow import component, steps

ITEMS, TOTALS = "shop.cart.items", "shop.cart.totals"
ITEMS_TEST = "tests/cart/test_items.py"


def spawn_outcomes(h: Harness, session_id: uuid.UUID) -> list[tuple[int, ResultStatus | None]]:
    """Each fan-out round's attempt and verdict."""
    return [
        (i.attempt, i.outcome.status if i.outcome else None)
        for i in h.interactions(session_id)
        if i.step == ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS
    ]


def commits_pushed(h: Harness) -> list[str]:
    """The commits pushed onto the session's branch besides its creation at the base."""
    return [p.commit for p in h.git.pushes if p.commit != h.base]


def test_a_component_that_fails_round_one_gets_its_failure_as_feedback_and_passes_round_two(
    tmp_path: Path,
) -> None:
    # Given an agent whose first test file for one component fails, and whose second passes
    h = Harness(tmp_path)
    h.agent.plan[ITEMS] = [verdict_file("PASS", "FAIL"), verdict_file("PASS", "PASS")]
    session_id = h.start()

    # When the session runs to its end
    h.run()

    # Then round 1 failed, round 2 passed, and the session completed with one commit
    session = h.session(session_id)
    assert session.status is SessionStatus.COMPLETE
    assert spawn_outcomes(h, session_id) == [(1, ResultStatus.ERROR), (2, ResultStatus.OK)]
    first, second = h.agent.calls_for(ITEMS)
    assert first.feedback is None
    assert second.feedback is not None and "FAILED test_2" in second.feedback
    # the component that passed round 1 kept its artifact and did not run again
    assert len(h.agent.calls_for(TOTALS)) == 1
    [commit] = commits_pushed(h)
    assert h.git.remote_head(REMOTE, str(session.branch_name)) == commit
    assert session.pushed_commit == commit
    files = h.git.commits[commit].files
    assert files[ITEMS_TEST] == verdict_file("PASS", "PASS")
    assert "tests/cart/test_totals.py" in files


def test_a_component_that_fails_every_round_fails_the_session_after_the_last_round(
    tmp_path: Path,
) -> None:
    # Given an agent that never writes a passing test file for one component
    h = Harness(tmp_path)
    h.agent.plan[ITEMS] = [verdict_file("FAIL")]
    session_id = h.start(max_attempts=2)

    # When the session runs
    h.run()

    # Then both rounds ran, the session failed naming the component, and nothing was pushed
    session = h.session(session_id)
    assert session.status is SessionStatus.FAILED
    assert session.error is not None
    assert "gave up after 2 attempts" in session.error and ITEMS in session.error
    assert spawn_outcomes(h, session_id) == [(1, ResultStatus.ERROR), (2, ResultStatus.ERROR)]
    assert len(h.agent.calls_for(ITEMS)) == 2
    assert commits_pushed(h) == []
    # and the branch it created, left empty, is deleted again
    assert h.git.remote_head(REMOTE, str(session.branch_name)) is None


def test_a_failure_no_round_can_change_fails_the_session_after_one_round(
    tmp_path: Path,
) -> None:
    # Given a component whose source file is not in the repository
    h = Harness(tmp_path, {k: v for k, v in SHOP.items() if k != "shop/cart/items.py"})
    session_id = h.start(max_attempts=3)

    # When the session runs
    h.run()

    # Then it fails after its first round, the agent never ran for that component, and the
    # child is marked so no later round would run it again
    session = h.session(session_id)
    assert session.status is SessionStatus.FAILED
    assert session.error is not None and "shop/cart/items.py does not exist" in session.error
    assert spawn_outcomes(h, session_id) == [(1, ResultStatus.ERROR)]
    assert h.agent.calls_for(ITEMS) == [] and len(h.agent.calls_for(TOTALS)) == 1
    items = next(c for c in h.children(session_id) if c.component_id == h.components[0].id)
    assert items.state.permanent_failure


def test_every_step_delivered_twice_has_one_effect(tmp_path: Path) -> None:
    # Given a session whose branch was created
    h = Harness(tmp_path)
    session_id = h.start()
    h.deliver(h.dispatcher.sent.pop(0))  # initialize
    [spawn] = h.dispatcher.sent
    assert spawn.step == ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS
    h.dispatcher.sent.clear()

    # When the spawn, each component run, the chord callback and finalize are all delivered
    # twice
    fan_out = steps.spawn.spawn(h.scope, session_id, 1, h.deps)
    twin = steps.spawn.spawn(h.scope, session_id, 1, h.deps)  # its round not judged yet: sent again
    assert fan_out is not None and twin is not None
    assert twin.run_ids == fan_out.run_ids and len(h.children(session_id)) == 2
    for child_id in fan_out.run_ids:
        first = component.run_component(h.scope, child_id, 1, h.deps)
        again = component.run_component(h.scope, child_id, 1, h.deps)
        assert first == again
    interactions = {c.id: len(h.interactions(c.id)) for c in h.children(session_id)}
    assert h.validate(session_id, 1) is steps.validate.Verdict.RECORDED
    assert h.validate(session_id, 1) is steps.validate.Verdict.IGNORED
    [finalize] = h.dispatcher.sent
    assert finalize.step == ParentStep.FINALIZE
    h.deliver(finalize)
    h.deliver(finalize)

    # Then each component's agent ran once, each run recorded once, and one commit was pushed
    assert h.session(session_id).status is SessionStatus.COMPLETE
    assert [len(h.agent.calls_for(name)) for name in (ITEMS, TOTALS)] == [1, 1]
    assert {c.id: len(h.interactions(c.id)) for c in h.children(session_id)} == interactions
    assert len(h.db.tables.artifacts) == 2
    assert len(commits_pushed(h)) == 1


def test_a_cancel_during_a_round_stops_the_running_component_and_records_nothing_more(
    tmp_path: Path,
) -> None:
    # Given a session cancelled while its first component's agent writes tests
    h = Harness(tmp_path)
    session_id = h.start()

    def cancel(request: AgentRequest) -> None:
        with h.db() as uow:
            sessions.cancel_session(uow, h.scope, session_id)
        h.clock.advance(component.STOP_CHECK_INTERVAL_S + 1)  # the run's next stop check

    h.agent.during = cancel

    # When the session's messages are delivered
    h.run()

    # Then the session and its children are cancelled, the second component never started,
    # no artifact was stored, nothing was committed, and the empty branch was deleted
    session = h.session(session_id)
    assert session.status is SessionStatus.CANCELLED
    assert {c.status for c in h.children(session_id)} == {SessionStatus.CANCELLED}
    assert len(h.agent.requests) == 1
    assert h.db.tables.artifacts == {}
    assert ParentStep.FINALIZE not in {i.step for i in h.interactions(session_id)}
    assert commits_pushed(h) == []
    assert h.git.remote_head(REMOTE, str(session.branch_name)) is None


def test_a_run_whose_lease_expired_is_taken_over_by_another_delivery(tmp_path: Path) -> None:
    # Given a component run that falls silent past its lease in the middle of its agent call,
    # before its first lease renewal, while the round is delivered again to another worker
    h = Harness(tmp_path)
    session_id = h.start()
    silent: list[AgentRequest] = []
    taken_over: list[object] = []

    def fall_silent(request: AgentRequest) -> None:
        if silent or request.module_name != ITEMS:
            return
        silent.append(request)
        child = next(c for c in h.children(session_id) if c.lease_owner)
        h.clock.advance(h.deps.settings.lease_ttl_s + 1)
        taken_over.append(component.run_component(h.scope, child.id, 1, h.deps))

    h.agent.during = fall_silent

    # When the session runs
    h.run()

    # Then the second delivery took the lease over (a worker loss), ran the component to its
    # end, and the silent run recorded nothing: its steps were in its journal, which only a
    # renewal or the end of a run that still holds its lease writes; one artifact, one commit
    [result] = taken_over
    assert isinstance(result, dict) and result["status"] == SessionStatus.COMPLETE
    items = next(c for c in h.children(session_id) if c.component_id == h.components[0].id)
    assert items.worker_losses == 1
    assert items.status is SessionStatus.COMPLETE and items.lease_owner is None
    assert [k for k in h.db.tables.artifacts if k[0] == items.id] == [(items.id, 1)]
    history = h.interactions(items.id)
    assert [(i.step, i.attempt) for i in history] == [
        ("initialize", 1),
        ("generate_tests", 1),
        ("run_tests", 1),
        ("finalize", 1),
    ]
    assert {i.outcome.status if i.outcome else None for i in history} == {ResultStatus.OK}
    assert h.session(session_id).status is SessionStatus.COMPLETE
    assert len(commits_pushed(h)) == 1


def test_finalize_lands_a_component_removed_from_the_context_after_its_round_passed(
    tmp_path: Path,
) -> None:
    # Given a session whose round passed, and one of its components removed from the code since
    h = Harness(tmp_path)
    session_id = h.start()
    while h.dispatcher.sent[0].step != ParentStep.FINALIZE:
        h.deliver(h.dispatcher.sent.pop(0))
    context = h.session(session_id).component_id
    with h.db() as uow:
        (items,) = (
            c for c in uow.catalog.child_components(h.scope, context) if c.module_name == ITEMS
        )
        uow.catalog.update_component(h.scope, items.id, removed_at=h.clock.now())

    # When finalize runs
    h.run()

    # Then what passed lands, that component's test file and name included
    session = h.session(session_id)
    assert session.status is SessionStatus.COMPLETE, session.error
    (commit,) = commits_pushed(h)
    assert ITEMS_TEST in h.git.commits[commit].files
    assert ITEMS in h.git.commits[commit].message


def test_finalize_never_overwrites_a_branch_someone_else_moved(tmp_path: Path) -> None:
    # Given a session whose round passed, and someone else's push to its branch meanwhile
    h = Harness(tmp_path)
    session_id = h.start()
    while h.dispatcher.sent[0].step != ParentStep.FINALIZE:
        h.deliver(h.dispatcher.sent.pop(0))
    branch = str(h.session(session_id).branch_name)
    theirs = h.git.add_commit({"README.md": "theirs\n"}, parent=h.base, message="their work\n")
    h.git.move_branch(REMOTE, branch, theirs)

    # When finalize runs
    h.run()

    # Then the session fails saying so, and the branch still holds their commit
    session = h.session(session_id)
    assert session.status is SessionStatus.FAILED
    assert session.error is not None and "not overwriting" in session.error
    assert h.git.remote_head(REMOTE, branch) == theirs
    assert commits_pushed(h) == [] and session.pushed_commit is None
