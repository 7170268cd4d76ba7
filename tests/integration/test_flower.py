"""Flower, a real process on the tests' Redis, sees our tasks by name, with small arguments."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
import yaml

from ctworkflow import api, constants
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.tasks.app import app
from tests import servers
from tests.cli_support import base_env
from tests.workflow_support import Project, make_project, wait_for, wait_until_terminal

AUTH = ("ops", "flower-test-pw")
SECRET = "s3cr3t-deploy-token"
OUR_TASKS = {
    constants.START_CONTEXT_TESTING,
    constants.INITIALIZE,
    constants.SPAWN,
    constants.RUN_COMPONENT,
    constants.VALIDATE,
    constants.FINALIZE,
}


@pytest.fixture
def flower(redis_server: servers.RedisServer, tmp_path: Path) -> Iterator[str]:
    """``celery flower`` on a free loopback port, with basic auth; its base URL."""
    port = servers.free_port()
    env = base_env(
        tmp_path / "home",
        CTW_BROKER_URL=redis_server.url(0),
        CTW_RESULT_BACKEND=redis_server.url(1),
        CTW_DATA_DIR=str(tmp_path / "flower-data"),
    )
    log = (tmp_path / "flower.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ctworkflow.workers.orchestration",
            "flower",
            f"--port={port}",
            f"--address={servers.HOST}",
            f"--basic-auth={AUTH[0]}:{AUTH[1]}",
        ],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://{servers.HOST}:{port}"
    try:
        wait_for(lambda: _answers(f"{url}/healthcheck"), 60, "Flower to answer")
        yield url
    finally:
        process.terminate()  # the process we started, by its id
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(20)
        log.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


@pytest.fixture
def project(workflow_db: str, tmp_path: Path) -> Project:
    shop = make_project(tmp_path / "shop")
    with unit_of_work() as uow:  # a credential in the project's settings: never in a task
        uow.catalog.db.execute(
            sa.text("UPDATE projects SET settings = settings || :extra WHERE id = :id"),
            {"extra": f'{{"deploy_token": "{SECRET}"}}', "id": shop.scope.project_id},
        )
    return shop


def _tasks(url: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = requests.get(f"{url}/api/tasks", auth=AUTH, timeout=5).json()
    return found


def test_flower_shows_our_tasks_by_name_with_ids_only(flower: str, project: Project) -> None:
    # Flower broadcasts enable_events every 5 s; wait until it sees the worker.
    wait_for(
        lambda: requests.get(f"{flower}/api/workers", auth=AUTH, timeout=5).json() != {},
        30,
        "Flower to see the worker",
    )
    # A backend service starts a session by task name, without importing ctworkflow.
    session_id = app.send_task(
        constants.START_CONTEXT_TESTING,
        kwargs={
            "account_id": str(project.scope.account_id),
            "project_id": str(project.scope.project_id),
            "context": project.context.module_name,
        },
        queue=constants.ORCHESTRATION_QUEUE,
    ).get(timeout=30)
    session = wait_until_terminal(project.scope, session_id)
    assert session.status.value == "complete", session.error

    def all_seen() -> bool:
        tasks = _tasks(flower)
        done = [t for t in tasks.values() if t["state"] == "SUCCESS"]
        names = {t["name"] for t in done}
        return names >= OUR_TASKS and sum(t["name"] == constants.RUN_COMPONENT for t in done) >= 3

    wait_for(all_seen, 30, "Flower to see every task of the session succeed")
    tasks = [t for t in _tasks(flower).values() if t["name"] in OUR_TASKS]

    # Arguments are ids and small values: no repository, prompt, agent command or credential.
    forbidden = [str(project.sample.remote), str(project.root), SECRET, "prompt", "agent_argv"]
    for task in tasks:
        shown = f"{task['args']} {task['kwargs']} {task.get('result')}"
        assert not [f for f in forbidden if f in shown], (task["name"], shown)
        assert len(f"{task['args']} {task['kwargs']}") < 300, shown
    runs = [t for t in tasks if t["name"] == constants.RUN_COMPONENT]
    assert all(
        re.fullmatch(r"\(session=[0-9a-f-]{36}, parent=[0-9a-f-]{36}, attempt=1\)", t["args"])
        for t in runs
    )
    starts = [t for t in tasks if t["name"] == constants.START_CONTEXT_TESTING]
    assert project.context.module_name in starts[0]["kwargs"]
    assert starts[0]["sent"] is not None  # producers send task-sent events

    # Long component runs report their steps as task-progress events.
    metrics = requests.get(f"{flower}/metrics", timeout=5).text
    assert re.search(
        r'flower_events_total\{[^}]*task="ctworkflow\.component\.run"[^}]*type="task-progress"'
        r"[^}]*\} [1-9]",
        metrics,
    ), [line for line in metrics.splitlines() if "task-progress" in line]
    # The API needs the password; the Prometheus metrics do not.
    assert requests.get(f"{flower}/api/tasks", timeout=5).status_code == 401


def _datatable(text: str) -> dict[str, str | int]:
    return {
        "draw": 1,
        "start": 0,
        "length": 200,
        "search[value]": text,
        "order[0][column]": 0,
        "columns[0][data]": "name",
        "order[0][dir]": "asc",
    }


def _search(url: str, text: str) -> list[dict[str, Any]]:
    """Flower's own search (its tasks page), as an operator types the text."""
    page = requests.get(
        f"{url}/tasks/datatable",
        params=_datatable(text),
        auth=AUTH,
        timeout=5,
    ).json()
    assert "searchError" not in page, page
    found: list[dict[str, Any]] = page["data"]
    return found


