"""The ``ctw`` program as a user meets it: help, version, completion, usage errors, listings,
id prefixes, tables and the plain watch, each through the installed entry point."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from importlib import metadata
from pathlib import Path

import pytest

from ctworkflow.domain.states import ExecutionMode, SessionStatus, SessionType
from ctworkflow.persistence.db import unit_of_work
from tests import servers
from tests.cli_support import CTW, Result, base_env, ctw, ok, server_env
from tests.factories import Tenant, make_tenant
from tests.workflow_support import make_project, wait_until_terminal

#: Modules that help must not load: the database, migrations, Celery, the workflow.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "celery",
    "kombu",
    "ctworkflow.persistence",
    "ctworkflow.services",
)


@pytest.fixture
def env(workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path) -> dict[str, str]:
    """Settings of a CLI user pointed at the test servers (the in-process worker runs tasks)."""
    return server_env(tmp_path, workflow_db, redis_server.url(0), redis_server.url(1))


def one_line_error(result: Result, *expected: str) -> str:
    assert result.code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert all(e in lines[0] for e in expected), lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def scoped(env: dict[str, str], tenant: Tenant) -> dict[str, str]:
    return {
        **env,
        "CTW_ACCOUNT": str(tenant.scope.account_id),
        "CTW_PROJECT": str(tenant.scope.project_id),
    }


@pytest.mark.parametrize(
    "argv", [["--help"], ["session", "start", "--help"], ["project", "show", "--help"]]
)
def test_help_loads_no_database_celery_or_workflow(argv: list[str], tmp_path: Path) -> None:
    # Python reports every module it imports (-X importtime) on stderr.
    done = subprocess.run(
        [str(CTW), *argv],
        env={**base_env(tmp_path), "PYTHONPROFILEIMPORTTIME": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "ctworkflow.cli.main" in imported
    loaded = sorted(m for m in imported if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    assert loaded == [], loaded


def test_version_and_shell_completion(tmp_path: Path) -> None:
    plain = base_env(tmp_path)
    version = ok(ctw("--version", env=plain))
    assert version.stdout == f"ctw {metadata.version('ctworkflow')}\n"

    # Typer finds the shell among ctw's parent processes: run it from bash, as a bash user does
    # (under make or CI its parent may be sh, whose completion Typer does not write).
    from_bash = subprocess.run(
        ["bash", "-c", f"{CTW} --show-completion; exit $?"],
        env={**plain, "SHELL": "/bin/bash"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    script = ok(Result(from_bash.returncode, from_bash.stdout, from_bash.stderr)).stdout
    assert "_CTW_COMPLETE" in script and "complete" in script
    completing = {**plain, "_CTW_COMPLETE": "complete_bash", "COMP_WORDS": "ctw session st"}
    assert ok(ctw(env={**completing, "COMP_CWORD": "2"})).stdout.split() == ["start"]
    completing["COMP_WORDS"] = "ctw pro"
    assert ok(ctw(env={**completing, "COMP_CWORD": "1"})).stdout.split() == ["project"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["session", "show"], "Missing argument"),
        (["session", "list", "--limit", "many"], "'--limit'"),
        (["session", "lst"], "No such command 'lst'"),
        (["account", "list", "--colour"], "No such option: --colour"),
    ],
)
def test_usage_errors_are_one_line_naming_the_help(
    argv: list[str], says: str, tmp_path: Path
) -> None:
    result = ctw(*argv, env=base_env(tmp_path))

    assert result.code == 2
    line = one_line_error(result, says)
    assert re.search(r"\(see: ctw [a-z ]*--help\)$", line), line


def test_accounts_and_projects_are_listed_and_shown(env: dict[str, str], workflow_db: str) -> None:
    first, second = make_tenant(workflow_db), make_tenant(workflow_db)

    accounts = ok(ctw("account", "list", "--json", env=env)).json()
    table = ok(ctw("account", "list", env=env)).stdout
    projects = ok(ctw("project", "list", "--json", env=scoped(env, first))).json()
    shown = ok(ctw("project", "show", "my_app", "--json", env=scoped(env, first))).json()
    view = ok(ctw("project", "show", env=scoped(env, second))).stdout

    ids = {str(first.scope.account_id), str(second.scope.account_id)}
    assert ids <= {a["id"] for a in accounts}
    assert all(account_id in table for account_id in ids)  # whole ids, never cut
    assert [p["id"] for p in projects] == [str(first.scope.project_id)]
    assert shown["id"] == str(first.scope.project_id) and shown["layout"] == "phoenix"
    assert {c["module_name"] for c in shown["components"]} == {
        "MyApp.Accounts",
        *(c.module_name for c in first.children),
    }
    assert str(second.scope.project_id) in view and "MyApp.Accounts.UserRepository" in view
    assert str(first.scope.project_id) not in view


def _session(tenant: Tenant, session_id: uuid.UUID, **values: object) -> None:
    with unit_of_work() as uow:
        uow.sessions.add_session(
            tenant.scope,
            id=session_id,
            type=SessionType.CONTEXT_TESTING,
            status=values.pop("status", SessionStatus.ACTIVE),
            user_id="cli",
            component_id=tenant.context.id,
            execution_mode=ExecutionMode.AGENTIC,
            environment_type="local",
            agent="scaffold",
            state={},
            max_attempts=3,
            **values,
        )


def test_ids_can_be_given_by_a_unique_prefix(
    env: dict[str, str], workflow_db: str, tmp_path: Path
) -> None:
    tenant = make_tenant(workflow_db)
    twins = [uuid.UUID("abcd1234-0000-4000-8000-000000000001"),
             uuid.UUID("abcd5678-0000-4000-8000-000000000002")]  # fmt: skip
    _session(tenant, twins[0], status=SessionStatus.FAILED, error="no\nmore")
    _session(tenant, twins[1], status=SessionStatus.CANCELLED, error="cancelled")
    mine = scoped(env, tenant)

    shown = ok(ctw("session", "show", "abcd1", "--json", env=mine)).json()
    dashed = ok(ctw("session", "show", "ABCD5678-00", "--json", env=mine)).json()
    one_line_error(ctw("session", "show", "abcd", env=mine), "prefix 'abcd' is ambiguous")
    one_line_error(ctw("session", "show", "abcd9", env=mine), "session abcd9 not found")
    one_line_error(ctw("session", "show", "abc", env=mine), "is not a valid id")
    by_prefix = {
        **mine,
        "CTW_ACCOUNT": str(tenant.scope.account_id)[:8],
        "CTW_PROJECT": str(tenant.scope.project_id)[:8],
    }
    listed = ok(ctw("session", "list", "--json", env=by_prefix)).json()
    # Another tenant's session is not found by prefix either.
    other = make_tenant(workflow_db)
    one_line_error(
        ctw("session", "show", "abcd1", env=scoped(env, other)), "session abcd1 not found"
    )

    assert shown["id"] == str(twins[0]) and dashed["id"] == str(twins[1])
    assert {s["id"] for s in listed} == {str(t) for t in twins}


def test_tables_show_whole_ids_and_the_first_line_of_reasons(
    env: dict[str, str], workflow_db: str
) -> None:
    tenant = make_tenant(workflow_db)
    failed = uuid.uuid4()
    reason = "3 of 3 components did not pass: MyApp.Accounts.User (tests failed: 1 of 2 passed)"
    _session(tenant, failed, status=SessionStatus.FAILED, error=f"{reason}\nsecond line")

    table = ok(ctw("session", "list", env=scoped(env, tenant))).stdout

    assert str(failed) in table
    flat = " ".join(table.split())  # a long reason wraps within its cell
    assert all(word in flat for word in reason.split())
    assert "second line" not in table


def test_watch_off_a_terminal_prints_each_change_as_it_happens(
    env: dict[str, str], tmp_path: Path
) -> None:
    # Given a running session whose first component's agent hangs.
    project = make_project(tmp_path / "shop")
    project.plan({"shop.accounts.user": ["hang"]})
    session = project.start()
    mine = {
        **env,
        "CTW_ACCOUNT": str(project.scope.account_id),
        "CTW_PROJECT": str(project.scope.project_id),
    }

    # When it is watched through a pipe.
    watcher = subprocess.Popen(
        [str(CTW), "session", "watch", str(session.id), "--timeout", "120"],
        env=mine,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        first = watcher.stdout.readline()  # the pipe gets lines while the session runs
        assert f"session {session.id} active" in first, first
        deadline = time.monotonic() + 60
        lines = [first]
        while not any("shop.accounts.user_repository complete" in line for line in lines):
            assert time.monotonic() < deadline, lines
            lines.append(watcher.stdout.readline())
        ok(ctw("session", "cancel", str(session.id), env=mine))
        rest, errors = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()  # the process we started
            watcher.wait(10)

    # Then every change came as its own line, and the last one says how it ended.
    output = "".join(lines) + rest
    assert watcher.returncode == 1, errors
    assert output.endswith(f"session {session.id} cancelled: cancelled\n"), output[-300:]
    assert len(output.splitlines()) >= 4
    assert "\x1b[" not in output  # no terminal control sequences in a pipe
    assert wait_until_terminal(project.scope, session.id).status is SessionStatus.CANCELLED
