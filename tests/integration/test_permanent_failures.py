"""A failure no round can change fails its component once; rounds go to what can change.

A real worker, PostgreSQL, Redis and git; the test agent program and the scaffold agent.
"""

from __future__ import annotations

from pathlib import Path

from ctworkflow import api
from ctworkflow.domain.states import ChildStep, ParentStep, ResultStatus, SessionStatus
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog
from tests.workflow_support import make_project, wait_until_terminal

SPAWN = ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS


def test_a_component_without_source_fails_once_and_the_next_round_does_not_run_it(
    workflow_db: str, tmp_path: Path
) -> None:
    # Given: a component whose source is not in the repository, and one whose tests fail for
    # the whole first round and pass in the second.
    project = make_project(tmp_path / "shop", modules=("user", "user_repository"))
    flaky = project.components[0].module_name
    with unit_of_work() as uow:
        ghost = catalog.add_component(
            uow,
            project.scope,
            name="Ghost",
            module_name="shop.accounts.ghost",
            parent_id=project.context.id,
        )
    project.plan({flaky: ["fail", "fail", "good"]})

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.FAILED
    assert "shop/accounts/ghost.py does not exist" in (session.error or "")
    details = api.session_details(project.scope, session.id)
    children = {details.components[c.component_id].module_name: c for c in details.children}
    rounds = [i for i in details.interactions if i.step == SPAWN]
    # Round 2 ran only the flaky component; with only the permanent failure left, the session
    # failed there instead of spending its third round.
    assert [r.attempt for r in rounds] == [1, 2]
    assert rounds[1].command.metadata["run_session_ids"] == [str(children[flaky].id)]
    assert children[flaky].status is SessionStatus.COMPLETE
    last = rounds[-1].outcome
    assert last is not None and last.permanent is True
    (failure,) = last.data["failures"]
    assert failure["module_name"] == ghost.module_name and failure["permanent"] is True
    # The ghost ran once: its initialize failed, permanently, and nothing else ran for it.
    with unit_of_work() as uow:
        history = uow.sessions.interactions(project.scope, children[ghost.module_name].id)
    assert [(i.step, i.outcome and i.outcome.status) for i in history] == [
        (ChildStep.INITIALIZE, ResultStatus.ERROR)
    ]
    assert history[0].outcome is not None and history[0].outcome.permanent is True
    assert ghost.module_name not in [c["module"] for c in project.agent_calls()]


def test_a_module_the_environment_cannot_import_fails_at_once_with_its_import_error(
    workflow_db: str, tmp_path: Path
) -> None:
    source = '"""Needs a package the environment lacks."""\n\nimport freezegun_not_here\n'
    project = make_project(
        tmp_path / "shop", agent="scaffold", modules=("user",), sources={"user": source}
    )

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.FAILED
    error = session.error or ""
    assert "cannot import shop.accounts.user in the target's environment" in error
    assert "No module named 'freezegun_not_here'" in error
    interactions = api.session_details(project.scope, session.id).interactions
    assert [(i.step, i.attempt) for i in interactions] == [
        (ParentStep.INITIALIZE, 1),
        (SPAWN, 1),
    ]
