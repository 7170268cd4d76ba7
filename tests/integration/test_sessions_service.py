"""The scoped sessions service against SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from ctworkflow import errors
from ctworkflow.domain.model import Command, Outcome, Scope
from ctworkflow.domain.states import ExecutionMode, SessionStatus, SessionType
from ctworkflow.persistence.db import UnitOfWork, get_engine, unit_of_work
from ctworkflow.services import sessions
from ctworkflow.workflow.children import ensure_children
from tests.factories import Tenant


def start(tenant: Tenant, url: str, **kwargs: object) -> sessions.Started:
    with unit_of_work(url) as uow:
        return sessions.create_context_session(
            uow,
            tenant.scope,
            tenant.context.id,
            agent="scaffold",
            max_attempts=3,
            **kwargs,  # type: ignore[arg-type]
        )


def count(url: str, table: str) -> int:
    with get_engine(url).connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_starting_a_context_session_twice_gives_one_session(
    tenant: Tenant, database_url: str
) -> None:
    first = start(tenant, database_url)
    second = start(tenant, database_url)

    assert first.created and not second.created
    assert second.session.id == first.session.id
    assert first.session.type is SessionType.CONTEXT_TESTING
    assert first.session.status is SessionStatus.ACTIVE
    assert count(database_url, "sessions") == 1


def test_the_same_idempotency_key_returns_the_same_session(
    tenant: Tenant, database_url: str
) -> None:
    first = start(tenant, database_url, idempotency_key="job-42")
    with unit_of_work(database_url) as uow:
        sessions.transition(uow, tenant.scope, first.session.id, SessionStatus.FAILED)

    again = start(tenant, database_url, idempotency_key="job-42")

    assert again.session.id == first.session.id and not again.created


def test_children_are_one_per_component_in_priority_order_and_inherit_the_parent_row(
    tenant: Tenant, database_url: str
) -> None:
    parent = start(tenant, database_url).session
    with unit_of_work(database_url) as uow:
        ensured = ensure_children(uow, tenant.scope, parent.id)
        children = uow.sessions.children(tenant.scope, parent.id)

    assert [c.id for c in ensured] == [c.id for c in children]
    assert [c.component_id for c in children] == [c.id for c in tenant.children]
    for child in children:
        assert child.parent_id == parent.id
        assert child.type is SessionType.COMPONENT_TESTING
        assert child.execution_mode is ExecutionMode.AGENTIC
        assert (child.account_id, child.project_id) == (parent.account_id, parent.project_id)
        assert child.agent == parent.agent


def test_ensure_children_reuses_existing_ones_and_adds_new_components(
    tenant: Tenant, database_url: str
) -> None:
    from ctworkflow.services import catalog

    parent = start(tenant, database_url).session
    with unit_of_work(database_url) as uow:
        first = ensure_children(uow, tenant.scope, parent.id)
    with unit_of_work(database_url) as uow:
        added = catalog.add_component(
            uow,
            tenant.scope,
            name="Token",
            module_name="MyApp.Accounts.Token",
            priority=7,
            parent_id=tenant.context.id,
        )
        again = ensure_children(uow, tenant.scope, parent.id)

    assert {c.id for c in first} < {c.id for c in again}
    assert [c.component_id for c in again if c.id not in {f.id for f in first}] == [added.id]
    assert count(database_url, "sessions") == 1 + 4


def test_a_context_wider_than_one_statement_gets_every_child(
    tenant: Tenant, database_url: str
) -> None:
    # 5,000 children of 17 columns would pass PostgreSQL's 65,535 parameters in one INSERT.
    wide = 5000
    with unit_of_work(database_url) as uow:
        uow.catalog.add_components(
            tenant.scope,
            tenant.context.id,
            [
                {
                    "name": f"W{i}",
                    "module_name": f"MyApp.Wide.W{i}",
                    "type": "module",
                    "priority": 0,
                }
                for i in range(wide)
            ],
        )
    parent = start(tenant, database_url).session
    with unit_of_work(database_url) as uow:
        children = ensure_children(uow, tenant.scope, parent.id)
    with unit_of_work(database_url) as uow:
        again = ensure_children(uow, tenant.scope, parent.id)

    assert len(children) == wide + len(tenant.children)
    assert {c.id for c in again} == {c.id for c in children}
    assert count(database_url, "sessions") == 1 + wide + len(tenant.children)


def test_status_changes_are_compare_and_set(tenant: Tenant, database_url: str) -> None:
    parent = start(tenant, database_url).session
    with unit_of_work(database_url) as uow:
        done = sessions.transition(uow, tenant.scope, parent.id, SessionStatus.COMPLETE)
    assert done.status is SessionStatus.COMPLETE and done.completed_at is not None

    with unit_of_work(database_url) as uow, pytest.raises(errors.InvalidTransition) as raised:
        sessions.transition(uow, tenant.scope, parent.id, SessionStatus.ACTIVE)
    assert (raised.value.current, raised.value.target) == ("complete", "active")

    with unit_of_work(database_url) as uow:
        stale = uow.sessions.set_status(
            tenant.scope, [parent.id], expected=SessionStatus.ACTIVE, target=SessionStatus.FAILED
        )
        assert stale == []
        assert sessions.get_session(uow, tenant.scope, parent.id).status is SessionStatus.COMPLETE


def test_cancel_cascades_to_active_children_only(tenant: Tenant, database_url: str) -> None:
    parent = start(tenant, database_url).session
    with unit_of_work(database_url) as uow:
        first, *others = ensure_children(uow, tenant.scope, parent.id)
        sessions.transition(uow, tenant.scope, first.id, SessionStatus.COMPLETE)
    with unit_of_work(database_url) as uow:
        cancelled = sessions.cancel_session(uow, tenant.scope, parent.id)
        after = sessions.children(uow, tenant.scope, parent.id)

    assert cancelled.session.status is SessionStatus.CANCELLED
    assert sorted(cancelled.cancelled_children) == sorted(o.id for o in others)
    assert [c.status for c in after] == [
        SessionStatus.COMPLETE,
        SessionStatus.CANCELLED,
        SessionStatus.CANCELLED,
    ]


def test_a_redelivered_step_finds_its_interaction_and_completes_it_once(
    tenant: Tenant, database_url: str
) -> None:
    parent = start(tenant, database_url).session
    scope = tenant.scope
    with unit_of_work(database_url) as uow:
        first = uow.sessions.begin_interaction(
            scope, parent.id, step="initialize", attempt=1, command=Command(argv=("git", "fetch"))
        )
        again = uow.sessions.begin_interaction(
            scope, parent.id, step="initialize", attempt=1, command=Command(keyword="other")
        )
        assert again.id == first.id and again.command.argv == ("git", "fetch")
        assert uow.sessions.complete_interaction(scope, first, Outcome.ok(data={"n": 1}))
        assert not uow.sessions.complete_interaction(scope, again, Outcome.error("late"))
        history = uow.sessions.interactions(scope, parent.id)
        last = uow.sessions.last_completed(scope, parent.id)

    assert len(history) == 1
    assert last is not None and last.outcome is not None
    assert last.outcome.status == "ok" and last.outcome.data == {"n": 1}
    assert last.duration_ms is not None and last.duration_ms >= 0


def test_latest_artifact_per_child_comes_from_one_query(tenant: Tenant, database_url: str) -> None:
    parent = start(tenant, database_url).session
    with unit_of_work(database_url) as uow:
        child, *_ = ensure_children(uow, tenant.scope, parent.id)
        for attempt in (1, 2):
            uow.sessions.add_artifact(
                tenant.scope,
                child.id,
                attempt=attempt,
                test_path="test/x_test.exs",
                content=f"v{attempt}",
                digest=str(attempt),
                report={"collected": attempt},
            )
        latest = uow.sessions.latest_artifacts(tenant.scope, [child.id])

    assert latest[child.id].attempt == 2 and latest[child.id].content == "v2"
    assert latest[child.id].report.collected == 2


# -- tenant isolation ---------------------------------------------------------------------


def test_another_account_cannot_read_list_update_or_cancel_a_session(
    tenant: Tenant, other_tenant: Tenant, database_url: str
) -> None:
    session = start(tenant, database_url).session
    intruder = other_tenant.scope
    actions: list[Callable[[UnitOfWork, uuid.UUID], object]] = [
        lambda uow, sid: sessions.get_session(uow, intruder, sid),
        lambda uow, sid: sessions.children(uow, intruder, sid),
        lambda uow, sid: sessions.transition(uow, intruder, sid, SessionStatus.FAILED),
        lambda uow, sid: sessions.cancel_session(uow, intruder, sid),
        lambda uow, sid: ensure_children(uow, intruder, sid),
        lambda uow, sid: uow.sessions.begin_interaction(
            intruder, sid, step="initialize", attempt=9, command=Command(keyword="initialize")
        ),
        lambda uow, sid: uow.sessions.add_artifact(
            intruder, sid, attempt=9, test_path="t.py", content="x", digest="d", report={}
        ),
    ]

    def refusal(
        action: Callable[[UnitOfWork, uuid.UUID], object], session_id: uuid.UUID
    ) -> tuple[type[BaseException], str]:
        with unit_of_work(database_url) as uow, pytest.raises(errors.NotFound) as raised:
            action(uow, session_id)
        return type(raised.value), str(raised.value).replace(str(session_id), "ID")

    for action in actions:
        # Another tenant's session is refused exactly like one that does not exist.
        assert refusal(action, session.id) == refusal(action, uuid.uuid4())
    with unit_of_work(database_url) as uow:
        assert sessions.list_sessions(uow, intruder) == []
        assert sessions.get_session(uow, tenant.scope, session.id).status is SessionStatus.ACTIVE
        assert uow.sessions.children(tenant.scope, session.id) == []
        assert uow.sessions.interactions(tenant.scope, session.id) == []


def test_another_account_cannot_complete_a_step_of_a_session(
    tenant: Tenant, other_tenant: Tenant, database_url: str
) -> None:
    session = start(tenant, database_url).session
    with unit_of_work(database_url) as uow:
        step = uow.sessions.begin_interaction(
            tenant.scope, session.id, step="initialize", attempt=1, command=Command(keyword="i")
        )
    with unit_of_work(database_url) as uow, pytest.raises(errors.NotFound):
        uow.sessions.complete_interaction(other_tenant.scope, step, Outcome.ok())
    with unit_of_work(database_url) as uow:
        (still,) = uow.sessions.interactions(tenant.scope, session.id)
    assert still.pending


def test_a_scope_mixing_one_accounts_project_with_another_account_sees_nothing(
    tenant: Tenant, other_tenant: Tenant, database_url: str
) -> None:
    session = start(tenant, database_url).session
    forged = Scope(account_id=other_tenant.scope.account_id, project_id=tenant.scope.project_id)
    with unit_of_work(database_url) as uow:
        assert sessions.list_sessions(uow, forged) == []
        with pytest.raises(errors.SessionNotFound):
            sessions.get_session(uow, forged, session.id)
    with unit_of_work(database_url) as uow, pytest.raises(errors.ProjectNotFound):
        sessions.create_context_session(
            uow, forged, tenant.context.id, agent="scaffold", max_attempts=3
        )
