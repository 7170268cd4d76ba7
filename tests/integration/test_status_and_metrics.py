"""The status task by name, and ``/metrics``'s queue depths on Redis and on the embedded broker.

The producers here are plain Celery apps that know only the broker and the task names, as a
backend service's would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import requests
from celery import Celery

from ctworkflow.persistence import db
from tests import servers
from tests.http_support import running_server
from tests.integration.test_http_api import metric
from tests.workflow_support import make_project, wait_until_terminal


@contextmanager
def client_app(broker: str, backend: str | None = None) -> Iterator[Celery]:
    """A Celery app of a service that does not import ctworkflow."""
    app = Celery("backend", broker=broker, backend=backend, set_as_current=False)
    app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"])
    try:
        yield app
    finally:
        app.close()


def test_the_status_task_by_name_returns_a_summary_scoped_like_the_entry_task(
    workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop")
    other = make_project(tmp_path / "other", agent="scaffold")
    session = wait_until_terminal(project.scope, project.start().id)

    with client_app(redis_server.url(0), redis_server.url(1)) as app:
        ids = {
            "account_id": str(project.scope.account_id),
            "project_id": str(project.scope.project_id),
            "session_id": str(session.id),
        }
        summary = app.send_task(
            "ctworkflow.get_session", kwargs=ids, queue="ctw.orchestration"
        ).get(timeout=30)
        foreign = {**ids, "project_id": str(other.scope.project_id)}
        wrong = app.send_task("ctworkflow.get_session", kwargs=foreign, queue="ctw.orchestration")
        with pytest.raises(Exception, match="not found") as raised:
            wrong.get(timeout=30)

    assert summary["id"] == str(session.id)
    assert (summary["status"], summary["round"], summary["branch_name"]) == (
        "complete",
        1,
        session.branch_name,
    )
    assert summary["commit"] == project.remote_git("rev-parse", str(session.branch_name))
    assert summary["components"] == {
        "total": 3,
        "done": 3,
        "active": 0,
        "complete": 3,
        "failed": 0,
        "cancelled": 0,
    }
    assert str(project.scope.project_id) not in str(raised.value)


def test_metrics_show_the_depth_of_every_redis_queue(
    workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    # A broker database no worker reads: what is sent there waits.
    idle = redis_server.url(7)
    with running_server(tmp_path, CTW_BROKER_URL=idle) as server, client_app(idle) as app:
        before = requests.get(f"{server.url}/metrics", timeout=10).text
        for queue, count in (
            ("ctw.components", 3),
            ("ctw.orchestration", 1),
            ("ctw.verification", 2),
        ):
            for _ in range(count):
                app.send_task("ctworkflow.component.run", args=({}, "x", 1), queue=queue)
        after = requests.get(f"{server.url}/metrics", timeout=10).text
    redis.Redis.from_url(idle).flushdb()  # this broker database is this test's alone

    assert metric(before, 'ctw_queue_depth{queue="ctw.components"}') == 0
    assert metric(after, 'ctw_queue_depth{queue="ctw.components"}') == 3
    assert metric(after, 'ctw_queue_depth{queue="ctw.orchestration"}') == 1
    assert metric(after, 'ctw_queue_depth{queue="ctw.verification"}') == 2
    assert metric(after, "ctw_broker_up") == 1


def test_metrics_on_the_embedded_broker_count_its_waiting_messages(tmp_path: Path) -> None:
    data = tmp_path / "embedded"
    url = f"sqlite:///{data / 'ctworkflow.sqlite3'}"
    db.migrate(url)
    broker = f"sqla+sqlite:///{data / 'broker.sqlite3'}"
    with (
        running_server(tmp_path, CTW_DATA_DIR=str(data), CTW_DATABASE_URL=url) as server,
        client_app(broker) as app,
    ):
        for _ in range(2):
            app.send_task("ctworkflow.component.run", args=({}, "x", 1), queue="ctw.components")
        text = requests.get(f"{server.url}/metrics", timeout=10).text
    db.close_engine(url)

    assert metric(text, 'ctw_queue_depth{queue="ctw.components"}') == 2
    assert metric(text, 'ctw_queue_depth{queue="ctw.orchestration"}') == 0
    assert metric(text, 'ctw_queue_depth{queue="ctw.verification"}') == 0


def test_metrics_say_when_the_broker_is_down(workflow_db: str, tmp_path: Path) -> None:
    down = f"redis://127.0.0.1:{servers.free_port()}/0"
    with running_server(tmp_path, CTW_BROKER_URL=down) as server:
        answer = requests.get(f"{server.url}/metrics", timeout=30)

    assert answer.status_code == 200
    assert metric(answer.text, "ctw_broker_up") == 0
    assert "ctw_queue_depth{" not in answer.text
    assert "ctw_sessions" in answer.text
