"""``ctw`` through its real entry point: a subprocess per command, PostgreSQL, Redis, a worker."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ctworkflow.tasks.app import app
from tests import servers
from tests.cli_support import CTW, Result, ctw, ok, server_env
from tests.samples import git, python_sample
from tests.workflow_support import FAKE_AGENT, wait_for

MODULES = ("user", "user_repository", "accounts_live")


@pytest.fixture
def env(workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path) -> dict[str, str]:
    """Settings of a CLI user pointed at the test servers (the in-process worker runs tasks)."""
    return server_env(tmp_path, workflow_db, redis_server.url(0), redis_server.url(1))


def one_line_error(result: Result, expected: str) -> None:
    assert result.code != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]


def register(env: dict[str, str], root: Path, account: str) -> dict[str, str]:
    """Account, project (fake agent) and context of a sample repository, all through ctw."""
    root.mkdir(parents=True)
    sample = python_sample(root, modules=MODULES)
    plan = root / "plan.json"
    plan.write_text("{}")
    argv = [
        sys.executable,
        str(FAKE_AGENT),
        "--plan",
        str(plan),
        "--state",
        str(root / "agent-state"),
        "--module",
        "{module}",
        "--test-path",
        "{test_path}",
        "--prompt",
        "{prompt_file}",
    ]
    created = ok(ctw("account", "create", account, "--json", env=env)).json()
    assert set(created) == {"id", "name", "created_at"}
    scoped = {**env, "CTW_ACCOUNT": account}
    project = ok(
        ctw(
            "project",
            "create",
            "shop",
            "--repo",
            str(sample.remote),
            "--layout",
            "python",
            "--setting",
            "agent=command",
            "--setting",
            f"agent_argv={json.dumps(argv)}",
            "--setting",
            "agent_timeout_s=20",
            # No check for flaky tests, no mutants: these tests check the CLI, not test quality.
            "--setting",
            "flaky_runs=0",
            "--setting",
            "max_mutants=0",
            "--json",
            env=scoped,
        )
    ).json()
    assert project["settings"]["agent_argv"] == argv
    assert project["account_id"] == created["id"]
    scoped["CTW_PROJECT"] = "shop"
    context = ok(
        ctw(
            "component",
            "add",
            sample.context_module,
            "--name",
            sample.context_name,
            "--context",
            "--json",
            env=scoped,
        )
    ).json()
    assert context["type"] == "context"
    for c in sample.components:
        child = ok(
            ctw(
                "component",
                "add",
                c.module_name,
                "--name",
                c.name,
                "--parent",
                sample.context_module,
                "--priority",
                str(c.priority),
                "--json",
                env=scoped,
            )
        ).json()
        assert child["parent_id"] == context["id"]
    scoped["REMOTE"] = str(sample.remote)
    scoped["PLAN"] = str(plan)
    return scoped


def test_cli_registers_a_project_runs_a_session_and_shows_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    ok(ctw("db", "upgrade", env=env))
    scoped = register(env, tmp_path / "shop", f"acme-{uuid.uuid4().hex[:6]}")
    listed = ok(ctw("component", "list", "--json", env=scoped)).json()
    assert sorted(c["module_name"] for c in listed) == sorted(
        ["shop.accounts", *(f"shop.accounts.{m}" for m in MODULES)]
    )

    started = ok(ctw("session", "start", "shop.accounts", "--json", env=scoped)).json()
    watched = ctw("session", "watch", started["id"], "--json", "--timeout", "120", env=scoped)

    # watch: JSON lines until the end, exit status 0 for a complete session.
    assert watched.code == 0, watched.stderr
    snapshots = watched.json_lines()
    assert snapshots[-1]["status"] == "complete"
    assert snapshots[-1]["progress"]["complete"] == 3
    assert {c["module_name"] for c in snapshots[-1]["components"]} == {
        f"shop.accounts.{m}" for m in MODULES
    }
    assert all(c["tests_passed"] == 2 for c in snapshots[-1]["components"])

    shown = ok(ctw("session", "show", started["id"], "--json", env=scoped)).json()
    assert shown["status"] == "complete"
    assert shown["branch_name"] == "test-context-testing-session-for-accounts"
    assert shown["commit"] == git(
        "rev-parse", "test-context-testing-session-for-accounts", cwd=Path(scoped["REMOTE"])
    )
    assert [(i["step"], i["attempt"]) for i in shown["interactions"]] == [
        ("initialize", 1),
        ("spawn_component_testing_sessions", 1),
        ("finalize", 1),
    ]
    assert len(shown["children"]) == 3
    assert all(c["status"] == "complete" and c["attempt"] == 1 for c in shown["children"])
    assert all(c["artifact"]["report"]["passed"] == 2 for c in shown["children"])

    table = ok(ctw("session", "show", started["id"], env=scoped)).stdout
    assert "test-context-testing-session-for-accounts" in table
    assert "shop.accounts.user_repository" in table

    complete = ok(ctw("session", "list", "--status", "complete", "--json", env=scoped)).json()
    assert [s["id"] for s in complete] == [started["id"]]
    everything = ok(ctw("session", "list", "--type", "all", "--json", env=scoped)).json()
    assert len(everything) == 4
    assert ok(ctw("session", "list", "--status", "failed", "--json", env=scoped)).json() == []


def test_cli_cancels_and_retries_a_session(env: dict[str, str], tmp_path: Path) -> None:
    scoped = register(env, tmp_path / "shop", f"acme-{uuid.uuid4().hex[:6]}")
    Path(scoped["PLAN"]).write_text(json.dumps({"shop.accounts.user": ["hang", "good"]}))
    started = ok(ctw("session", "start", "shop.accounts", env=scoped)).stdout.strip()

    cancelled = ok(ctw("session", "cancel", started, "--json", env=scoped)).json()
    assert cancelled["status"] == "cancelled"
    watched = ctw("session", "watch", started, "--timeout", "60", env=scoped)
    assert watched.code == 1  # ended, but not complete
    assert "cancelled" in watched.stdout

    retried = ctw("session", "retry", started, "--watch", "--json", "--timeout", "120", env=scoped)
    assert retried.code == 0, retried.stderr
    assert retried.json_lines()[-1]["status"] == "complete"
    shown = ok(ctw("session", "show", started, "--json", env=scoped)).json()
    assert shown["max_attempts"] > cancelled["max_attempts"]  # a fresh budget of rounds
    assert {c["max_attempts"] for c in shown["children"]} == {shown["max_attempts"]}


def test_cli_errors_are_one_line_and_a_non_zero_exit(env: dict[str, str], tmp_path: Path) -> None:
    scoped = register(env, tmp_path / "shop", "twin")
    ok(ctw("account", "create", "twin", env=env))

    one_line_error(ctw("session", "list", env=env), "no account: give --account")
    one_line_error(ctw("session", "list", env=scoped), "2 accounts are named 'twin'")
    account_id = ok(ctw("account", "create", "solo", "--json", env=env)).json()["id"]
    solo = {**env, "CTW_ACCOUNT": account_id, "CTW_PROJECT": "nope"}
    one_line_error(ctw("session", "list", env=solo), "project nope not found")
    one_line_error(
        ctw(
            "project",
            "create",
            "x",
            "--repo",
            "https://example.com/r.git",
            "--layout",
            "cobol",
            env=solo,
        ),
        "unknown layout 'cobol'",
    )
    missing = str(uuid.uuid4())
    shop = {**env, "CTW_ACCOUNT": account_id}
    ok(ctw("project", "create", "shop", "--repo", "https://example.com/nowhere.git", env=shop))
    shop["CTW_PROJECT"] = "shop"
    one_line_error(ctw("session", "show", missing, "--json", env=shop), f"session {missing} not")
    one_line_error(ctw("session", "show", "not-an-id", env=shop), "is not a valid id")
    one_line_error(ctw("session", "start", "shop.nothing", env=shop), "component shop.nothing")
    one_line_error(ctw("project", "create", "y", "--repo", "r", "--setting", "k", env=shop), "KEY")
    flaky_runs = ["--repo", "https://example.com/r.git", "--setting", "flaky_runs=-1"]
    one_line_error(
        ctw("project", "create", "z", *flaky_runs, env=shop),
        "setting flaky_runs must be a whole number from 0 to 20",
    )
    allow = 'network_allow=["pypi.org", "https://pypi.org/simple"]'
    one_line_error(
        ctw(
            "project",
            "create",
            "z",
            "--repo",
            "https://example.com/z.git",
            "--setting",
            allow,
            env=shop,
        ),
        "the setting 'network_allow': 'https://pypi.org/simple' is not a host, a host:port or",
    )
    assert [p["name"] for p in ok(ctw("project", "list", "--json", env=shop)).json()] == ["shop"]
    one_line_error(ctw("worker", "--queue", "steps", env=shop), "unknown queue 'steps'")
    unmigrated = {**env, "CTW_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    one_line_error(ctw("account", "create", "a", env=unmigrated), "run: ctw db upgrade")
    bad_settings = {**env, "CTW_MAX_ATTEMPTS": "0"}
    one_line_error(ctw("account", "create", "a", env=bad_settings), "CTW_MAX_ATTEMPTS")


def test_cli_worker_execs_a_celery_worker_of_our_app(
    env: dict[str, str], redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    name = f"cli-{uuid.uuid4().hex[:6]}@test"
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [str(CTW), "worker", "--queue", "components", "--pool", "solo", "--hostname", name],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: bool(app.control.ping([name], timeout=1)), 60, "the worker to answer")
        queues = app.control.inspect([name], timeout=2).active_queues() or {}
        assert [q["name"] for q in queues[name]] == ["ctw.components"]
    finally:
        worker.send_signal(signal.SIGTERM)  # the process we started (exec kept its pid)
        assert worker.wait(30) == 0
        log.close()


def test_cli_discovers_components_and_reconciles(env: dict[str, str], tmp_path: Path) -> None:
    sample = python_sample(tmp_path / "repo", modules=MODULES)
    ok(ctw("account", "create", "discoverer", env=env))
    scoped = {**env, "CTW_ACCOUNT": "discoverer", "CTW_PROJECT": "shop"}
    ok(ctw("project", "create", "shop", "--repo", str(sample.remote), "--layout", "python",
           env=scoped))  # fmt: skip

    first = ok(ctw("discover", "--json", env=scoped)).json()
    again = ok(ctw("discover", "--json", env=scoped)).json()
    listed = ok(ctw("component", "list", "--json", env=scoped)).json()
    reconciled = ok(ctw("reconcile", "--json", env=scoped)).json()

    assert {"commit", "added", "renamed", "removed", "unchanged", "skipped"} <= set(first)
    modules = {c.module_name for c in sample.components}
    assert modules <= set(first["added"])
    assert again["added"] == [] and again["removed"] == []
    assert modules <= set(again["unchanged"])
    assert modules <= {c["module_name"] for c in listed}
    assert set(reconciled) == {"sessions", "actions", "redriven_sessions"}
    assert reconciled["actions"] == {}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["session", "show", "not-a-uuid"], "not a valid id"),
        (["session", "show", str(uuid.UUID(int=7))], "not found"),
        (["session", "start", "$(touch /tmp/ctw-cli-canary)"], "not found"),
        (["session", "start", "x" * 10_000], "10000 characters"),
        (["component", "add", "../../etc/passwd"], "module name"),
        (["project", "create", "p2", "--repo", "https://u:t0ken@example.com/x.git"], "credentials"),
        (["project", "create", "p3", "--repo", "ext::sh -c touch% /tmp/ctw-cli-canary"], "helpers"),
        (
            ["project", "create", "p4", "--repo", "https://example.com/x.git", "--layout", "rails"],
            "layout",
        ),
        (["session", "start", "shop.accounts", "--user", "u" * 300], "user id is 300 characters"),
        (["session", "start", "shop.accounts", "--max-attempts", str(2**31)], "at most 1000"),
        (["component", "add", "shop.accounts.extra", "--priority", str(2**40)], "at most 2147"),
    ],
)
def test_cli_refuses_hostile_input_in_one_line_and_writes_nothing(
    env: dict[str, str], tmp_path: Path, argv: list[str], expected: str
) -> None:
    scoped = register(env, tmp_path / "shop", f"acme-{uuid.uuid4().hex[:6]}")
    before = ok(ctw("component", "list", "--json", env=scoped)).json()

    result = ctw(*argv, env=scoped)

    one_line_error(result, expected)
    assert "t0ken" not in result.stderr + result.stdout
    assert ok(ctw("component", "list", "--json", env=scoped)).json() == before
    assert ok(ctw("session", "list", "--json", env=scoped)).json() == []
    assert not Path("/tmp/ctw-cli-canary").exists()
