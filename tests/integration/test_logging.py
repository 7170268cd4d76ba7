"""Workers log what they do: at INFO the README's way, and as JSON lines carrying the context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from celery import Celery

from ctworkflow import constants
from ctworkflow.domain.states import SessionStatus
from tests import servers
from tests.cli_support import server_env, worker
from tests.workflow_support import make_project, wait_for, wait_until_terminal


def client(broker: str, backend: str) -> Celery:
    """A backend service's Celery app: it knows our task names, not our code."""
    return Celery(broker=broker, backend=backend)


def env_for(
    tmp_path: Path, database: str, redis: servers.RedisServer, **extra: str
) -> dict[str, str]:
    # Broker databases of their own: the suite's in-process worker never takes these tasks.
    return server_env(tmp_path, database, redis.url(3), redis.url(4), **extra)


def test_a_worker_started_the_readme_way_logs_its_tasks_at_info(
    workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    # Given the orchestration worker exactly as the README starts it (from the repository's top
    # level, its deployment app): no log option at all.
    env = env_for(tmp_path, workflow_db, redis_server)
    log = tmp_path / "orchestration.log"
    argv = ["celery", "-A", "workers.orchestration", "worker",
            "-Q", constants.ORCHESTRATION_QUEUE, "--concurrency", "4"]  # fmt: skip
    app = client(redis_server.url(3), redis_server.url(4))
    with worker(argv, env, log):
        # When it runs a task (the reconciler, as beat sends it).
        result = app.send_task(constants.RECONCILE, queue=constants.ORCHESTRATION_QUEUE)
        wait_for(lambda: "succeeded" in log.read_text(), 60, "the worker to log the task")
        result.forget()

    # Then its log says so at INFO, naming the task.
    lines = log.read_text().splitlines()
    done = [line for line in lines if constants.RECONCILE in line and "succeeded" in line]
    assert done and " INFO " in done[0], lines[-20:]


def test_json_log_lines_carry_the_session_step_attempt_and_component(
    workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    # Given one worker for every queue, logging JSON.
    project = make_project(tmp_path / "shop", agent="scaffold")
    env = env_for(tmp_path, workflow_db, redis_server, CTW_LOG_FORMAT="json")
    log = tmp_path / "worker.log"
    queues = ",".join(constants.QUEUES)
    argv = [
        "celery",
        "-A",
        "ctworkflow.workers.orchestration",
        "worker",
        "-Q",
        queues,
        "--concurrency",
        "2",
    ]
    app = client(redis_server.url(3), redis_server.url(4))
    with worker(argv, env, log):
        # When a backend service starts a session and it runs to its end.
        sent = app.send_task(
            constants.START_CONTEXT_TESTING,
            kwargs={**project.scope.to_json(), "context": project.context.module_name},
            queue=constants.ORCHESTRATION_QUEUE,
        )
        session_id = sent.get(timeout=60)
        session = wait_until_terminal(project.scope, session_id)
        assert session.status is SessionStatus.COMPLETE, session.error

    # Then every line is a JSON object, and the lines of its steps carry their context.
    records: list[dict[str, Any]] = [json.loads(line) for line in log.read_text().splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    steps = {
        (r.get("step"), r.get("attempt")) for r in records if r.get("session_id") == session_id
    }
    assert {("initialize", 1), ("spawn_component_testing_sessions", 1), ("finalize", 1)} <= steps
    runs = [r for r in records if r.get("parent_session_id") == session_id]
    modules = {c.module_name for c in project.components}
    assert {r.get("component") for r in runs} == modules, runs
    assert all(r["step"] == "run" and r["attempt"] == 1 and r["session_id"] for r in runs)
    assert any(r["level"] == "INFO" and r.get("task") == constants.RUN_COMPONENT for r in runs)
