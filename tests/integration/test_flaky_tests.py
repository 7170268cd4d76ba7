"""Flaky new tests through a whole session: a real worker, the target's own environment with
pytest-randomly from the package index, the scripted ``command`` agent, a real git remote."""

from __future__ import annotations

import uuid
from pathlib import Path

from ctworkflow import api
from ctworkflow.cli import shapes
from ctworkflow.domain.states import ChildStep, ResultStatus, SessionStatus
from ctworkflow.persistence.db import unit_of_work
from tests.workflow_support import Project, make_project, wait_until_terminal

BRANCH = "test-context-testing-session-for-accounts"


def _child_id(project: Project, session_id: uuid.UUID, module: str) -> uuid.UUID:
    details = api.session_details(project.scope, session_id)
    return next(
        c.id for c in details.children if details.components[c.component_id].module_name == module
    )


def test_a_flaky_new_test_is_dropped_and_the_others_land(workflow_db: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop", quality_checks=True)  # flaky_runs: its default, 5
    module = project.components[0].module_name
    project.plan({module: ["flaky"]})

    session = wait_until_terminal(project.scope, project.start().id, timeout_s=300)

    assert session.status is SessionStatus.COMPLETE, session.error
    details = api.session_details(project.scope, session.id)
    child_id = _child_id(project, session.id, module)
    artifact = details.artifacts[child_id]
    # The branch holds the two good tests, not the one that fails alone.
    pushed = project.remote_git("show", f"{BRANCH}:{artifact.test_path}")
    assert "def test_double_doubles" in pushed
    assert "def test_module_has_a_docstring" in pushed
    assert "test_depends_on_another_test" not in pushed
    assert pushed == artifact.content.rstrip("\n")  # git show, as read, ends without it
    # The report says what ran again and what was dropped, with its failure.
    report = artifact.report
    assert report.repeated_runs == 5
    assert set(report.cases) == {"test_double_doubles", "test_module_has_a_docstring"}
    (flaky,) = report.flaky
    assert flaky.test == "test_depends_on_another_test" and flaky.dropped
    assert flaky.failed_runs >= 1 and len(flaky.failed_in) == flaky.failed_runs
    assert "passes only after test_double_doubles" in flaky.line
    # So does ``ctw session show --json``.
    shown = shapes.details_json(details)
    child = next(c for c in shown["children"] if c["id"] == str(child_id))
    assert child["artifact"]["report"]["flaky"][0]["test"] == "test_depends_on_another_test"
    # The round's run_tests outcome records it, and the child keeps it for the agent's next call.
    with unit_of_work() as uow:
        history = uow.sessions.interactions(project.scope, child_id)
        state = uow.sessions.get_session(project.scope, child_id).state
    (run,) = [i for i in history if i.step == ChildStep.RUN_TESTS]
    assert run.outcome is not None and run.outcome.status is ResultStatus.OK
    assert run.outcome.data["flaky"][0]["test"] == "test_depends_on_another_test"
    assert "test_depends_on_another_test" in str(state.notes)
    # The other components' tests, checked the same way, had nothing flaky.
    others = [a.report for cid, a in details.artifacts.items() if cid != child_id]
    assert others and all(r.repeated_runs == 5 and not r.flaky for r in others)
