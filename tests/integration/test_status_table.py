"""The status table is the rule: every (from, to) pair is tried against the one compare-and-set
and against the database's own guard, on SQLite and on PostgreSQL."""

from __future__ import annotations

import importlib.util
import itertools
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from ctworkflow import errors
from ctworkflow.domain.states import TRANSITIONS, SessionStatus
from ctworkflow.persistence import db
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import sessions
from tests.factories import Tenant

PAIRS = [(a, b) for a, b in itertools.product(SessionStatus, SessionStatus) if a is not b]


GUARD = Path(db.__file__).parent / "migrations" / "versions" / "0004_status_guard.py"


def _session_in(tenant: Tenant, status: SessionStatus) -> uuid.UUID:
    """A context session of the tenant, in ``status``."""
    with unit_of_work() as uow:
        started = sessions.create_context_session(
            uow, tenant.scope, tenant.context.id, agent="scaffold", max_attempts=1
        )
        session_id = started.session.id
    if status is not SessionStatus.ACTIVE:
        # Through allowed moves only: active → status.
        with unit_of_work() as uow:
            uow.sessions.set_status(
                tenant.scope, [session_id], expected=SessionStatus.ACTIVE, target=status
            )
    return session_id


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_status_pair_moves_exactly_when_the_table_allows_it(
    tenant: Tenant, current: SessionStatus, target: SessionStatus
) -> None:
    session_id = _session_in(tenant, current)
    allowed = target in TRANSITIONS[current]
    with unit_of_work() as uow:
        if allowed:
            moved = uow.sessions.set_status(
                tenant.scope, [session_id], expected=current, target=target
            )
            assert moved == [session_id]
        else:
            with pytest.raises(errors.InvalidTransition) as refused:
                uow.sessions.set_status(tenant.scope, [session_id], expected=current, target=target)
            assert f"cannot go from {current} to {target}" in str(refused.value)
    with unit_of_work() as uow:
        now = uow.sessions.get_session(tenant.scope, session_id)
    assert now.status is (target if allowed else current)


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_the_database_refuses_a_forbidden_move_even_from_raw_sql(
    tenant: Tenant, database_url: str, current: SessionStatus, target: SessionStatus
) -> None:
    session_id = _session_in(tenant, current)
    statement = sa.text("UPDATE sessions SET status = :target WHERE id = :id")
    engine = db.get_engine(database_url)
    key = session_id.hex if engine.dialect.name == "sqlite" else session_id
    if target in TRANSITIONS[current]:
        with engine.begin() as connection:
            assert connection.execute(statement, {"target": target.value, "id": key}).rowcount == 1
    else:
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as connection:
            connection.execute(statement, {"target": target.value, "id": key})


def test_the_database_guard_holds_the_same_table_as_the_domain() -> None:
    spec = importlib.util.spec_from_file_location("status_guard", GUARD)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    frozen = set(migration.ALLOWED)
    assert frozen == {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}
