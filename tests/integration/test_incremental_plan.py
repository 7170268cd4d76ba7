"""``ctw session start --plan`` and ``POST /v1/projects/{project}/sessions/plan``: which
components a session started now would run and which it would reuse, and why; nothing starts."""

from __future__ import annotations

import uuid
from pathlib import Path

import requests

from ctworkflow import api
from ctworkflow.domain.states import SessionStatus
from tests import servers
from tests.cli_support import ctw, ok, server_env
from tests.http_support import Server, token_for
from tests.workflow_support import Project, make_project, wait_until_terminal


def cli_env(
    project: Project, workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> dict[str, str]:
    return {
        **server_env(tmp_path, workflow_db, redis_server.url(0), redis_server.url(1)),
        "CTW_ACCOUNT": str(project.scope.account_id),
        "CTW_PROJECT": str(project.scope.project_id),
    }


def plan_over_http(server: Server, project: Project) -> requests.Response:
    return requests.post(
        f"{server.url}/v1/projects/{project.scope.project_id}/sessions/plan",
        json={"context": project.context.module_name},
        headers={"Authorization": f"Bearer {token_for(project.scope)}"},
        timeout=30,
    )


def session_count(project: Project) -> int:
    return len(api.list_sessions(project.scope))


def test_the_plan_names_each_component_reused_after_a_complete_session_and_starts_nothing(
    project: Project,
    server: Server,
    workflow_db: str,
    redis_server: servers.RedisServer,
    tmp_path: Path,
) -> None:
    env = cli_env(project, workflow_db, redis_server, tmp_path)
    modules = [c.module_name for c in project.components]

    # Given no session yet: every component runs
    before = ok(ctw("session", "start", project.context.module_name, "--plan", env=env))
    assert before.stdout.splitlines() == [f"{m}: runs: no complete session yet" for m in modules]

    # Given a complete session
    first = wait_until_terminal(project.scope, project.start().id)
    assert first.status is SessionStatus.COMPLETE, first.error
    sessions = session_count(project)

    # When the plan is asked for by the CLI (text and JSON) and over HTTP
    text = ok(ctw("session", "start", project.context.module_name, "--plan", env=env))
    shown = ok(
        ctw("session", "start", project.context.module_name, "--plan", "--json", env=env)
    ).json()
    answer = plan_over_http(server, project)

    # Then each says every component is reused from that session, and nothing started
    unchanged = "(source, test file, environment, runner)"
    reason = f"reused: unchanged since session {str(first.id)[:8]} {unchanged}"
    assert text.stdout.splitlines() == [f"{m}: {reason}" for m in modules]
    expected = [
        {"component": m, "reuse": True, "reason": reason, "from_session": str(first.id)}
        for m in modules
    ]
    assert shown == {"plan": expected}
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"plan": expected}
    assert session_count(project) == sessions


def test_the_setting_makes_the_plan_a_full_run_and_a_bad_value_is_refused_in_one_line(
    workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    # Given a project that turns reuse off
    project = make_project(tmp_path / "off", settings={"reuse_verified_tests": False})
    env = cli_env(project, workflow_db, redis_server, tmp_path)

    # When its plan is shown
    shown = ok(ctw("session", "start", project.context.module_name, "--plan", env=env))

    # Then every component runs, saying why
    assert {line.split(": ", 1)[1] for line in shown.stdout.splitlines()} == {
        "runs: full run (reuse_verified_tests is false)"
    }

    # And a project created with a value that is not a boolean is refused in one line
    bad = ctw(
        "project",
        "create",
        f"bad-{uuid.uuid4().hex[:6]}",
        "--repo",
        str(project.sample.remote),
        "--layout",
        "python",
        "--setting",
        "reuse_verified_tests=maybe",
        env=env,
    )
    assert bad.code != 0
    lines = bad.stderr.strip().splitlines()
    assert lines == ["error: setting reuse_verified_tests must be true or false, not 'maybe'"]
