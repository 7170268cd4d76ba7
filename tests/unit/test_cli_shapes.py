"""The CLI's JSON documents, built from domain values without a database."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

from ctworkflow.api import SessionDetails
from ctworkflow.cli import shapes
from ctworkflow.domain import model
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.states import (
    ChildStep,
    ExecutionMode,
    ParentStep,
    ResultStatus,
    SessionStatus,
    SessionType,
)

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT, PROJECT = uuid.uuid4(), uuid.uuid4()


def component(module: str, parent: uuid.UUID | None = None) -> model.Component:
    return model.Component(
        id=uuid.uuid4(),
        account_id=ACCOUNT,
        project_id=PROJECT,
        parent_id=parent,
        name=module.rsplit(".", 1)[-1],
        module_name=module,
        type="context" if parent is None else "module",
        priority=0,
        created_at=T0,
    )


def session(
    of: model.Component,
    status: SessionStatus,
    *,
    parent: uuid.UUID | None = None,
    ended_after_s: float | None = None,
    attempt: int = 1,
) -> model.Session:
    ended = T0 + timedelta(seconds=ended_after_s) if ended_after_s is not None else None
    return model.Session(
        id=uuid.uuid4(),
        type=SessionType.COMPONENT_TESTING if parent else SessionType.CONTEXT_TESTING,
        status=status,
        account_id=ACCOUNT,
        project_id=PROJECT,
        user_id="cli",
        component_id=of.id,
        parent_id=parent,
        execution_mode=ExecutionMode.AGENTIC,
        environment_type="local",
        agent="scaffold",
        state={},
        attempt=attempt,
        max_attempts=3,
        idempotency_key=None,
        branch_name=None if parent else "test-context-testing-session-for-accounts",
        base_commit=None if parent else "a" * 40,
        error="2 failed" if status is SessionStatus.FAILED else None,
        created_at=T0,
        updated_at=ended or T0,
        completed_at=ended,
    )


def interaction(
    parent: model.Session, step: str, status: ResultStatus | None, data: dict[str, object]
) -> model.Interaction:
    outcome = model.Outcome(status=status, data=data) if status else None
    return model.Interaction(
        id=uuid.uuid4(),
        session_id=parent.id,
        step=step,
        attempt=1,
        command=model.Command(keyword=step),
        outcome=outcome,
        duration_ms=120 if outcome else None,
        started_at=T0,
        completed_at=T0 if outcome else None,
    )


def artifact(child: model.Session, passed: int, failed: int) -> model.Artifact:
    return model.Artifact(
        id=uuid.uuid4(),
        session_id=child.id,
        attempt=1,
        test_path="tests/accounts/test_user.py",
        content="def test_x(): pass\n",
        digest="d" * 64,
        report=model.TestReport(collected=passed + failed, passed=passed, failed=failed),
        created_at=T0,
    )


def sample_details() -> SessionDetails:
    context = component("shop.accounts")
    user, repo, live = (
        component(f"shop.accounts.{m}", context.id) for m in ("user", "repo", "live")
    )
    parent = dataclasses.replace(
        session(context, SessionStatus.COMPLETE, ended_after_s=30), pushed_commit="c" * 40
    )
    done = session(user, SessionStatus.COMPLETE, parent=parent.id, ended_after_s=4.04)
    failed = session(repo, SessionStatus.FAILED, parent=parent.id, ended_after_s=7, attempt=2)
    running = session(live, SessionStatus.ACTIVE, parent=parent.id)
    return SessionDetails(
        session=parent,
        children=[done, failed, running],
        interactions=[
            interaction(parent, ParentStep.INITIALIZE, ResultStatus.OK, {}),
            interaction(parent, ParentStep.FINALIZE, ResultStatus.ERROR, {}),
            interaction(parent, ParentStep.FINALIZE, ResultStatus.OK, {"commit": "c" * 40}),
        ],
        components={c.id: c for c in (context, user, repo, live)},
        artifacts={done.id: artifact(done, 3, 0), failed.id: artifact(failed, 1, 2)},
    )


def test_details_hold_the_session_its_children_and_its_interactions() -> None:
    details = sample_details()

    document = shapes.details_json(details)

    assert document["id"] == str(details.session.id)
    assert document["status"] == "complete"
    assert document["branch_name"] == "test-context-testing-session-for-accounts"
    assert document["context"]["module_name"] == "shop.accounts"
    assert document["commit"] == "c" * 40
    assert [c["status"] for c in document["children"]] == ["complete", "failed", "active"]
    assert [c["attempt"] for c in document["children"]] == [1, 2, 1]
    assert document["children"][0]["component"]["module_name"] == "shop.accounts.user"
    assert document["children"][0]["artifact"]["report"]["passed"] == 3
    assert "content" not in document["children"][0]["artifact"]
    assert document["children"][2]["artifact"] is None
    assert [i["step"] for i in document["interactions"]] == ["initialize", "finalize", "finalize"]
    assert document["interactions"][1]["outcome"]["status"] == "error"
    assert document["progress"] == {
        "total": 3,
        "done": 2,
        "active": 1,
        "complete": 1,
        "failed": 1,
        "cancelled": 0,
    }
    json.dumps(document)  # every value is JSON


def test_component_rows_count_tests_and_time_each_child() -> None:
    details = sample_details()
    now = T0 + timedelta(seconds=12)

    rows = shapes.component_rows(details, now)

    assert [(r.module_name, r.tests_collected, r.tests_passed, r.tests_failed) for r in rows] == [
        ("shop.accounts.user", 3, 3, 0),
        ("shop.accounts.repo", 3, 1, 2),
        ("shop.accounts.live", None, None, None),
    ]
    # Ended children: until they ended; a running one: until now.
    assert [r.duration_s for r in rows] == [4.0, 7.0, 12.0]


def test_watch_snapshot_names_step_progress_and_rows() -> None:
    details = sample_details()

    snapshot = shapes.watch_json(details, T0)

    assert snapshot["step"] == "finalize (attempt 1)"
    assert snapshot["commit"] == "c" * 40
    assert snapshot["progress"]["done"] == 2
    assert [c["status"] for c in snapshot["components"]] == ["complete", "failed", "active"]


def test_no_commit_before_a_successful_finalize() -> None:
    details = sample_details()
    before = dataclasses.replace(
        details,
        session=dataclasses.replace(details.session, pushed_commit=None),
        interactions=details.interactions[:2],
    )

    assert shapes.watch_json(before, T0)["commit"] is None
    assert shapes.current_step([]) is None


def test_a_project_shows_its_repository_without_credentials() -> None:
    project = model.Project(
        id=uuid.uuid4(),
        account_id=ACCOUNT,
        name="shop",
        code_repo="https://bot:s3cret@git.example.com/shop.git",
        layout=Layout.PYTHON,
        default_branch="main",
        settings={"agent": "scaffold"},
        created_at=T0,
    )

    document = shapes.project_json(project)

    assert "s3cret" not in json.dumps(document)
    assert document["code_repo"].endswith("@git.example.com/shop.git")
    assert document["layout"] == "python"


def test_details_sum_the_agent_runs_of_every_child_and_keep_each_transcript() -> None:
    details = sample_details()
    done, failed, running = details.children
    usage = {"input_tokens": 1000, "output_tokens": 50, "cost_usd": 0.25, "turns": 3}
    generate = ChildStep.GENERATE_TESTS
    steps = {
        done.id: [
            interaction(done, ChildStep.INITIALIZE, ResultStatus.OK, {}),
            interaction(
                done,
                generate,
                ResultStatus.OK,
                {"duration_s": 2.0, "usage": usage, "transcript": "wrote it"},
            ),
        ],
        failed.id: [
            interaction(failed, generate, ResultStatus.ERROR, {"duration_s": 1.5, "usage": usage}),
            interaction(failed, ChildStep.FIX_FAILURES, ResultStatus.OK, {"duration_s": 0.5}),
        ],
        running.id: [],
    }

    document = shapes.details_json(details, steps)

    assert document["usage"] == {
        "input_tokens": 2000,
        "output_tokens": 100,
        "cost_usd": 0.5,
        "turns": 6,
        "wall_s": 4.0,
    }
    first, second, third = document["children"]
    assert [r["transcript"] for r in first["agent_runs"]] == ["wrote it"]
    assert [r["step"] for r in second["agent_runs"]] == ["generate_tests", "fix_failures"]
    assert second["usage"]["wall_s"] == 2.0 and second["usage"]["turns"] == 3
    assert third["agent_runs"] == [] and third["usage"]["input_tokens"] is None
    json.dumps(document)


def test_an_ended_sessions_outcome_names_what_landed_and_what_failed_and_why() -> None:
    details = sample_details()
    ended = dataclasses.replace(details, children=details.children[:2])

    outcome = shapes.outcome_json(ended)
    failed_session = dataclasses.replace(
        ended, session=dataclasses.replace(ended.session, status=SessionStatus.FAILED)
    )

    assert outcome == {
        "partial": True,
        "landed": [
            {
                "module_name": "shop.accounts.user",
                "name": "user",
                "test_path": "tests/accounts/test_user.py",
            }
        ],
        "failed": [{"module_name": "shop.accounts.repo", "name": "repo", "reason": "2 failed"}],
    }
    assert shapes.details_json(ended)["outcome"] == outcome
    assert shapes.watch_json(ended, T0)["outcome"] == outcome
    # A failed session landed nothing; a session still running has no outcome yet.
    assert shapes.outcome_json(failed_session) == {**outcome, "partial": False, "landed": []}
    active = dataclasses.replace(
        ended, session=dataclasses.replace(ended.session, status=SessionStatus.ACTIVE)
    )
    assert shapes.outcome_json(active) is None
