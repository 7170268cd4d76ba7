"""The in-memory database keeps the rules the SQL stores keep, so the unit tier's fake cannot
drift: every test here runs on :class:`ctworkflow.testing.store.InMemoryDatabase` and on
:func:`ctworkflow.persistence.db.unit_of_work` over SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ctworkflow import errors, ports
from ctworkflow.domain import model
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.session_state import BranchHead, StatePatch
from ctworkflow.domain.states import ExecutionMode, SessionStatus, SessionType
from ctworkflow.persistence import db, rows
from ctworkflow.persistence.session_store import children as children_store
from ctworkflow.persistence.tables import utcnow
from ctworkflow.testing.clock import FakeClock
from ctworkflow.testing.store import InMemoryDatabase
from tests.conftest import fresh_database


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    """A context session of two children, in one tenant, and a second tenant."""

    transactions: ports.Transactions
    scope: model.Scope
    other: model.Scope
    parent: model.Session
    children: list[model.Session]


def _tenant(uow: Any, name: str) -> tuple[model.Scope, model.Component]:
    """A tenant with a context (through the stores' own set-up methods, which both have)."""
    catalog = uow.catalog
    account = catalog.add_account(name)
    project = catalog.add_project(
        account.id,
        name=name,
        code_repo="https://git.example/r.git",
        layout=Layout.PYTHON,
        default_branch="main",
        settings={},
    )
    scope = model.Scope(account_id=account.id, project_id=project.id)
    context = catalog.add_component(
        scope, name="cart", module_name="shop.cart", type="context", priority=0, parent_id=None
    )
    return scope, context


def _context_session(uow: Any, scope: model.Scope, context_id: uuid.UUID) -> model.Session:
    """A new active context session of ``context_id``."""
    session: model.Session = uow.sessions.add_session(
        scope,
        type=SessionType.CONTEXT_TESTING,
        status=SessionStatus.ACTIVE,
        user_id="user",
        component_id=context_id,
        execution_mode=ExecutionMode.AGENTIC,
        environment_type="local",
        agent="scaffold",
        state={},
        max_attempts=3,
    )
    return session


def _set_up(transactions: ports.Transactions) -> Setup:
    with transactions() as unit:
        uow: Any = unit
        scope, context = _tenant(uow, "first")
        other, _ = _tenant(uow, "second")
        # priorities give the children's order: "b" first, whatever the names say
        ids = [
            uow.catalog.add_component(
                scope,
                name=name,
                module_name=f"shop.cart.{name}",
                type="module",
                priority=priority,
                parent_id=context.id,
            ).id
            for name, priority in (("a", 0), ("b", 5))
        ]
        parent = _context_session(uow, scope, context.id)
        uow.sessions.add_children(
            parent,
            ids,
            execution_mode=ExecutionMode.AGENTIC,
            environment_type="local",
            agent="scaffold",
            max_attempts=3,
        )
        children = uow.sessions.children(scope, parent.id)
    return Setup(
        transactions=transactions, scope=scope, other=other, parent=parent, children=children
    )


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    if request.param == "memory":
        yield _set_up(InMemoryDatabase(FakeClock(utcnow())))
        return
    url = fresh_database(request, request.param, tmp_path)

    def transactions() -> AbstractContextManager[ports.UnitOfWork]:
        return db.unit_of_work(url)

    try:
        yield _set_up(transactions)
    finally:
        db.close_engine(url)


def test_children_are_created_once_and_listed_in_their_components_order(setup: Setup) -> None:
    first, second = setup.children
    with setup.transactions() as uow:
        uow.sessions.add_children(
            setup.parent,
            [first.component_id],
            execution_mode=ExecutionMode.AGENTIC,
            environment_type="local",
            agent="scaffold",
            max_attempts=3,
        )
        again = uow.sessions.children(setup.scope, setup.parent.id)
        components = uow.catalog.components_by_id(setup.scope, [c.component_id for c in again])

    assert [c.id for c in again] == [first.id, second.id]
    assert [components[c.component_id].name for c in again] == ["b", "a"]


def test_a_rounds_children_are_read_with_their_status_and_why_in_the_same_order(
    setup: Setup,
) -> None:
    first, second = setup.children
    with setup.transactions() as uow:
        uow.sessions.update_session(
            setup.scope,
            second.id,
            only_if=SessionStatus.ACTIVE,
            state=StatePatch(permanent_failure="the source file is gone"),
        )
        uow.sessions.set_status(
            setup.scope,
            [second.id],
            expected=SessionStatus.ACTIVE,
            target=SessionStatus.FAILED,
            error="gone",
        )
        read = uow.sessions.round_children(setup.scope, setup.parent.id)
        foreign = uow.sessions.round_children(setup.other, setup.parent.id)

    assert [(c.id, c.status, c.error, c.failed_permanently) for c in read] == [
        (first.id, SessionStatus.ACTIVE, None, False),
        (second.id, SessionStatus.FAILED, "gone", True),
    ]
    assert [c.component_id for c in read] == [first.component_id, second.component_id]
    assert foreign == []


def test_a_status_moves_only_from_the_status_expected_and_only_as_the_table_allows(
    setup: Setup,
) -> None:
    first, second = setup.children
    with setup.transactions() as uow:
        sessions = uow.sessions
        done = sessions.set_status(
            setup.scope, [first.id], expected=SessionStatus.ACTIVE, target=SessionStatus.COMPLETE
        )
        again = sessions.set_status(
            setup.scope, [first.id], expected=SessionStatus.ACTIVE, target=SessionStatus.FAILED
        )
        foreign = sessions.set_status(
            setup.other, [second.id], expected=SessionStatus.ACTIVE, target=SessionStatus.FAILED
        )
        with pytest.raises(errors.InvalidTransition):
            sessions.set_status(
                setup.scope,
                [first.id],
                expected=SessionStatus.COMPLETE,
                target=SessionStatus.ACTIVE,
            )
        ended = sessions.get_session(setup.scope, first.id)
        with pytest.raises(errors.SessionNotFound):
            sessions.get_session(setup.other, first.id)

    assert (done, again, foreign) == ([first.id], [], [])
    assert ended.status is SessionStatus.COMPLETE and ended.completed_at is not None


def test_a_step_has_one_interaction_and_one_outcome_however_often_it_runs(setup: Setup) -> None:
    parent = setup.parent
    command = model.Command(keyword="initialize")
    with setup.transactions() as uow:
        sessions = uow.sessions
        begun = sessions.begin_interaction(
            setup.scope, parent.id, step="initialize", attempt=1, command=command
        )
        twin = sessions.begin_interaction(
            setup.scope, parent.id, step="initialize", attempt=1, command=command
        )
        stored = sessions.complete_interaction(setup.scope, begun, model.Outcome.ok())
        stored_again = sessions.complete_interaction(setup.scope, twin, model.Outcome.error("x"))
        later = sessions.begin_interaction(
            setup.scope, parent.id, step="initialize", attempt=2, command=command
        )
        pending = sessions.begin_interaction(
            setup.scope, parent.id, step="spawn", attempt=1, command=command
        )
        sessions.complete_interaction(
            setup.scope, later, model.Outcome.error("y"), completed_at=utcnow() + timedelta(1)
        )
        last = sessions.last_completed(setup.scope, parent.id)
        attempts = sessions.latest_attempts(setup.scope, parent.id)
        abandoned = sessions.abandon_pending(setup.scope, parent.id, "interrupted")
        closed = sessions.find_interaction(setup.scope, parent.id, step="spawn", attempt=1)

    assert twin.id == begun.id and (stored, stored_again) == (True, False)
    assert last is not None and (last.id, last.attempt) == (later.id, 2)
    assert attempts == {"initialize": 2, "spawn": 1}
    assert abandoned == 1 and closed is not None and closed.id == pending.id
    assert closed.outcome is not None and closed.outcome.error_message == "interrupted"


def _journaled(
    session_id: uuid.UUID, step: str, outcome: model.Outcome | None = None
) -> model.Interaction:
    """A step of a run's journal, begun a second ago (and completed now, with ``outcome``)."""
    now = utcnow()
    return model.Interaction(
        id=uuid.uuid4(),
        session_id=session_id,
        step=step,
        attempt=1,
        command=model.Command(keyword=step),
        outcome=outcome,
        duration_ms=None if outcome is None else 1000,
        started_at=now - timedelta(seconds=1),
        completed_at=None if outcome is None else now,
    )


def test_a_journal_is_written_pending_then_completed_in_its_own_row(setup: Setup) -> None:
    child = setup.children[0].id
    initialized = _journaled(child, "initialize", model.Outcome.ok(data={"base_commit": "b"}))
    running = _journaled(child, "generate_tests")
    failed = dataclasses.replace(
        running,
        command=model.Command(argv=("agent", "write")),
        outcome=model.Outcome.error("no tests", exit_code=2, stdout_tail="out", permanent=True),
        duration_ms=1500,
        completed_at=utcnow(),
    )
    with setup.transactions() as uow:
        first = uow.sessions.record_interactions(setup.scope, child, [initialized, running])
    with setup.transactions() as uow:
        seen = uow.sessions.interactions(setup.scope, child)
        second = uow.sessions.record_interactions(setup.scope, child, [failed])
        history = uow.sessions.interactions(setup.scope, child)

    assert (first, second) == (2, 1)
    assert [(i.id, i.pending) for i in seen] == [(initialized.id, False), (running.id, True)]
    assert [i.id for i in history] == [initialized.id, running.id]
    assert history[0].outcome == initialized.outcome
    done = history[1]
    assert done.outcome == failed.outcome and done.command == failed.command
    assert done.duration_ms == 1500 and done.completed_at is not None


def test_a_journal_keeps_one_interaction_per_step_and_attempt_and_its_tenant(
    setup: Setup,
) -> None:
    child = setup.children[0].id
    ok, late = model.Outcome.ok(), model.Outcome.error("late")
    done = _journaled(child, "initialize", ok)
    with setup.transactions() as uow:
        sessions = uow.sessions
        sessions.record_interactions(setup.scope, child, [done])
        theirs = sessions.begin_interaction(
            setup.scope, child, step="run_tests", attempt=1, command=model.Command()
        )
        again = sessions.record_interactions(
            setup.scope, child, [dataclasses.replace(done, outcome=late)]
        )
        twin = sessions.record_interactions(
            setup.scope, child, [_journaled(child, "initialize", late)]
        )
        over_theirs = sessions.record_interactions(
            setup.scope, child, [_journaled(child, "run_tests", ok)]
        )
        foreign = sessions.record_interactions(
            setup.other, child, [_journaled(child, "finalize", ok)]
        )
        history = sessions.interactions(setup.scope, child)

    assert (again, twin, over_theirs, foreign) == (0, 0, 0, 0)
    assert [(i.id, i.outcome) for i in history] == [(done.id, ok), (theirs.id, None)]


def test_a_lease_is_taken_only_when_free_expired_or_its_holder_is_named_gone(
    setup: Setup,
) -> None:
    child = setup.children[0].id
    now = utcnow()
    soon, later = now + timedelta(seconds=30), now + timedelta(seconds=60)
    with setup.transactions() as uow:
        sessions = uow.sessions
        first = sessions.take_lease(setup.scope, child, owner="a", expires_at=soon, now=now)
        held = sessions.take_lease(setup.scope, child, owner="b", expires_at=soon, now=now)
        renewed_by_other = sessions.renew_lease(setup.scope, child, owner="b", expires_at=later)
        renewed = sessions.renew_lease(setup.scope, child, owner="a", expires_at=later)
        expired = sessions.take_lease(
            setup.scope, child, owner="b", expires_at=later, now=later + timedelta(seconds=1)
        )
        replaced = sessions.take_lease(
            setup.scope, child, owner="c", expires_at=later, now=now, replacing="b"
        )
        released_by_other = sessions.release_lease(setup.scope, child, owner="b")
        released = sessions.release_lease(setup.scope, child, owner="c")
        freed = sessions.get_session(setup.scope, child)

    assert (first, held) == (0, None)
    assert (renewed_by_other, renewed) == (False, True)
    assert (expired, replaced) == (1, 2)  # each take-over from a holder counts a loss
    assert (released_by_other, released) == (False, True)
    assert freed.lease_owner is None and freed.worker_losses == 2


def test_an_ended_session_holds_no_lease(setup: Setup) -> None:
    child = setup.children[0].id
    now = utcnow()
    with setup.transactions() as uow:
        uow.sessions.set_status(
            setup.scope, [child], expected=SessionStatus.ACTIVE, target=SessionStatus.CANCELLED
        )
        taken = uow.sessions.take_lease(setup.scope, child, owner="a", expires_at=now, now=now)

    assert taken is None


def test_an_attempt_stores_one_artifact_and_the_newest_attempt_is_the_one_read(
    setup: Setup,
) -> None:
    child = setup.children[0].id

    def store(uow: ports.UnitOfWork, attempt: int, content: str) -> bool:
        return uow.sessions.add_artifact(
            setup.scope,
            child,
            attempt=attempt,
            test_path="tests/test_a.py",
            content=content,
            digest="d",
            report=model.TestReport(collected=1, passed=1).to_json(),
        )

    with setup.transactions() as uow:
        stored = [store(uow, 1, "one"), store(uow, 1, "twin"), store(uow, 2, "two")]
        newest = uow.sessions.latest_artifacts(setup.scope, [child, setup.children[1].id])
        foreign = uow.sessions.latest_artifacts(setup.other, [child])

    assert stored == [True, False, True]
    assert list(newest) == [child] and newest[child].content == "two"
    assert newest[child].report.passed == 1
    assert foreign == {}


def test_a_rounds_artifacts_are_read_as_heads_then_their_files_a_page_at_a_time(
    setup: Setup,
) -> None:
    first, second = setup.children[0].id, setup.children[1].id
    files = {first: ("tests/test_a.py", "def test_a():\n    pass\n"), second: ("tests/t.py", "")}
    with setup.transactions() as uow:
        for child, (path, content) in files.items():
            for attempt in (1, 2):
                uow.sessions.add_artifact(
                    setup.scope,
                    child,
                    attempt=attempt,
                    test_path=path,
                    content=content if attempt == 2 else "older",
                    digest=f"digest {attempt}",
                    report={},
                )
        heads = uow.sessions.round_artifact_heads(setup.scope, setup.parent.id)
        foreign_heads = uow.sessions.round_artifact_heads(setup.other, setup.parent.id)
        contents = dict(uow.sessions.artifact_contents(setup.scope, [h.id for h in heads.values()]))
        foreign = list(uow.sessions.artifact_contents(setup.other, [heads[first].id]))

    # The newest attempt's head, its size in characters, and its file by its id; nothing of
    # another tenant's.
    assert {child: (h.test_path, h.size, h.digest) for child, h in heads.items()} == {
        first: ("tests/test_a.py", len(files[first][1]), "digest 2"),
        second: ("tests/t.py", 0, "digest 2"),
    }
    assert contents == {heads[first].id: files[first][1], heads[second].id: ""}
    assert foreign_heads == {} and foreign == []


def test_a_state_is_set_only_while_the_session_has_the_status_asked_for(setup: Setup) -> None:
    child = setup.children[0].id
    with setup.transactions() as uow:
        sessions = uow.sessions
        while_active = sessions.update_session(
            setup.scope, child, only_if=SessionStatus.ACTIVE, state=StatePatch(feedback="f")
        )
        sessions.set_status(
            setup.scope, [child], expected=SessionStatus.ACTIVE, target=SessionStatus.FAILED
        )
        once_failed = sessions.update_session(
            setup.scope, child, only_if=SessionStatus.ACTIVE, state=StatePatch(feedback=None)
        )
        sessions.start_round(setup.scope, 2, session_ids=[child], states={})
        found = sessions.get_session(setup.scope, child)

    assert (while_active, once_failed) == (True, False)
    assert found.state.to_json() == {"feedback": "f"} and found.attempt == 2


def test_a_unit_of_work_that_raises_leaves_nothing_behind(setup: Setup) -> None:
    child = setup.children[0].id
    with pytest.raises(RuntimeError), setup.transactions() as uow:
        uow.sessions.set_status(
            setup.scope, [child], expected=SessionStatus.ACTIVE, target=SessionStatus.COMPLETE
        )
        raise RuntimeError("the step failed after its write")

    with setup.transactions() as uow:
        assert uow.sessions.get_session(setup.scope, child).status is SessionStatus.ACTIVE


def test_unknown_ids_are_not_found(setup: Setup) -> None:
    with setup.transactions() as uow:
        with pytest.raises(errors.SessionNotFound):
            uow.sessions.get_session(setup.scope, uuid.uuid4())
        with pytest.raises(errors.ComponentNotFound):
            uow.catalog.get_component(setup.scope, uuid.uuid4())
        with pytest.raises(errors.ProjectNotFound):
            uow.catalog.get_project(setup.other.account_id, setup.scope.project_id)


def test_a_state_patch_sets_and_clears_only_the_keys_it_names(setup: Setup) -> None:
    parent, (first, second) = setup.parent.id, setup.children
    layout = {"layout": "python", "app": None, "packages": [["shop", "src/shop"]]}
    with setup.transactions() as uow:
        sessions = uow.sessions
        # Given a state written by two writers, each naming its own keys
        sessions.update_session(setup.scope, parent, state=StatePatch(layout=layout, queued="q"))
        sessions.update_session(
            setup.scope, parent, state=StatePatch(branch_head=BranchHead(None), created_branch=True)
        )
        # When a third clears one key and replaces the layout with a smaller one
        sessions.update_session(
            setup.scope, parent, state=StatePatch(queued=None, layout={"layout": "elixir"})
        )
        # and a round hands two children different feedback, one of them clearing its mark
        sessions.update_session(
            setup.scope, first.id, state=StatePatch(permanent_failure="gone", notes="n")
        )
        sessions.start_round(
            setup.scope,
            2,
            session_ids=[first.id, second.id],
            states={
                first.id: StatePatch(feedback="one", permanent_failure=None),
                second.id: StatePatch(feedback="two"),
            },
        )
        found = {
            s: sessions.get_session(setup.scope, s).state for s in (parent, first.id, second.id)
        }

    # Then each key is what its last writer set, whole, and no other key was touched
    assert found[parent].to_json() == {
        "layout": {"layout": "elixir"},
        "branch_head": None,
        "created_branch": True,
    }
    assert found[parent].expected_head("base") is None  # recorded: the branch was missing
    assert found[first.id].to_json() == {"feedback": "one", "notes": "n"}
    assert found[second.id].to_json() == {"feedback": "two"}


def test_a_nested_document_is_stored_as_written(setup: Setup) -> None:
    environment = {
        "recipe": {"installer": "pip", "extras": []},
        "build": {"key": None, "steps": []},
    }
    with setup.transactions() as uow:
        uow.sessions.update_session(
            setup.scope, setup.parent.id, state=StatePatch(environment=environment)
        )
        found = uow.sessions.get_session(setup.scope, setup.parent.id)

    assert found.state.environment == environment


def test_the_last_complete_context_session_is_the_newest_complete_parent_of_the_context(
    setup: Setup,
) -> None:
    # Given the context's session complete, a newer one still active, and another tenant
    with setup.transactions() as unit:
        uow: Any = unit  # the set-up methods both stores have
        assert uow.sessions.last_complete_context(setup.scope, setup.parent.component_id) is None
        uow.sessions.set_status(
            setup.scope,
            [setup.parent.id],
            expected=SessionStatus.ACTIVE,
            target=SessionStatus.COMPLETE,
        )
        for child in setup.children:  # a complete child is no context session
            uow.sessions.set_status(
                setup.scope,
                [child.id],
                expected=SessionStatus.ACTIVE,
                target=SessionStatus.COMPLETE,
            )
        _context_session(uow, setup.scope, setup.parent.component_id)

    # When the latest complete session of the context is read, in both tenants
    with setup.transactions() as uow:
        found = uow.sessions.last_complete_context(setup.scope, setup.parent.component_id)
        elsewhere = uow.sessions.last_complete_context(setup.other, setup.parent.component_id)
        child_as_context = uow.sessions.last_complete_context(
            setup.scope, setup.children[0].component_id
        )

    # Then it is the complete parent, never a child, and never across tenants
    assert found is not None and found.id == setup.parent.id
    assert elsewhere is None
    assert child_as_context is None


def test_a_round_wider_than_a_page_and_a_batch_is_written_and_read_whole(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of 2 rows and batches of 3 children: the 9 children span 5 pages and 3 batches.
    monkeypatch.setattr(rows, "PAGE_ROWS", 2)
    monkeypatch.setattr(children_store, "INSERT_ROWS", 3)
    monkeypatch.setattr(children_store, "ANALYZE_AFTER_ROWS", 2)  # and analyzes the table
    with setup.transactions() as uow:
        context_id = setup.parent.component_id
        catalog: Any = uow.catalog  # both stores' own set-up method, as _tenant uses
        for index in range(7):
            catalog.add_component(
                setup.scope,
                name=f"m{index}",
                module_name=f"shop.cart.m{index}",
                type="module",
                priority=0,
                parent_id=context_id,
            )
        components = uow.catalog.child_components(setup.scope, context_id)
        uow.sessions.add_children(
            setup.parent,
            [c.id for c in components],
            execution_mode=ExecutionMode.AGENTIC,
            environment_type="local",
            agent="scaffold",
            max_attempts=3,
        )
        found = uow.sessions.children(setup.scope, setup.parent.id)
        uow.sessions.start_round(setup.scope, 1, session_ids=[c.id for c in found], states={})
        for child in found:
            uow.sessions.add_artifact(
                setup.scope,
                child.id,
                attempt=1,
                test_path=f"tests/test_{child.id.hex}.py",
                content=child.id.hex,
                digest="d",
                report=model.TestReport(collected=1, passed=1).to_json(),
            )
        artifacts = uow.sessions.latest_artifacts(setup.scope, [c.id for c in found])
        started = uow.sessions.children(setup.scope, setup.parent.id)

    assert len(components) == 9
    # every component has exactly one child, the two that existed kept, in the components' order
    assert [c.component_id for c in found] == [c.id for c in components]
    assert {c.id for c in setup.children} <= {c.id for c in found}
    assert [c.attempt for c in started] == [1] * 9
    assert {i: a.content for i, a in artifacts.items()} == {c.id: c.id.hex for c in found}
