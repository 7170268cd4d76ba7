"""Incremental sessions on the in-memory kit: a second session of an unchanged context runs
no agent, a changed source file runs only its component, the setting forces a full run."""

from __future__ import annotations

import uuid
from pathlib import Path

from ctworkflow.domain.states import SessionStatus
from ctworkflow.testing.harness import REMOTE, SHOP, Harness
from ctworkflow.workflow import reuse

ITEMS, TOTALS = "shop.cart.items", "shop.cart.totals"


def complete_session(h: Harness) -> uuid.UUID:
    session_id = h.start()
    h.run()
    assert h.session(session_id).status is SessionStatus.COMPLETE
    return session_id


def reused_children(h: Harness, session_id: uuid.UUID) -> list[uuid.UUID]:
    return [
        child.id
        for child in h.children(session_id)
        if any(i.step == reuse.REUSE_STEP for i in h.interactions(child.id))
    ]


def test_a_second_session_of_an_unchanged_context_runs_no_agent(tmp_path: Path) -> None:
    # Given a complete session of the context
    h = Harness(tmp_path)
    first = complete_session(h)
    calls = len(h.agent.requests)

    # When a second session runs on the same base
    second = complete_session(h)

    # Then no agent ran, every child kept the first session's verified test file
    assert len(h.agent.requests) == calls
    children = h.children(second)
    assert reused_children(h, second) == [c.id for c in children]
    with h.db() as uow:
        before = uow.sessions.latest_artifacts(h.scope, [c.id for c in h.children(first)])
        after = uow.sessions.latest_artifacts(h.scope, [c.id for c in children])
    assert sorted(a.content for a in after.values()) == sorted(a.content for a in before.values())
    [said] = [i for i in h.interactions(children[0].id) if i.step == reuse.REUSE_STEP]
    assert said.outcome is not None
    assert said.outcome.data["from_session"] == str(first)


def test_a_changed_source_file_runs_only_its_component(tmp_path: Path) -> None:
    # Given a complete session, then a new commit that changes one component's source
    h = Harness(tmp_path)
    complete_session(h)
    changed = {**SHOP, "shop/cart/items.py": "def add(a, b):\n    return b + a\n"}
    h.git.move_branch(REMOTE, "main", h.git.add_commit(changed, parent=h.base, message="edit\n"))
    calls = len(h.agent.requests)

    # When a new session runs
    third = complete_session(h)

    # Then only that component's agent ran
    ran = [call.module_name for call in h.agent.requests[calls:]]
    assert ran == [ITEMS]
    by_component = {c.component_id: c.id for c in h.children(third)}
    totals = next(c for c in h.components if c.module_name == TOTALS)
    assert reused_children(h, third) == [by_component[totals.id]]


def test_the_setting_forces_a_full_run(tmp_path: Path) -> None:
    # Given a project that turns reuse off, and a complete session
    h = Harness(tmp_path, project_settings={"reuse_verified_tests": False})
    complete_session(h)
    calls = len(h.agent.requests)

    # When a second session runs on the same base
    second = complete_session(h)

    # Then every component ran its agent again
    assert len(h.agent.requests) == calls + 2
    assert reused_children(h, second) == []
