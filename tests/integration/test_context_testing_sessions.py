"""The user's nine assertions, each against the real thing: Celery, PostgreSQL, Redis, git.

A real worker runs every step; the remote is a bare git repository; the agent is the test
agent program ``tests/agents/fake_agent.py`` speaking the ``command`` contract, or the built-in
``scaffold`` agent.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import ctworkflow
from ctworkflow import api, errors
from ctworkflow.domain.model import Interaction
from ctworkflow.domain.repository.layouts import Layout, test_file_path
from ctworkflow.domain.routing import Completed, Halt
from ctworkflow.domain.states import ParentStep, ResultStatus, SessionStatus, SessionType
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog
from tests.samples import git
from tests.workflow_support import (
    Project,
    make_project,
    run_pytest,
    wait_for,
    wait_until_terminal,
)

SPAWN = ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS
BRANCH = "test-context-testing-session-for-accounts"


def expected_test_paths(project: Project) -> list[str]:
    return sorted(test_file_path(Layout.PYTHON, c.module_name) for c in project.components)


def spawn_rounds(project: Project, session_id: uuid.UUID) -> list[Interaction]:
    details = api.session_details(project.scope, session_id)
    return [i for i in details.interactions if i.step == SPAWN]


def test_executes_complete_context_testing_workflow(project: Project, tmp_path: Path) -> None:
    base = project.remote_git("rev-parse", "main")

    session = wait_until_terminal(project.scope, project.start().id)

    # The session is complete, its history whole and in order.
    assert session.status is SessionStatus.COMPLETE, session.error
    details = api.session_details(project.scope, session.id)
    assert [(i.step, i.attempt) for i in details.interactions] == [
        (ParentStep.INITIALIZE, 1),
        (SPAWN, 1),
        (ParentStep.FINALIZE, 1),
    ]
    assert all(i.outcome and i.outcome.status is ResultStatus.OK for i in details.interactions)
    spawn = details.interactions[1]
    assert len(spawn.command.metadata["child_session_ids"]) == 3
    last = details.interactions[-1]
    assert (
        ctworkflow.get_next_interaction(Completed(step=last.step, status=ResultStatus.OK))
        is Halt.SESSION_COMPLETE
    )

    # The remote branch holds one commit on the base that adds exactly the test files ...
    head = project.remote_git("rev-parse", BRANCH)
    assert project.remote_git("rev-parse", f"{head}^") == base
    added = project.remote_git("diff", "--name-only", base, head).splitlines()
    assert sorted(added) == expected_test_paths(project)
    # ... and those tests pass when run from a fresh clone of the remote.
    clone = tmp_path / "clone"
    git(
        "clone", "--quiet", "--branch", BRANCH, str(project.sample.remote), str(clone), cwd=tmp_path
    )
    result = run_pytest(clone, expected_test_paths(project))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_handles_validation_failure_and_retry_for_incomplete_child_sessions(
    project: Project,
) -> None:
    # Given: the first module's tests fail for the whole first round (generate + one fix).
    flaky = project.components[0].module_name
    project.plan({flaky: ["fail", "fail", "good"]})

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.COMPLETE, session.error
    rounds = spawn_rounds(project, session.id)
    assert [(r.attempt, r.outcome and r.outcome.status) for r in rounds] == [
        (1, ResultStatus.ERROR),
        (2, ResultStatus.OK),
    ]
    assert flaky in (rounds[0].outcome.error_message or "")  # type: ignore[union-attr]
    # The same children are reused, and only the one that did not pass ran again.
    first, second = (r.command.metadata for r in rounds)
    assert sorted(first["child_session_ids"]) == sorted(second["child_session_ids"])
    details = api.session_details(project.scope, session.id)
    flaky_child = next(
        c for c in details.children if details.components[c.component_id].module_name == flaky
    )
    assert second["run_session_ids"] == [str(flaky_child.id)]
    calls = [c["module"] for c in project.agent_calls()]
    assert calls.count(flaky) == 3
    assert all(calls.count(c.module_name) == 1 for c in project.components[1:])
    # The retried child was handed its previous failure as feedback.
    assert "this test was written to fail" in project.agent_calls()[-1]["prompt"] or any(
        "this test was written to fail" in c["prompt"]
        for c in project.agent_calls()
        if c["module"] == flaky and c["behaviour"] == "good"
    )


def test_handles_validation_when_all_child_sessions_complete_successfully(
    workflow_db: str, tmp_path: Path
) -> None:
    # Given: the built-in scaffold agent, which writes real smoke tests from the source.
    project = make_project(tmp_path / "shop", agent="scaffold")

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.COMPLETE, session.error
    (validation,) = spawn_rounds(project, session.id)
    assert validation.outcome is not None and validation.outcome.status is ResultStatus.OK
    # The orchestrator ran every test file itself: 3 smoke tests per component.
    assert validation.outcome.data["tests_collected"] == 9
    assert validation.outcome.data["tests_passed"] == 9
    details = api.session_details(project.scope, session.id)
    assert {a.test_path for a in details.artifacts.values()} == set(expected_test_paths(project))
    assert all(a.report.all_passed for a in details.artifacts.values())


def test_handles_validation_failure_when_tests_fail(project: Project) -> None:
    # Given: an agent that always writes a failing test for one component.
    failing = project.components[1].module_name
    project.plan({failing: ["fail"]})
    base = project.remote_git("rev-parse", "main")

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.FAILED
    assert failing in (session.error or "")
    rounds = spawn_rounds(project, session.id)
    assert [r.attempt for r in rounds] == [1, 2, 3]
    for round_ in rounds:
        assert round_.outcome is not None and round_.outcome.status is ResultStatus.ERROR
        (failure,) = round_.outcome.data["failures"]
        assert failure["module_name"] == failing
        assert "1 failed" in failure["reason"]
    # Nothing was committed, and the empty branch the session created is gone again.
    wait_for(lambda: project.branch_head(BRANCH) is None, timeout_s=30, what="branch deleted")
    assert project.remote_git("rev-parse", "main") == base


def test_handles_child_session_failures_gracefully(project: Project) -> None:
    # Given: the agent crashes for one component, every time.
    crashing = project.components[2].module_name
    project.plan({crashing: ["crash"]})

    session = wait_until_terminal(project.scope, project.start().id)

    # Every round's chord callback fired and named the failed child; the others kept their work.
    assert session.status is SessionStatus.FAILED
    assert crashing in (session.error or "") and "agent exited with status 3" in (
        session.error or ""
    )
    details = api.session_details(project.scope, session.id)
    statuses = {details.components[c.component_id].module_name: c.status for c in details.children}
    assert statuses[crashing] is SessionStatus.FAILED
    assert [s for m, s in statuses.items() if m != crashing] == [SessionStatus.COMPLETE] * 2
    assert all(r.outcome is not None for r in spawn_rounds(project, session.id))
    calls = [c["module"] for c in project.agent_calls()]
    assert all(
        calls.count(c.module_name) == 1 for c in project.components if c.module_name != crashing
    )


def test_validates_all_components_have_corresponding_child_sessions(project: Project) -> None:
    # Given: a fourth module registered while the session runs (it has no source yet).
    session = project.start()
    with unit_of_work() as uow:
        added = catalog.add_component(
            uow,
            project.scope,
            name="Token",
            module_name="shop.accounts.user_repository_v2",
            parent_id=project.context.id,
        )

    done = wait_until_terminal(project.scope, session.id)

    assert done.status is SessionStatus.FAILED or done.status is SessionStatus.COMPLETE
    details = api.session_details(project.scope, session.id)
    assert sorted(c.component_id for c in details.children) == sorted(
        [*(c.id for c in project.components), added.id]
    )
    for child in details.children:
        assert child.type is SessionType.COMPONENT_TESTING and child.parent_id == session.id
    # The added module has no source in the repository, so its child cannot pass, and the
    # validation report says so by name instead of finalizing without it.
    assert done.status is SessionStatus.FAILED
    assert "shop.accounts.user_repository_v2" in (done.error or "")


def test_generates_branch_name_dynamically_from_component_name(
    workflow_db: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop", context_name="User Management & Auth")

    session = wait_until_terminal(project.scope, project.start().id)

    branch = "test-context-testing-session-for-user-management-auth"
    assert session.status is SessionStatus.COMPLETE, session.error
    assert session.branch_name == branch
    initialize = api.session_details(project.scope, session.id).interactions[0]
    assert initialize.command.argv is not None and initialize.command.argv[-1].endswith(branch)
    assert project.remote_git("rev-parse", "--verify", branch)


def test_child_sessions_inherit_parent_scope(project: Project, tmp_path: Path) -> None:
    session = wait_until_terminal(project.scope, project.start().id)

    details = api.session_details(project.scope, session.id)
    assert len(details.children) == 3
    for child in details.children:
        assert (child.account_id, child.project_id) == (
            project.scope.account_id,
            project.scope.project_id,
        )
        assert child.user_id == session.user_id
    # Another tenant sees none of them.
    stranger = make_project(tmp_path / "other")
    for child in details.children:
        with pytest.raises(errors.SessionNotFound):
            api.get_session(stranger.scope, child.id)


def test_finalizes_by_committing_and_marking_session_complete(project: Project) -> None:
    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.COMPLETE and session.completed_at is not None
    finalize = api.session_details(project.scope, session.id).interactions[-1]
    assert finalize.step == ParentStep.FINALIZE and finalize.command.argv is not None
    assert finalize.command.argv[:2] == ("git", "push")
    assert sorted(finalize.command.metadata["committed_files"]) == expected_test_paths(project)
    message = project.remote_git("log", "-1", "--format=%B", BRANCH)
    assert message.startswith("Add tests for the Accounts context")
    for component in project.components:
        assert f"- {component.name} ({component.module_name})" in message
    assert f"Ctw-Session: {session.id}" in message
    assert (
        ctworkflow.get_next_interaction(Completed(step=ParentStep.FINALIZE, status=ResultStatus.OK))
        is Halt.SESSION_COMPLETE
    )
