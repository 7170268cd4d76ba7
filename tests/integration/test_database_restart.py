"""An engine without a pool pre-ping outlives a PostgreSQL restart.

The pool's connections die with the server. The first use of one fails as
:class:`~ctworkflow.errors.DatabaseUnavailable` (which a component run's claim and end, and the
steps, try again), SQLAlchemy drops the pool's connections, and the next use opens a new one.
"""

from __future__ import annotations

import pytest

from ctworkflow import errors
from ctworkflow.persistence import db
from tests import servers


def test_an_engine_recovers_after_one_unavailable_use_when_postgresql_restarted() -> None:
    # Given an engine that used a connection of this test's own PostgreSQL
    with servers.running_postgres() as server:
        url = server.create_database("restarted")
        try:
            db.migrate(url)
            with db.unit_of_work(url) as uow:
                account = uow.catalog.add_account("before the restart")

            # When the server restarts between two uses of the engine
            server.restart()

            # Then the first use finds its connection dead, and the next one works
            with pytest.raises(errors.DatabaseUnavailable), db.unit_of_work(url) as uow:
                uow.catalog.list_accounts()
            with db.unit_of_work(url) as uow:
                accounts = uow.catalog.list_accounts()
        finally:
            db.close_engine(url)

    assert [a.id for a in accounts] == [account.id]
