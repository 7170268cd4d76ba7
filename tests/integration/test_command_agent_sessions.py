"""The ``command`` agent contract through whole sessions: a real worker runs the test agent
program ``tests/agents/fake_agent.py`` for each component."""

from __future__ import annotations

from pathlib import Path

from ctworkflow import api
from ctworkflow.domain.model import Interaction
from ctworkflow.domain.states import ChildStep, ParentStep, ResultStatus, SessionStatus
from ctworkflow.persistence.db import unit_of_work
from tests.sandbox_support import gone_within
from tests.workflow_support import Project, make_project, wait_for, wait_until_terminal

BRANCH = "test-context-testing-session-for-accounts"


def child_history(project: Project, session_id: object, module: str) -> list[Interaction]:
    details = api.session_details(project.scope, session_id)  # type: ignore[arg-type]
    child = next(
        c for c in details.children if details.components[c.component_id].module_name == module
    )
    with unit_of_work() as uow:
        return uow.sessions.interactions(project.scope, child.id)


def test_an_agent_that_writes_failing_tests_fixes_them_from_the_feedback(
    workflow_db: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop")
    module = project.components[0].module_name
    project.plan({module: ["fail", "good"]})

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.COMPLETE, session.error
    # One fan-out round was enough: the fix happened inside the component's own session.
    details = api.session_details(project.scope, session.id)
    assert [
        i.attempt
        for i in details.interactions
        if i.step == ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS
    ] == [1]
    history = child_history(project, session.id, module)
    steps = [(i.step, i.outcome.status if i.outcome else None) for i in history]
    # What initialize records is what ran: the workspace at the base, no git command of its own.
    assert history[0].command.argv is None and history[0].command.keyword == "workspace"
    assert history[0].command.metadata == {"base_commit": session.base_commit}
    assert steps == [
        (ChildStep.INITIALIZE, ResultStatus.OK),
        (ChildStep.GENERATE_TESTS, ResultStatus.OK),
        (ChildStep.RUN_TESTS, ResultStatus.ERROR),
        (ChildStep.FIX_FAILURES, ResultStatus.OK),
        (ChildStep.RUN_TESTS, ResultStatus.OK),
        (ChildStep.FINALIZE, ResultStatus.OK),
    ]
    first, second = [c for c in project.agent_calls() if c["module"] == module]
    assert "previous attempt failed" not in first["prompt"]
    assert "The previous attempt failed" in second["prompt"]
    assert "this test was written to fail" in second["prompt"]


def test_an_agent_that_never_ends_is_killed_at_its_limit_with_its_child(
    workflow_db: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop", settings={"agent_timeout_s": 3})
    module = project.components[1].module_name
    project.plan({module: ["hang", "good"]})

    session = wait_until_terminal(project.scope, project.start().id)

    # The hung run was killed together with the child process it started ...
    # (both carry the agent's state folder in their command line; their own pids are the
    # sandbox's).
    (pids_file,) = project.agent_state.glob("hang-*.pids")
    assert len(pids_file.read_text().split()) == 2
    assert gone_within(str(project.agent_state), 5)
    # ... recorded with its status and output, and the next try wrote passing tests.
    assert session.status is SessionStatus.COMPLETE, session.error
    generate = [
        i for i in child_history(project, session.id, module) if i.step == ChildStep.GENERATE_TESTS
    ]
    assert [i.outcome.status for i in generate if i.outcome] == [
        ResultStatus.ERROR,
        ResultStatus.OK,
    ]
    hung = generate[0]
    assert hung.outcome is not None and hung.outcome.error_message == "agent timed out after 3 s"
    assert hung.outcome.exit_code is not None and hung.outcome.exit_code < 0  # killed by a signal
    assert hung.duration_ms is not None
    assert hung.command.argv is not None and "--prompt" in hung.command.argv


def test_an_agent_that_changes_a_file_outside_the_test_directory_is_rejected(
    workflow_db: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop")
    module = project.components[2].module_name
    project.plan({module: ["outside"]})
    base = project.remote_git("rev-parse", "main")

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.FAILED
    message = "the agent changed files outside the test directory: README.md"
    assert message in (session.error or "")
    finalize = [
        i for i in child_history(project, session.id, module) if i.step == ChildStep.FINALIZE
    ]
    assert finalize and all(i.outcome and i.outcome.error_message == message for i in finalize)
    # The other components passed; nothing was pushed, and no empty branch is left.
    details = api.session_details(project.scope, session.id)
    statuses = {details.components[c.component_id].module_name: c.status for c in details.children}
    assert statuses.pop(module) is SessionStatus.FAILED
    assert set(statuses.values()) == {SessionStatus.COMPLETE}
    wait_for(lambda: project.branch_head(BRANCH) is None, timeout_s=30, what="branch deleted")
    assert project.remote_git("rev-parse", "main") == base
