"""Persistence raises our errors, never SQLAlchemy's: what the layers above it catch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.states import SessionStatus, SessionType
from ctworkflow.persistence import db
from tests.factories import new_project


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ctw.sqlite'}"
    db.migrate(url)
    yield url
    db.close_engine(url)


def test_a_database_that_cannot_be_opened_is_unavailable_and_worth_another_try(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}"  # a folder: SQLite cannot open it
    try:
        with pytest.raises(errors.DatabaseUnavailable) as raised, db.unit_of_work(url) as uow:
            uow.catalog.list_accounts()
    finally:
        db.close_engine(url)

    assert errors.is_transient(raised.value)
    assert raised.value.__cause__ is not None


def test_a_unique_race_is_a_conflict_and_the_transaction_goes_on(sqlite_url: str) -> None:
    with db.unit_of_work(sqlite_url) as uow:
        scope = new_project(uow, "https://git.example/shop.git", Layout.PYTHON, name="shop")
        context = uow.catalog.add_component(
            scope, name="cart", module_name="shop.cart", type="context", priority=0, parent_id=None
        )
        values = {
            "component_id": context.id,
            "type": SessionType.CONTEXT_TESTING,
            "status": SessionStatus.ACTIVE,
            "user_id": "ann",
            "execution_mode": "agentic",
            "environment_type": "local",
            "agent": "scaffold",
            "state": {},
            "max_attempts": 3,
            "idempotency_key": "once",
        }
        first = uow.sessions.add_session(scope, **values)

        with pytest.raises(errors.Conflict):
            uow.sessions.add_session(scope, **values)

        assert uow.sessions.get_session(scope, first.id).idempotency_key == "once"
    with db.unit_of_work(sqlite_url) as uow:
        assert uow.sessions.get_session(scope, first.id).id == first.id


def test_a_missing_schema_is_a_database_error_of_ours(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    try:
        with pytest.raises(errors.CtWorkflowError) as raised, db.unit_of_work(url) as uow:
            uow.catalog.list_accounts()
    finally:
        db.close_engine(url)

    assert isinstance(raised.value, errors.DatabaseError | errors.DatabaseUnavailable)
