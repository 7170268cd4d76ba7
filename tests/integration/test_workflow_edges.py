"""The workflow at its edges: other processes, cancel, duplicates, hostile names, bad remotes."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ctworkflow import api, errors
from ctworkflow.domain.commits import commit_message
from ctworkflow.domain.states import ChildStep, ParentStep, SessionStatus
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.workflow.deps import live_deps
from ctworkflow.workflow.steps import finalize
from tests import servers
from tests.samples import git
from tests.sandbox_support import gone_within, processes_with
from tests.workflow_support import Project, make_project, wait_for, wait_until_terminal


def test_a_backend_service_starts_a_session_by_task_name_without_importing_ctworkflow(
    project: Project, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from celery import Celery

        app = Celery(broker={redis_server.url(0)!r}, backend={redis_server.url(1)!r})
        result = app.send_task(
            "ctworkflow.start_context_testing",
            kwargs={{
                "account_id": {str(project.scope.account_id)!r},
                "project_id": {str(project.scope.project_id)!r},
                "context": {project.context.module_name!r},
                "idempotency_key": "backend-job-1",
            }},
            queue="ctw.orchestration",
        )
        session_id = result.get(timeout=60)
        assert not [m for m in sys.modules if m.split(".")[0] == "ctworkflow"]
        print(session_id)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ["PATH"]},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    session_id = uuid.UUID(done.stdout.strip().splitlines()[-1])

    session = wait_until_terminal(project.scope, session_id)
    assert session.status is SessionStatus.COMPLETE, session.error
    assert session.idempotency_key == "backend-job-1"


def test_cancel_mid_run_stops_the_agents_and_the_late_callback_does_nothing(
    project: Project,
) -> None:
    # Given: agents that never end, each with a child process of its own.
    project.plan({c.module_name: ["hang"] for c in project.components})
    base = project.remote_git("rev-parse", "main")
    session = project.start()
    wait_for(lambda: len(list(project.agent_state.glob("hang-*.pids"))) == 3, what="3 agents")
    # Their pids are the sandboxes' own: they are found by their command lines instead.
    hung = f"hang-child-of:{project.agent_state}"
    assert len(processes_with(hung)) == 3

    cancelled = api.cancel_session(project.scope, session.id)

    assert cancelled.status is SessionStatus.CANCELLED
    assert gone_within(str(project.agent_state), 30), "agents not killed"

    def agents_stopped() -> bool:
        details = api.session_details(project.scope, session.id)
        with unit_of_work() as uow:
            history = [uow.sessions.interactions(project.scope, c.id) for c in details.children]
        return all(
            any(i.step == ChildStep.GENERATE_TESTS and not i.pending for i in h) for h in history
        )

    wait_for(agents_stopped, timeout_s=30, what="agent runs recorded as stopped")
    time.sleep(2)  # room for the chord callback, which must change nothing
    details = api.session_details(project.scope, session.id)
    assert details.session.status is SessionStatus.CANCELLED
    assert {c.status for c in details.children} == {SessionStatus.CANCELLED}
    assert not [i for i in details.interactions if i.step == ParentStep.FINALIZE]
    # The branch the session created is deleted again: it held nothing.
    branch = "test-context-testing-session-for-accounts"
    wait_for(lambda: project.branch_head(branch) is None, timeout_s=30, what="branch deleted")
    assert project.remote_git("rev-parse", "main") == base


def test_starting_twice_at_once_gives_one_session(project: Project) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        started = list(pool.map(lambda _: project.start().id, range(4)))

    assert len(set(started)) == 1
    session = wait_until_terminal(project.scope, started[0])
    assert session.status is SessionStatus.COMPLETE, session.error
    initializes = [
        i
        for i in api.session_details(project.scope, session.id).interactions
        if i.step == ParentStep.INITIALIZE
    ]
    assert len(initializes) == 1
    assert len(api.list_sessions(project.scope)) == 1


HOSTILE = "Accounts $(touch pwned); rm -rf x \"q\" 'q'\nEOF"


def test_hostile_names_give_a_correct_branch_and_commit_message_and_run_nothing(
    workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path / "shop", context_name=HOSTILE)

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.COMPLETE, session.error
    branch = "test-context-testing-session-for-accounts-touch-pwned-rm-rf-x-q-q-eof"
    assert session.branch_name == branch
    message = project.remote_git("log", "-1", "--format=%B", branch)
    assert message.startswith("Add tests for the Accounts $(touch pwned); rm -rf x \"q\" 'q' EOF")
    assert "\nEOF\n" not in message  # the name can never pose as a line of its own
    assert not list(tmp_path.rglob("pwned")) and not Path("pwned").exists()


@pytest.mark.parametrize("remote", ["gone", "http://127.0.0.1:9/shop.git"])
def test_an_unreachable_remote_fails_the_session_after_bounded_attempts(
    workflow_db: str, tmp_path: Path, remote: str
) -> None:
    if remote == "gone":  # a remote that was there when the project was registered
        remote = str(tmp_path / "gone.git")
        git("init", "--bare", remote, cwd=tmp_path)
        project = make_project(tmp_path / "shop", code_repo=remote)
        shutil.rmtree(remote)
    else:
        project = make_project(tmp_path / "shop", code_repo=remote)

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.FAILED
    assert remote in (session.error or "")
    interactions = api.session_details(project.scope, session.id).interactions
    assert [(i.step, i.attempt) for i in interactions] == [
        (ParentStep.INITIALIZE, 1),
        (ParentStep.INITIALIZE, 2),
        (ParentStep.INITIALIZE, 3),
    ]


def test_finalize_again_makes_no_second_commit_and_never_overwrites_another_push(
    project: Project,
) -> None:
    session = wait_until_terminal(project.scope, project.start().id)
    assert session.status is SessionStatus.COMPLETE, session.error
    branch = "test-context-testing-session-for-accounts"
    head = project.remote_git("rev-parse", branch)
    details = api.session_details(project.scope, session.id)
    with unit_of_work() as uow:
        project_row = uow.catalog.get_project(project.scope.account_id, project.scope.project_id)
    artifacts = [a.head for a in details.artifacts.values()]
    deps = live_deps()
    scope = project.scope

    # A second finalize (a redelivery after a crash that followed the push) finds its commit.
    again = finalize._commit_and_push(
        deps, scope, project_row, session, artifacts, lambda _: "again"
    )
    assert again.commit == head
    assert sorted(again.files) == sorted(a.test_path for a in artifacts)
    assert project.remote_git("rev-list", "--count", f"main..{branch}") == "1"

    # Another session's finalize sees a head it did not expect and refuses to overwrite it.
    stranger = dataclasses.replace(session, id=uuid.uuid4())
    message = commit_message("Accounts", stranger.id, [])
    with pytest.raises(errors.StepFailed, match="not overwriting"):
        finalize._commit_and_push(deps, scope, project_row, stranger, artifacts, lambda _: message)
    assert project.remote_git("rev-parse", branch) == head
