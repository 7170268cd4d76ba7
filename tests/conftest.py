"""Fixtures shared by every tier: a clean environment, throwaway servers, fresh databases."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctworkflow.config import get_settings
from ctworkflow.persistence import db
from tests import servers

DATABASES = ("sqlite", "postgresql")
#: The fake agents: real programs speaking the command agent's protocol.
FAKE_AGENTS = Path(__file__).resolve().parent / "agents"
#: The installers' download cache of the targets' environments the tests build.
INSTALLER_CACHE = Path(
    os.environ.get("CTWTEST_INSTALLER_CACHE")
    or Path.home() / ".cache" / "ctworkflow-tests" / "installers"
)


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Drop inherited ``CTW_*`` variables so each test sets exactly what it needs.

    Agents run sandboxed as everywhere, and may write the test's own folder (as an operator
    lets a real agent write its ``~/.claude``): the fake agents keep their state there. The
    data folder inside it stays hidden from them. The fake agents' own folder is named too: a
    checkout under ``/tmp`` is covered by the sandbox's private ``/tmp`` otherwise.
    """
    for name in list(os.environ):
        if name.startswith("CTW_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CTW_DATA_DIR", str(tmp_path / "ctw-data"))
    # Every test builds its projects' environments afresh; the packages they download are
    # cached once for the whole run (and across runs on one machine).
    monkeypatch.setenv("CTW_ENVIRONMENT_CACHE_DIR", str(INSTALLER_CACHE))
    agent_paths = [str(tmp_path), str(FAKE_AGENTS)]
    monkeypatch.setenv("CTW_SANDBOX_AGENT_PATHS", json.dumps(agent_paths))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[servers.PostgresServer]:
    """A PostgreSQL of our own on a free loopback port, for the whole test session."""
    # Not under tmp_path_factory: as root, its 0700 folders keep the postgres user out.
    with servers.running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.RedisServer]:
    """A Redis of our own on a free loopback port, for the whole test session."""
    with servers.running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_template(postgres_server: servers.PostgresServer) -> str:
    """A migrated database that per-test databases are copied from."""
    url = postgres_server.create_database("ctw_template")
    db.migrate(url)
    return "ctw_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that per-test databases are copied from."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    db.migrate(f"sqlite:///{path}")
    return path


def fresh_database(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> str:
    """A new, migrated, empty database of ``kind``; its URL."""
    if kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "ctworkflow.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    server: servers.PostgresServer = request.getfixturevalue("postgres_server")
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    return server.create_database(name, template=template_name)


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh database, once on SQLite and once on PostgreSQL; also the configured one."""
    url = fresh_database(request, request.param, tmp_path)
    monkeypatch.setenv("CTW_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    db.close_engine(url)
