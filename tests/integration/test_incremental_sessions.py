"""Incremental sessions against the real thing: a real worker, PostgreSQL, Redis and git.

A second session of an unchanged context runs no agent (the test agent counts its calls) and
lands the same tests; a changed source file runs only its component; the plan says so first.
"""

from __future__ import annotations

import time
import uuid

from ctworkflow import api
from ctworkflow.domain.model import Session
from ctworkflow.domain.states import SessionStatus
from ctworkflow.workflow import reuse
from tests.workflow_support import Project, wait_until_terminal

BRANCH = "test-context-testing-session-for-accounts"


def complete(project: Project) -> tuple[Session, float]:
    started = time.monotonic()
    session = wait_until_terminal(project.scope, project.start().id)
    assert session.status is SessionStatus.COMPLETE, session.error
    return session, time.monotonic() - started


def reused(project: Project, session_id: uuid.UUID) -> list[str]:
    """The module names of the session's children that kept an earlier artifact."""
    names = {c.id: c.module_name for c in project.components}
    found = []
    for child in api.session_details(project.scope, session_id).children:
        steps = api.session_details(project.scope, child.id).interactions
        if any(i.step == reuse.REUSE_STEP for i in steps):
            found.append(names[child.component_id])
    return sorted(found)


def test_a_second_session_reuses_every_component_and_a_changed_source_runs_only_its_own(
    project: Project,
) -> None:
    # Given a complete session of the context
    first, first_s = complete(project)
    first_head = project.branch_head(BRANCH)
    calls = len(project.agent_calls())
    assert calls == 3
    modules = sorted(c.module_name for c in project.components)

    # When the plan is asked for on the unchanged context, then a second session runs
    plan = api.plan_context_testing(project.scope, project.context.id)
    second, second_s = complete(project)

    # Then the plan said every component is reused, and no agent ran
    short = str(first.id)[:8]
    assert sorted(line["component"] for line in plan) == modules
    assert {line["reason"] for line in plan} == {
        f"reused: unchanged since session {short} (source, test file, environment, runner)"
    }
    assert len(project.agent_calls()) == calls
    assert reused(project, second.id) == modules
    # ... and the branch holds the same tests, pushed again by the second session
    second_head = project.branch_head(BRANCH)
    assert second_head is not None and second_head != first_head
    assert project.remote_git("diff", "--name-only", str(first_head), second_head) == ""
    print(f"first session {first_s:.1f} s, second {second_s:.1f} s")  # noqa: T201

    # When one source file changes on main
    user = next(c for c in project.components if c.module_name.endswith(".user"))
    path = user.module_name.replace(".", "/") + ".py"
    source = project.remote_git("show", f"main:{path}")
    project.push({path: source + "\n\ndef double_again(x):\n    return 2 * x\n"}, "Edit user")
    reasons = {
        line["component"]: line["reason"]
        for line in api.plan_context_testing(project.scope, project.context.id)
    }
    third, _ = complete(project)

    # Then the plan and the session run only that component's agent
    assert reasons[user.module_name] == f"runs: source changed since {str(second.id)[:8]}"
    assert [call["module"] for call in project.agent_calls()[calls:]] == [user.module_name]
    assert reused(project, third.id) == [m for m in modules if m != user.module_name]
