"""A round wider than one page of rows and one batch of messages runs whole: the real worker,
PostgreSQL, Redis and git, with pages, insert batches and chord batches made smaller than the
round (the sizes a 10,000-component round pages by, scaled down to the sample's three)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctworkflow import api
from ctworkflow.domain.states import ParentStep, ResultStatus, SessionStatus
from ctworkflow.persistence import rows
from ctworkflow.persistence.session_store import children as children_store
from ctworkflow.tasks import dispatch
from ctworkflow.tasks.app import app
from tests.workflow_support import make_project, wait_until_terminal


def test_a_round_wider_than_a_page_and_a_batch_is_spawned_and_validated_whole(
    workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: pages of one row, batches of two children and two messages, three components.
    monkeypatch.setattr(rows, "PAGE_ROWS", 1)
    monkeypatch.setattr(children_store, "INSERT_ROWS", 2)
    monkeypatch.setattr(children_store, "ANALYZE_AFTER_ROWS", 2)  # and analyzes the table
    monkeypatch.setattr(dispatch, "STREAM_BATCH", 2)
    assert dispatch.streamed_chords(app)  # Redis counts the parts: the round is streamed
    project = make_project(tmp_path / "shop", agent="scaffold")

    session = wait_until_terminal(project.scope, project.start().id)

    assert session.status is SessionStatus.COMPLETE, session.error
    details = api.session_details(project.scope, session.id)
    (validation,) = [
        i for i in details.interactions if i.step == ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS
    ]
    assert validation.outcome is not None and validation.outcome.status is ResultStatus.OK
    assert validation.outcome.data["tests_passed"] == 9  # 3 smoke tests for each of the 3
    children = details.children
    assert sorted(c.component_id for c in children) == sorted(c.id for c in project.components)
    assert all(c.status is SessionStatus.COMPLETE for c in children)
    assert len(details.artifacts) == 3
