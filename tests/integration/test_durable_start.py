"""A session started while the broker is down is queued, never lost nor reported as an error."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from ctworkflow import api
from ctworkflow.domain.states import SessionStatus
from ctworkflow.persistence.db import unit_of_work
from tests import servers
from tests.cli_support import Result, base_env, ctw
from tests.workflow_support import Project, make_project, wait_until_terminal


def cli_env(
    project: Project, database: str, broker: str, tmp_path: Path, **extra: str
) -> dict[str, str]:
    return base_env(
        tmp_path / "home",
        CTW_DATABASE_URL=database,
        CTW_BROKER_URL=broker,
        CTW_DATA_DIR=str(tmp_path / "cli-data"),
        CTW_ACCOUNT=str(project.scope.account_id),
        CTW_PROJECT=str(project.scope.project_id),
        **extra,
    )


def assert_queued(result: Result) -> uuid.UUID:
    """``session start`` succeeded: the id on stdout, one line on stderr saying it is queued."""
    assert result.code == 0, result.stderr
    session_id = uuid.UUID(result.stdout.strip())
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("queued: the broker is unreachable"), lines
    assert "the reconciler sends it" in lines[0]
    return session_id


def test_start_with_the_broker_down_gives_the_id_and_the_reconciler_runs_it(
    workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    # Given a broker nobody listens on.
    project = make_project(tmp_path / "shop")
    down = cli_env(
        project, workflow_db, f"redis://{servers.HOST}:{servers.free_port()}/0", tmp_path
    )

    # When a user starts a session.
    session_id = assert_queued(ctw("session", "start", project.context.module_name, env=down))

    # Then it is committed, waiting for the reconciler; starting again finds the same one.
    with unit_of_work() as uow:
        session = uow.sessions.get_session(project.scope, session_id)
        assert uow.sessions.interactions(project.scope, session_id) == []
    assert session.status is SessionStatus.ACTIVE and api.queued_reason(session)
    assert assert_queued(ctw("session", "start", project.context.module_name, env=down)) == (
        session_id
    )

    # When the broker is back, the reconciler's next pass sends it at once (not once stale).
    up = cli_env(project, workflow_db, redis_server.url(0), tmp_path)
    reconciled = ctw("reconcile", "--json", env=up)
    assert reconciled.code == 0, reconciled.stderr
    assert reconciled.json()["actions"] == {"RunStep": 1}

    # Then it runs to its end, no longer queued.
    ended = wait_until_terminal(project.scope, session_id)
    assert ended.status is SessionStatus.COMPLETE, ended.error
    assert api.queued_reason(ended) is None


def test_start_against_a_silent_broker_gives_up_within_its_bound(
    workflow_db: str, tmp_path: Path
) -> None:
    # Given a broker that accepts connections but never answers (its process stopped).
    project = make_project(tmp_path / "shop")
    (tmp_path / "silent").mkdir()
    with servers.running_redis(tmp_path / "silent") as silent:
        pid = silent.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # the server we started, by its id
        try:
            env = cli_env(project, workflow_db, silent.url(0), tmp_path, CTW_BROKER_TIMEOUT_S="1")
            began = time.monotonic()
            result = ctw("session", "start", project.context.module_name, env=env, timeout=120)
            took = time.monotonic() - began
        finally:
            os.kill(pid, signal.SIGCONT)

    # Then the start returned, queued, well within a generous deadline of its own.
    assert_queued(result)
    assert took < 60, f"a publish to a silent broker blocked {took:.0f} s"
