"""Engines outlive a PostgreSQL restart.

A process's engines test a pooled connection before lending it, so the first use after a
restart works. A Celery pool process lends them untested (:func:`db.lend_untested`): the
pool's connections die with the server, the first use of one fails as
:class:`~ctworkflow.errors.DatabaseUnavailable` (which a component run's claim and end, and the
steps, try again), SQLAlchemy drops the pool's connections, and the next use opens a new one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ctworkflow import errors
from ctworkflow.persistence import db
from tests import servers


@pytest.fixture
def untested() -> Iterator[None]:
    """This process lends connections untested, as a Celery pool process does, for the test."""
    db.lend_untested()
    try:
        yield
    finally:
        db._pre_ping = True


@pytest.fixture
def restarted() -> Iterator[tuple[str, uuid.UUID]]:
    """A database of this test's own PostgreSQL, used once by this process's engine (an
    account added), then the server restarted: its URL, and the account's id."""
    with servers.running_postgres() as server:
        url = server.create_database("restarted")
        try:
            db.migrate(url)
            with db.unit_of_work(url) as uow:
                account = uow.catalog.add_account("before the restart")
            server.restart()
            yield url, account.id
        finally:
            db.close_engine(url)


def test_a_tested_engine_answers_its_first_use_after_postgresql_restarted(
    restarted: tuple[str, uuid.UUID],
) -> None:
    # Given an engine (of a process such as ctw serve) that used a connection, and the
    # server restarted since
    url, account_id = restarted

    # When it is used again, then the first use works: the dead connection was tested and
    # replaced
    with db.unit_of_work(url) as uow:
        assert [a.id for a in uow.catalog.list_accounts()] == [account_id]


def test_an_untested_engine_recovers_after_one_unavailable_use_when_postgresql_restarted(
    untested: None,  # first: the engine ``restarted`` makes must lend connections untested
    restarted: tuple[str, uuid.UUID],
) -> None:
    # Given an engine that lends untested connections (a Celery pool process's) that used
    # one, and the server restarted since
    url, account_id = restarted

    # When it is used again, then the first use finds its connection dead, and the next
    # one works
    with pytest.raises(errors.DatabaseUnavailable), db.unit_of_work(url) as uow:
        uow.catalog.list_accounts()
    with db.unit_of_work(url) as uow:
        assert [a.id for a in uow.catalog.list_accounts()] == [account_id]
