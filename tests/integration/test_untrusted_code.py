"""Hostile repositories and agents through whole sessions: links out of the workspace, a huge
test file, and an agent whose worker is killed. Real worker, real sandbox, real git remote."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

from ctworkflow import api, constants
from ctworkflow.config import get_settings
from ctworkflow.domain.repository.layouts import Layout, test_file_path
from ctworkflow.domain.states import ParentStep, SessionStatus
from tests import servers
from tests.conftest import FAKE_AGENTS, fresh_database
from tests.samples import git
from tests.sandbox_support import gone_within, processes_with, wait_for_processes
from tests.workflow_support import Project, make_project, wait_for, wait_until_terminal

ROOT = Path(__file__).resolve().parents[2]
BRANCH = "test-context-testing-session-for-accounts"


def only_the_project_folder_for_agents(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the fake agent write its own state only, not the whole test folder (canaries)."""
    monkeypatch.setenv("CTW_SANDBOX_AGENT_PATHS", json.dumps([str(project.root), str(FAKE_AGENTS)]))
    monkeypatch.setenv("CTW_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()


def commit_links(project: Project, links: dict[str, Path]) -> str:
    """Commit symbolic links at repository paths and push them; the new head."""
    work = project.sample.remote.parent / "work"
    for relative, target in links.items():
        path = work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "Link test files", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    return project.remote_git("rev-parse", "main")


def assert_nothing_pushed(project: Project, base: str) -> None:
    """Main is where it was, and the empty branch the failed session made is gone again."""
    wait_for(lambda: project.branch_head(BRANCH) is None, timeout_s=30, what="branch deleted")
    assert project.remote_git("rev-parse", "main") == base


def child_errors(project: Project, session_id: uuid.UUID) -> dict[str, str | None]:
    details = api.session_details(project.scope, session_id)
    return {details.components[c.component_id].module_name: c.error for c in details.children}


def test_test_paths_linked_out_of_the_repository_are_refused_and_nothing_outside_changes(
    workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "shop")
    only_the_project_folder_for_agents(project, monkeypatch)
    replaced, written = (c.module_name for c in project.components[:2])
    canaries = {m: tmp_path / f"canary-{m}.txt" for m in (replaced, written)}
    for canary in canaries.values():
        canary.write_text("original")
    base = commit_links(
        project, {test_file_path(Layout.PYTHON, m): canary for m, canary in canaries.items()}
    )
    # Were they run, one agent would replace the link with a file, the other write through it.
    project.plan({replaced: ["replace"], written: ["good"]})

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.FAILED
    assert all(canary.read_text() == "original" for canary in canaries.values())
    # Both are refused where their paths are read, before any agent runs for them.
    errors_of = child_errors(project, session.id)
    for module in (replaced, written):
        path = test_file_path(Layout.PYTHON, module)
        assert f"test file {path} is a symlink to " in (errors_of[module] or "")
        assert (errors_of[module] or "").endswith("outside the repository")
    assert not [c for c in project.agent_calls() if c["module"] in (replaced, written)]
    (validation,) = [
        i
        for i in api.session_details(project.scope, session.id).interactions
        if i.step == ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS
    ]
    assert validation.outcome is not None
    reasons = {f["module_name"] for f in validation.outcome.data["failures"]}
    assert reasons == {replaced, written}  # the third component passed
    assert_nothing_pushed(project, base)


def test_an_agent_that_writes_a_link_instead_of_a_test_file_is_refused(
    workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "shop")
    only_the_project_folder_for_agents(project, monkeypatch)
    module = project.components[0].module_name
    project.plan({module: ["symlink"]})
    base = project.remote_git("rev-parse", "main")

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.FAILED
    path = test_file_path(Layout.PYTHON, module)
    assert child_errors(project, session.id)[module] == (
        f"test file {path} is a symbolic link; refused"
    )
    details = api.session_details(project.scope, session.id)
    assert not [a for a in details.artifacts.values() if "root:" in a.content]
    assert all(a.test_path != path for a in details.artifacts.values())
    assert_nothing_pushed(project, base)


def test_a_200_mib_test_file_fails_its_component_with_the_limit_named(
    workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "shop")
    only_the_project_folder_for_agents(project, monkeypatch)
    module = project.components[0].module_name
    project.plan({module: ["huge"]})
    base = project.remote_git("rev-parse", "main")

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.FAILED
    path = test_file_path(Layout.PYTHON, module)
    assert child_errors(project, session.id)[module] == (
        f"test file {path} is 200 MiB, over the limit of 1 MiB (CTW_MAX_TEST_FILE_BYTES)"
    )
    details = api.session_details(project.scope, session.id)
    assert all(a.test_path != path for a in details.artifacts.values())  # nothing stored
    assert max(len(a.content) for a in details.artifacts.values()) < 1 << 20
    assert_nothing_pushed(project, base)


def test_an_agent_dies_with_its_sigkilled_worker(
    request: pytest.FixtureRequest,
    redis_server: servers.RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A worker process of its own, on broker and result databases no other worker reads.
    database = fresh_database(request, "postgresql", tmp_path)
    broker, results = redis_server.url(6), redis_server.url(7)
    monkeypatch.setenv("CTW_DATABASE_URL", database)
    get_settings.cache_clear()
    project = make_project(tmp_path / "shop", settings={"agent_timeout_s": 600})
    module = project.components[0].module_name
    project.plan({module: ["hang"]})
    env = {
        **os.environ,
        "CTW_BROKER_URL": broker,
        "CTW_RESULT_BACKEND": results,
        "PYTHONPATH": str(ROOT),
    }
    queues = f"{constants.ORCHESTRATION_QUEUE},{constants.COMPONENT_QUEUE}"
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "ctworkflow.workers.orchestration", "worker"),
            *("-Q", queues, "--pool=prefork", "--concurrency=2"),
            *("--without-mingle", "--without-gossip", "--loglevel=WARNING"),
            *("-n", f"sigkill-{uuid.uuid4().hex[:6]}@%h"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "worker.log").open("wb"),
        start_new_session=True,
    )
    try:
        client = Celery(broker=broker)
        client.send_task(
            constants.START_CONTEXT_TESTING,
            kwargs={**project.scope.to_json(), "context": project.context.module_name},
            queue=constants.ORCHESTRATION_QUEUE,
        )
        client.close()
        hung_child = f"hang-child-of:{project.agent_state}"
        wait_for_processes(hung_child, 1, within_s=120)
        assert processes_with(str(project.agent_state))  # the agent, its child, its sandbox

        os.kill(worker.pid, signal.SIGKILL)  # the main worker process only, not its group
        killed_at = time.monotonic()

        # A generous deadline for "within a second": the kernel's parent-death signals.
        assert gone_within(str(project.agent_state), 5.0), processes_with(str(project.agent_state))
        assert time.monotonic() - killed_at < 5.0
    finally:
        # What is left of the worker we started (its group, led by its not yet reaped pid).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
