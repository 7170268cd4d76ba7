"""Alembic migrations go up, all the way down and up again."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from ctworkflow.persistence import db
from ctworkflow.persistence.tables import Base
from tests import servers

TABLES = {
    "accounts",
    "projects",
    "components",
    "sessions",
    "interactions",
    "artifacts",
    "api_tokens",
    "webhooks",
    "webhook_deliveries",
}


def tables_and_enums(url: str) -> tuple[set[str], set[str]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
            enums: set[str] = set()
            if connection.dialect.name == "postgresql":
                enums = set(
                    connection.execute(
                        sa.text("SELECT typname FROM pg_type WHERE typtype = 'e'")
                    ).scalars()
                )
        return tables, enums
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_on_postgresql(postgres_server: servers.PostgresServer) -> None:
    url = postgres_server.create_database(f"m_{uuid.uuid4().hex[:8]}")

    db.migrate(url)
    assert tables_and_enums(url) == (
        TABLES,
        {"session_type", "session_status", "execution_mode", "result_status"},
    )
    db.downgrade(url)
    assert tables_and_enums(url) == (set(), set())
    db.migrate(url)
    assert tables_and_enums(url)[0] == TABLES


def test_upgrade_downgrade_upgrade_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"

    db.migrate(url)
    assert tables_and_enums(url)[0] == TABLES
    db.downgrade(url)
    assert tables_and_enums(url)[0] == set()
    db.migrate(url)
    assert tables_and_enums(url)[0] == TABLES


def test_migrations_match_the_table_definitions(postgres_server: servers.PostgresServer) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = postgres_server.create_database(f"m_{uuid.uuid4().hex[:8]}")
    db.migrate(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def _rows_at_0005(url: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A project with a context session that chose a runner and pushed a commit (finalize
    failed once, then passed), and one that pushed nothing; their ids."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    account, project, context = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    chose, plain = uuid.uuid4(), uuid.uuid4()
    scope = {"account_id": account, "project_id": project}
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            t = Base.metadata.tables  # typed as the app types them; no column added since
            connection.execute(t["accounts"].insert().values(id=account, name="a", created_at=now))
            connection.execute(
                t["projects"]
                .insert()
                .values(
                    id=project,
                    account_id=account,
                    name="p",
                    code_repo="/r",
                    layout="python",
                    default_branch="main",
                    settings={},
                    created_at=now,
                )
            )
            connection.execute(
                t["components"]
                .insert()
                .values(
                    id=context,
                    **scope,
                    name="c",
                    module_name="c",
                    type="context",
                    priority=0,
                    created_at=now,
                )
            )
            for session_id, state in ((chose, {"runner": "pytest", "x": 1}), (plain, {})):
                connection.execute(
                    t["sessions"]
                    .insert()
                    .values(
                        id=session_id,
                        **scope,
                        type="context_testing",
                        status="complete",
                        user_id="u",
                        component_id=context,
                        execution_mode="agentic",
                        environment_type="local",
                        agent="scaffold",
                        state=state,
                        attempt=1,
                        max_attempts=3,
                        created_at=now,
                        updated_at=now,
                        worker_losses=0,
                    )
                )
            for attempt, status, data in ((1, "error", {}), (2, "ok", {"commit": "c" * 40})):
                connection.execute(
                    t["interactions"]
                    .insert()
                    .values(
                        id=uuid.uuid4(),
                        session_id=chose,
                        step="finalize",
                        attempt=attempt,
                        command={},
                        result_status=status,
                        result_data=data,
                        started_at=now,
                        completed_at=now.replace(minute=attempt),
                    )
                )
    finally:
        engine.dispose()
    return chose, plain


def _after(url: str, chose: uuid.UUID, plain: uuid.UUID) -> dict[uuid.UUID, tuple[object, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            present = {c["name"] for c in sa.inspect(connection).get_columns("sessions")}
            sessions = Base.metadata.tables["sessions"]
            wanted = [sessions.c.state]
            wanted += [sessions.c[c] for c in ("runner", "pushed_commit") if c in present]
            found = connection.execute(
                sa.select(sessions.c.id, *wanted).where(sessions.c.id.in_([chose, plain]))
            ).all()
        return {row[0]: tuple(row[1:]) for row in found}
    finally:
        engine.dispose()


def _runner_and_commit_move_into_columns_and_back(url: str) -> None:
    db.migrate(url, "0005_http_api")
    chose, plain = _rows_at_0005(url)

    db.migrate(url)
    assert _after(url, chose, plain) == {
        chose: ({"x": 1}, "pytest", "c" * 40),
        plain: ({}, None, None),
    }
    db.downgrade(url, "0005_http_api")
    assert _after(url, chose, plain) == {chose: ({"x": 1, "runner": "pytest"},), plain: ({},)}


def test_runner_and_pushed_commit_become_columns_on_postgresql(
    postgres_server: servers.PostgresServer,
) -> None:
    _runner_and_commit_move_into_columns_and_back(
        postgres_server.create_database(f"m_{uuid.uuid4().hex[:8]}")
    )


def test_runner_and_pushed_commit_become_columns_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    _runner_and_commit_move_into_columns_and_back(url)
    # the downgrade kept the status guard's trigger (a table copy would have dropped it)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            triggers: Iterable[str] = connection.execute(
                sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
            assert "sessions_status_guard" in set(triggers)
    finally:
        engine.dispose()
