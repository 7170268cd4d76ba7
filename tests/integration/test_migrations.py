"""Alembic migrations go up, all the way down and up again."""

from __future__ import annotations

import uuid
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
