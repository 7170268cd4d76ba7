"""Recovery: the reconciler finishes sessions whose wake-ups were lost; leases stop twin runs.

Steps are driven here by calling the workflow's own functions without their Celery wake-ups,
which is exactly what a lost message leaves behind; a real worker then runs whatever the
reconciler sends.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from ctworkflow import api, errors
from ctworkflow.config import get_settings
from ctworkflow.domain.repository.layouts import Layout, test_file_path
from ctworkflow.domain.states import ParentStep, SessionStatus
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.persistence.tables import utcnow
from ctworkflow.services import sessions
from ctworkflow.workflow.component import run_component
from ctworkflow.workflow.deps import live_deps
from ctworkflow.workflow.reconciler import ReconcileReport
from ctworkflow.workflow.steps import finalize, initialize, spawn, validate
from tests.workflow_support import Project, make_project

SPAWN = ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS


@pytest.fixture
def project(workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("CTW_STALE_AFTER_S", "0.5")
    monkeypatch.setenv("CTW_LEASE_TTL_S", "1")
    get_settings.cache_clear()
    return make_project(tmp_path / "shop")


def create_without_wake_up(project: Project) -> uuid.UUID:
    """A context session whose first message was lost: the row exists, nothing is queued."""
    with unit_of_work() as uow:
        started = sessions.create_context_session(
            uow, project.scope, project.context.id, agent="command", max_attempts=3
        )
    return started.session.id


def reconcile_until_terminal(project: Project, session_id: uuid.UUID) -> ReconcileReport:
    """Two reconcilers at once, again and again, until the session ends."""
    total = ReconcileReport()
    deadline = time.monotonic() + 120
    with ThreadPoolExecutor(max_workers=2) as pool:
        while api.get_session(project.scope, session_id).status is SessionStatus.ACTIVE:
            assert time.monotonic() < deadline, "the reconciler did not finish the session"
            for report in pool.map(lambda _: api.reconcile(), range(2)):
                total.actions.update(report.actions)
            time.sleep(0.3)
    return total


def assert_pushed_once(project: Project, session_id: uuid.UUID) -> None:
    session = api.get_session(project.scope, session_id)
    assert session.status is SessionStatus.COMPLETE, session.error
    branch = session.branch_name
    assert branch is not None and session.base_commit is not None
    commits = project.remote_git("rev-list", f"{session.base_commit}..{branch}").split()
    assert len(commits) == 1
    files = project.remote_git("diff", "--name-only", session.base_commit, branch).split()
    assert sorted(files) == sorted(
        test_file_path(Layout.PYTHON, c.module_name) for c in project.components
    )
    details = api.session_details(project.scope, session_id)
    assert len(details.children) == len(project.components)


def test_a_session_whose_first_message_was_lost_is_started_by_the_reconciler(
    project: Project,
) -> None:
    session_id = create_without_wake_up(project)

    report = reconcile_until_terminal(project, session_id)

    assert report.actions["RunStep"] >= 1
    assert_pushed_once(project, session_id)


def test_a_round_whose_chord_was_lost_is_run_and_validated_by_the_reconciler(
    project: Project,
) -> None:
    session_id = create_without_wake_up(project)
    scope = project.scope
    assert initialize.initialize(scope, session_id, 1, live_deps())
    fan_out = spawn.spawn(
        scope, session_id, 1, live_deps()
    )  # children recorded; the chord never sent
    assert fan_out is not None and len(fan_out.run_ids) == 3

    report = reconcile_until_terminal(project, session_id)

    assert report.actions["RunChild"] >= 3
    assert report.actions["Validate"] >= 1
    assert_pushed_once(project, session_id)
    # Each component's agent ran once, however often the reconcilers looked.
    assert sorted(c["module"] for c in project.agent_calls()) == sorted(
        c.module_name for c in project.components
    )


def fanned_out(project: Project) -> list[uuid.UUID]:
    session_id = create_without_wake_up(project)
    assert initialize.initialize(project.scope, session_id, 1, live_deps())
    fan_out = spawn.spawn(project.scope, session_id, 1, live_deps())
    assert fan_out is not None
    return fan_out.run_ids


def hold_lease(project: Project, child_id: uuid.UUID, owner: str) -> None:
    with unit_of_work() as uow:
        current = uow.sessions.get_session(project.scope, child_id).lease_owner
        taken = uow.sessions.take_lease(
            project.scope,
            child_id,
            owner=owner,
            expires_at=utcnow() + timedelta(hours=1),
            now=utcnow(),
            replacing=current,
        )
    assert taken is not None


def gone_process_holder() -> str:
    """A lease holder of this host whose process has exited."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return f"{socket.gethostname()}/{done.stdout.strip()}/t{uuid.uuid4().hex[:6]}"


def test_a_second_delivery_starts_no_second_agent_while_the_first_holds_the_lease(
    project: Project,
) -> None:
    child_id = fanned_out(project)[0]
    hold_lease(project, child_id, "another-host/4242/first")

    result = run_component(project.scope, child_id, 1, live_deps())

    assert result["status"] == SessionStatus.ACTIVE
    assert "running in another worker" in (result["reason"] or "")
    assert project.agent_calls() == []
    child = api.get_session(project.scope, child_id)
    assert child.status is SessionStatus.ACTIVE
    assert child.lease_owner == "another-host/4242/first"


def test_a_run_whose_worker_died_is_taken_over_and_counted(project: Project) -> None:
    child_id = fanned_out(project)[0]
    hold_lease(project, child_id, gone_process_holder())

    result = run_component(project.scope, child_id, 1, live_deps())

    assert result["status"] == SessionStatus.COMPLETE, result["reason"]
    child = api.get_session(project.scope, child_id)
    assert child.worker_losses == 1
    assert child.lease_owner is None
    assert len(project.agent_calls()) == 1


def test_a_component_that_killed_its_worker_too_often_is_failed_instead_of_looping(
    project: Project,
) -> None:
    child_id = fanned_out(project)[0]
    for _ in range(get_settings().max_worker_losses):  # runs that died, one after another
        hold_lease(project, child_id, gone_process_holder())

    result = run_component(project.scope, child_id, 1, live_deps())

    assert result["status"] == SessionStatus.FAILED
    child = api.get_session(project.scope, child_id)
    assert child.status is SessionStatus.FAILED
    assert child.error is not None and "lost with its worker 3 times" in child.error
    assert project.agent_calls() == []


def test_every_step_refuses_another_tenants_scope_and_writes_nothing(
    project: Project, tmp_path: Path
) -> None:
    intruder = make_project(tmp_path / "intruder").scope
    session_id = create_without_wake_up(project)
    child_id = fanned_out(project)[0]
    before = api.session_details(project.scope, session_id)
    deps = live_deps()

    for step in (
        lambda scope: initialize.initialize(scope, session_id, 2, deps),
        lambda scope: spawn.spawn(scope, session_id, 2, live_deps()),
        lambda scope: validate.validate(scope, session_id, 1, deps),
        lambda scope: finalize.finalize(scope, session_id, 1, deps),
    ):
        with pytest.raises(errors.SessionNotFound):
            step(intruder)
    result = run_component(intruder, child_id, 1, deps)  # never raises into a chord

    assert result["status"] == SessionStatus.FAILED
    after = api.session_details(project.scope, session_id)
    assert after.interactions == before.interactions
    assert api.get_session(project.scope, child_id).status is SessionStatus.ACTIVE
    assert project.agent_calls() == []
