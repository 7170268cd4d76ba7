"""Fixtures of the integration tier."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.worker import WorkController

from ctworkflow.config import get_settings
from ctworkflow.persistence import db
from tests import servers
from tests.conftest import fresh_database
from tests.factories import Tenant, make_tenant
from tests.http_support import Server, running_server
from tests.workflow_support import Project, make_project


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/integration needs the throwaway servers."""
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    """The seed's tenant in a fresh database."""
    return make_tenant(database_url)


@pytest.fixture
def other_tenant(database_url: str) -> Tenant:
    """A second account, in the same database, with the same kind of context."""
    return make_tenant(database_url)


@pytest.fixture(scope="session")
def celery_worker_session(redis_server: servers.RedisServer) -> Iterator[WorkController]:
    """One real Celery worker, in this process, consuming both queues from our own Redis."""
    from ctworkflow import celery_defaults
    from ctworkflow.tasks.app import app

    app.conf.update(
        broker_url=redis_server.url(0),
        result_backend=redis_server.url(1),
        broker_transport_options=celery_defaults.transport_options(redis_server.url(0)),
    )
    with start_worker(
        app,
        pool="threads",
        concurrency=4,
        perform_ping_check=False,
        shutdown_timeout=20,
        loglevel="WARNING",
    ) as worker:
        yield worker
    # Results still referenced unsubscribe from Redis when collected: do it while it runs.
    gc.collect()


@pytest.fixture
def postgres_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh PostgreSQL database, the configured one, with quick retries (no worker: for the
    tests that start their own)."""
    url = fresh_database(request, "postgresql", tmp_path)
    monkeypatch.setenv("CTW_DATABASE_URL", url)
    monkeypatch.setenv("CTW_RETRY_BACKOFF_S", "0.2")
    get_settings.cache_clear()
    yield url
    db.close_engine(url)


@pytest.fixture
def workflow_db(
    celery_worker_session: WorkController, postgres_db: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A fresh PostgreSQL database, quick retries, and the worker ready to run sessions."""
    monkeypatch.setenv("CTW_MAX_FIX_ROUNDS", "1")
    get_settings.cache_clear()
    return postgres_db


@pytest.fixture
def project(workflow_db: str, tmp_path: Path) -> Project:
    """The sample shop with the Accounts context of three modules, and the test agent, on a
    workflow-ready database (a file that needs other settings defines its own)."""
    return make_project(tmp_path / "shop")


@pytest.fixture
def server(project: Project, redis_server: servers.RedisServer, tmp_path: Path) -> Iterator[Server]:
    """A real ``ctw serve`` on the suite's PostgreSQL and Redis, for ``project``'s database."""
    with running_server(
        tmp_path, CTW_BROKER_URL=redis_server.url(0), CTW_RESULT_BACKEND=redis_server.url(1)
    ) as running:
        yield running