def test_flower_shows_a_failed_component_failed_and_finds_runs_by_their_session(
    flower: str, project: Project
) -> None:
    wait_for(
        lambda: requests.get(f"{flower}/api/workers", auth=AUTH, timeout=5).json() != {},
        30,
        "Flower to see the worker",
    )
    # Given a session whose component shop.accounts.user gets a failing test, one round only.
    project.plan({"shop.accounts.user": ["fail"]})
    session = project.start(max_attempts=1)
    ended = wait_until_terminal(project.scope, session.id)
    assert ended.status.value == "failed", ended.error
    children = {
        c.component_id: c.id for c in api.session_details(project.scope, session.id).children
    }
    failing = children[next(c.id for c in project.components if c.module_name.endswith(".user"))]

    # When an operator searches Flower for the session's id.
    def runs() -> list[dict[str, Any]]:
        found = _search(flower, str(session.id))
        return [t for t in found if t["name"] == constants.RUN_COMPONENT]

    wait_for(
        lambda: len(runs()) == 3 and all(t["state"] in ("SUCCESS", "FAILURE") for t in runs()),
        30,
        "Flower to see the session's three component runs end",
    )

    # Then its component runs are there, and the failed component's run shows FAILURE, why,
    # and in which worker; the others SUCCESS; the chord still fired (validation ran).
    by_child = {re.search(r"session=([0-9a-f-]{36})", t["args"])[1]: t for t in runs()}  # type: ignore[index]
    assert set(by_child) == {str(child) for child in children.values()}
    failed = by_child.pop(str(failing))
    assert failed["state"] == "FAILURE", failed
    assert "ComponentFailed(failed:" in failed["exception"], failed
    assert failed["worker"]
    assert all(t["state"] == "SUCCESS" for t in by_child.values()), by_child
    assert all(f"parent={session.id}" in t["args"] for t in runs())
    steps = {t["name"] for t in _search(flower, str(session.id))}
    assert {constants.INITIALIZE, constants.SPAWN, constants.VALIDATE} <= steps


def test_the_compose_health_check_of_flower_passes_against_a_real_flower(flower: str) -> None:
    compose = yaml.safe_load((Path(__file__).parents[2] / "docker-compose.yml").read_text())
    kind, *argv = compose["services"]["flower"]["healthcheck"]["test"]
    assert kind == "CMD" and argv[0] == "python"
    port = flower.rsplit(":", 1)[1]
    here = [
        sys.executable,
        *(a.replace("127.0.0.1:5555", f"{servers.HOST}:{port}") for a in argv[1:]),
    ]

    assert subprocess.run(here, check=False, timeout=30).returncode == 0
    stopped = [
        sys.executable,
        *(a.replace("127.0.0.1:5555", f"{servers.HOST}:1") for a in argv[1:]),
    ]
    assert subprocess.run(stopped, check=False, timeout=30, capture_output=True).returncode != 0
