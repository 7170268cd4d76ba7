"""Engines and units of work.

Engines are created lazily, one per URL and process. Celery's prefork children call
:func:`dispose_engines` after the fork so no two processes share a pooled connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event, orm

from ctworkflow.config import get_settings
from ctworkflow.persistence.catalog_store import CatalogStore
from ctworkflow.persistence.failures import translated
from ctworkflow.persistence.metrics_store import MetricsStore
from ctworkflow.persistence.session_store import SessionStore
from ctworkflow.persistence.token_store import TokenStore
from ctworkflow.persistence.webhook_store import WebhookStore

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


_ENGINES: dict[str, sa.Engine] = {}
_LOCK = threading.Lock()


def _make_sqlite_folder(url: str) -> None:
    """SQLite creates a missing file but not its folder: create it (a fresh data folder)."""
    if url.startswith("sqlite"):
        database = sa.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)


def _create_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        _make_sqlite_folder(url)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=_pre_ping, pool_size=5, max_overflow=10)


#: Whether the engines made from now on test a pooled connection before lending it: a round
#: trip on every checkout, so that a long-lived process (``ctw serve``) answers its first
#: request after a PostgreSQL restart. Celery's pool processes turn it off
#: (:func:`lend_untested`).
_pre_ping = True


def lend_untested() -> None:
    """Make this process's engines lend pooled connections untested (a Celery pool process).

    There the checkouts are the hot path of every step and component run. A connection that
    died with a restart fails its first use instead, as DatabaseUnavailable, which every
    caller there waits out or retries, and SQLAlchemy then drops every pooled connection
    older than the failure. Engines already made are dropped (not closed: they may be a
    parent's, inherited over a fork) and made again on first use.
    """
    global _pre_ping
    with _LOCK:
        _pre_ping = False
        for engine in _ENGINES.values():
            engine.dispose(close=False)
        _ENGINES.clear()


def get_engine(url: str | None = None) -> sa.Engine:
    """Return this process's engine for ``url`` (the configured database by default)."""
    url = url or get_settings().sqlalchemy_url
    with _LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = _create_engine(url)
        return _ENGINES[url]


def dispose_engines(*, close: bool = False) -> None:
    """Drop pooled connections: ``close=False`` in a freshly forked child, True at shutdown."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose(close=close)
        if close:
            _ENGINES.clear()


def close_engine(url: str) -> None:
    """Close and forget the engine of ``url`` (tests that drop their database call this)."""
    with _LOCK:
        engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


class UnitOfWork:
    """One transaction, with the stores that work inside it."""

    def __init__(self, db: orm.Session) -> None:
        self.db = db
        self.catalog = CatalogStore(db)
        self.sessions = SessionStore(db)
        self.tokens = TokenStore(db)
        self.webhooks = WebhookStore(db)
        self.metrics = MetricsStore(db)


@contextmanager
def unit_of_work(url: str | None = None) -> Iterator[UnitOfWork]:
    """Open a transaction: commit when the block ends, roll back if it raises.

    A database failure in the block, or at its commit, is raised as ours
    (:mod:`ctworkflow.persistence.failures`): ``DatabaseUnavailable``, ``Conflict`` or
    ``DatabaseError``.
    """
    with translated(), orm.Session(get_engine(url), expire_on_commit=False) as db, db.begin():
        yield UnitOfWork(db)


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration for ``url``, independent of the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", (url or get_settings().sqlalchemy_url).replace("%", "%%")
    )
    return config


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Bring the database schema to ``revision``."""
    _make_sqlite_folder(url or get_settings().sqlalchemy_url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Take the database schema down to ``revision``."""
    command.downgrade(alembic_config(url), revision)
