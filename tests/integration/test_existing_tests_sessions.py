"""Existing tests are never lost, through whole sessions: a real worker, PostgreSQL, Redis, git,
and the test agent program ``tests/agents/fake_agent.py`` speaking the ``command`` contract."""

from __future__ import annotations

import uuid
from pathlib import Path

from ctworkflow import api
from ctworkflow.domain.model import Interaction
from ctworkflow.domain.states import ChildStep, ParentStep, ResultStatus, SessionStatus
from ctworkflow.persistence.db import unit_of_work
from tests.workflow_support import Project, make_project, run_pytest, wait_for, wait_until_terminal

BRANCH = "test-context-testing-session-for-accounts"

#: The project's own tests of a module: two tests that pass.
EXISTING = '''"""The project's own tests of {module}."""

import importlib


def test_existing_doubles() -> None:
    module = importlib.import_module({module!r})
    double = next(getattr(module, n) for n in dir(module) if n.startswith("double_"))
    assert double(2) == 4


def test_existing_has_a_docstring() -> None:
    assert importlib.import_module({module!r}).__doc__
'''


def path_of(module: str) -> str:
    return f"tests/accounts/test_{module.rsplit('.', 1)[-1]}.py"


def with_existing_tests(project: Project, modules: list[str]) -> str:
    """Push the project's own test files of ``modules`` to main; the new base."""
    files = {path_of(m): EXISTING.format(module=m) for m in modules}
    return project.push(files, "Add the project's own tests")


def child_history(project: Project, session_id: uuid.UUID, module: str) -> list[Interaction]:
    details = api.session_details(project.scope, session_id)
    child = next(
        c for c in details.children if details.components[c.component_id].module_name == module
    )
    with unit_of_work() as uow:
        return uow.sessions.interactions(project.scope, child.id)


def test_an_agent_that_drops_existing_tests_fails_its_component_naming_them(
    workflow_db: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop", modules=("user", "user_repository"))
    user, repository = (c.module_name for c in project.components)
    base = with_existing_tests(project, [user])
    project.plan({user: ["drop"]})  # rewrites the file with tests of its own, every time

    session = wait_until_terminal(project.scope, project.start(max_attempts=1).id)

    # The component fails, naming the tests its change lost; the session with it.
    assert session.status is SessionStatus.FAILED
    error = session.error or ""
    assert f"lost 2 of the 2 existing tests of {path_of(user)}" in error
    details = api.session_details(project.scope, session.id)
    statuses = {details.components[c.component_id].module_name: c for c in details.children}
    assert statuses[user].status is SessionStatus.FAILED
    assert "test_existing_doubles" in (statuses[user].error or "")
    assert "test_existing_has_a_docstring" in (statuses[user].error or "")
    assert statuses[repository].status is SessionStatus.COMPLETE
    # The agent was told about the file, and the fix round was handed the lost tests.
    first, *later = [c for c in project.agent_calls() if c["module"] == user]
    assert f"already has a test file, {path_of(user)}, with 2 tests" in first["prompt"]
    assert "Keep every existing test" in first["prompt"]
    assert later and "gone: test_existing_doubles" in later[0]["prompt"]
    # Nothing was pushed: main is as it was and the empty branch is gone again.
    wait_for(lambda: project.branch_head(BRANCH) is None, timeout_s=30, what="branch deleted")
    assert project.remote_git("rev-parse", "main") == base


def test_appended_kept_and_new_test_files_each_end_as_they_should(
    workflow_db: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop")
    appended, kept, new = (c.module_name for c in project.components)
    base = with_existing_tests(project, [appended, kept])
    project.plan({appended: ["append"], kept: ["keep"], new: ["good"]})

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.COMPLETE, session.error
    # The kept file is reported as kept, not as a failure ...
    finalize = child_history(project, session.id, kept)[-1]
    assert finalize.step == ChildStep.FINALIZE and finalize.outcome is not None
    assert finalize.outcome.status is ResultStatus.OK
    assert finalize.outcome.data["summary"] == "kept the existing 2 tests; all pass"
    details = api.session_details(project.scope, session.id)
    (validation,) = [
        i for i in details.interactions if i.step == ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS
    ]
    assert validation.outcome is not None
    assert validation.outcome.data["kept"] == [
        {"test_path": path_of(kept), "summary": "kept the existing 2 tests; all pass"}
    ]
    # ... and not committed: the one commit on the base holds the appended and the new file.
    head = project.remote_git("rev-parse", BRANCH)
    assert project.remote_git("rev-parse", f"{head}^") == base
    changed = project.remote_git("diff", "--name-only", base, head).splitlines()
    assert sorted(changed) == sorted([path_of(appended), path_of(new)])
    assert f"({kept})" not in project.remote_git("log", "-1", "--format=%B", BRANCH)
    # The appended file keeps every line it had, and all of its tests pass from a clone.
    content = project.remote_git("show", f"{head}:{path_of(appended)}")
    assert content.startswith(EXISTING.format(module=appended).rstrip("\n"))
    clone = tmp_path / "clone"
    project.remote_git("worktree", "add", "--detach", str(clone), head)
    result = run_pytest(clone, [path_of(appended), path_of(kept), path_of(new)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout  # 2 + 1 appended, 2 kept, 2 new


def test_a_session_whose_every_component_kept_its_file_completes_without_a_commit(
    workflow_db: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "shop", modules=("user",))
    (user,) = (c.module_name for c in project.components)
    base = with_existing_tests(project, [user])
    project.plan({user: ["keep"]})

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.COMPLETE, session.error
    finalize = api.session_details(project.scope, session.id).interactions[-1]
    assert finalize.step == ParentStep.FINALIZE and finalize.outcome is not None
    assert finalize.outcome.data["commit"] is None
    assert finalize.outcome.data["kept"] == [path_of(user)]
    assert finalize.outcome.data["summary"].startswith("nothing to commit")
    # No commit anywhere, and the branch it created for nothing is deleted again.
    wait_for(lambda: project.branch_head(BRANCH) is None, timeout_s=30, what="branch deleted")
    assert project.remote_git("rev-parse", "main") == base
