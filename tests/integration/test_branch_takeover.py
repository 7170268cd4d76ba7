"""A context is tested again and again: its branch is taken over by each new session, commits
ctworkflow did not make are never overwritten, and colliding context names get distinct
branches. A real worker, PostgreSQL, Redis and a bare git remote."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ctworkflow import api
from ctworkflow.domain.states import ParentStep, SessionStatus
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog
from ctworkflow.workflow import branch
from ctworkflow.workflow.deps import live_deps
from tests.samples import module_source
from tests.workflow_support import Project, make_project, wait_until_terminal

BRANCH = "test-context-testing-session-for-accounts"


def test_the_same_context_runs_three_times_while_the_code_changes(
    workflow_db: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop", modules=("user", "user_repository"))
    sessions = []
    for run in range(3):
        if run:  # the code changes between sessions: main moves on
            source = (
                module_source("user")
                + f"\n\ndef added_in_change_{run}() -> int:\n    return {run}\n"
            )
            project.push({"shop/accounts/user.py": source}, f"Change {run}")
        base = project.remote_git("rev-parse", "main")

        session = wait_until_terminal(project.scope, project.start().id)

        assert session.status is SessionStatus.COMPLETE, session.error
        assert session.base_commit == base and session.branch_name == BRANCH
        sessions.append(session)

    # The branch holds the latest session's single commit, on the latest base.
    head = project.remote_git("rev-parse", BRANCH)
    assert project.remote_git("rev-parse", f"{head}^") == project.remote_git("rev-parse", "main")
    assert project.remote_git("rev-list", "--count", f"main..{BRANCH}") == "1"
    message = project.remote_git("log", "-1", "--format=%B", BRANCH)
    assert f"Ctw-Session: {sessions[-1].id}" in message
    # The second and third took the branch over from the ended session before them.
    for session, previous in zip(sessions[1:], sessions, strict=False):
        initialize = api.session_details(project.scope, session.id).interactions[0]
        assert initialize.step == ParentStep.INITIALIZE and initialize.outcome is not None
        assert initialize.outcome.data["taken_over"] is True
        seen = initialize.outcome.data["branch_head"]
        assert f"Ctw-Session: {previous.id}" in project.remote_git("log", "-1", "--format=%B", seen)


def test_a_branch_with_a_commit_ctworkflow_did_not_make_is_never_overwritten(
    workflow_db: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop", modules=("user",))
    first = wait_until_terminal(project.scope, project.start().id)
    assert first.status is SessionStatus.COMPLETE, first.error
    # Given: a person adds a commit of their own on the branch, and main moves on.
    theirs = project.push({"NOTES.md": "my notes\n"}, "Notes of mine", branch=BRANCH)
    project.push({"README.md": "# shop, changed\n"}, "Change the readme")

    second = wait_until_terminal(project.scope, project.start().id)

    # The session stops in initialize with one line naming the commit; the branch is theirs.
    assert second.status is SessionStatus.FAILED
    error = second.error or ""
    assert "\n" not in error
    assert f"{theirs[:12]} ('Notes of mine')" in error and "not overwriting" in error
    interactions = api.session_details(project.scope, second.id).interactions
    assert [(i.step, i.attempt) for i in interactions] == [(ParentStep.INITIALIZE, 1)]
    assert project.remote_git("rev-parse", BRANCH) == theirs
    # And its end deletes nothing: it did not create the branch.
    assert not branch.release(live_deps(), project.scope, second.id)
    assert project.remote_git("rev-parse", BRANCH) == theirs


def add_billing_context(project: Project) -> None:
    """A second context, shop.billing, also named "Accounts": it wants the same branch."""
    project.push(
        {
            "shop/billing/__init__.py": '"""Billing."""\n',
            "shop/billing/invoice.py": module_source("invoice"),
        },
        "Add billing",
    )
    with unit_of_work() as uow:
        billing = catalog.add_component(
            uow, project.scope, name="Accounts", module_name="shop.billing", type="context"
        )
        catalog.add_component(
            uow,
            project.scope,
            name="Invoice",
            module_name="shop.billing.invoice",
            parent_id=billing.id,
        )


def test_contexts_whose_names_give_the_same_branch_get_distinct_ones(
    workflow_db: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop", modules=("user",))
    add_billing_context(project)

    first = wait_until_terminal(project.scope, project.start().id)
    second = wait_until_terminal(
        project.scope, api.start_context_testing(project.scope, "shop.billing").id
    )

    assert first.status is SessionStatus.COMPLETE, first.error
    assert second.status is SessionStatus.COMPLETE, second.error
    digest = hashlib.sha256(b"shop.billing").hexdigest()[:8]
    assert first.branch_name == BRANCH
    assert second.branch_name == f"{BRANCH}-{digest}"
    # Both branches are on the remote, each with its own context's tests.
    assert "tests/accounts/test_user.py" in project.remote_git(
        "show", "--name-only", "--format=", BRANCH
    )
    assert "tests/billing/test_invoice.py" in project.remote_git(
        "show", "--name-only", "--format=", f"{BRANCH}-{digest}"
    )
    # Run again, each context keeps its own branch.
    again = wait_until_terminal(
        project.scope, api.start_context_testing(project.scope, "shop.billing").id
    )
    assert again.status is SessionStatus.COMPLETE, again.error
    assert again.branch_name == second.branch_name
