"""A component run's cost in PostgreSQL transactions, counted on the real store.

A run claims its child in one transaction and records its end in one more; its steps are
journaled in between and written with those. A lease renewal (one more transaction, which
also writes the journal) falls due every ``STOP_CHECK_INTERVAL_S`` (2 s) of a run; this run's
real agent and test runs take longer than that on a loaded machine, so the test moves the
interval out of reach to count what a run shorter than it commits.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from ctworkflow.config import get_settings
from ctworkflow.domain.states import SessionStatus
from ctworkflow.persistence import db
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import sessions
from ctworkflow.workflow.component import run as component_run
from ctworkflow.workflow.component import run_component
from ctworkflow.workflow.deps import live_deps
from ctworkflow.workflow.steps import initialize, spawn
from tests.workflow_support import make_project


def test_a_component_run_commits_its_claim_and_its_end_and_nothing_else(
    postgres_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a spawned child, and a lease whose first renewal is an hour away
    monkeypatch.setenv("CTW_LEASE_TTL_S", "10800")
    monkeypatch.setattr(component_run, "STOP_CHECK_INTERVAL_S", 3600.0)
    get_settings.cache_clear()
    project = make_project(tmp_path / "shop")
    with unit_of_work() as uow:
        started = sessions.create_context_session(
            uow, project.scope, project.context.id, agent="command", max_attempts=3
        )
    session_id = started.session.id
    assert initialize.initialize(project.scope, session_id, 1, live_deps())
    fan_out = spawn.spawn(project.scope, session_id, 1, live_deps())
    assert fan_out is not None
    child_id = fan_out.run_ids[0]
    commits: list[int] = []
    this_thread = threading.get_ident()

    def committed(connection: Any) -> None:
        if threading.get_ident() == this_thread:
            commits.append(1)

    # When its round runs
    engine = db.get_engine(postgres_db)
    event.listen(engine, "commit", committed)
    try:
        result = run_component(project.scope, child_id, 1, live_deps())
    finally:
        event.remove(engine, "commit", committed)

    # Then it committed twice, and its history holds each of its steps, completed
    assert result["status"] == SessionStatus.COMPLETE, result["reason"]
    assert len(commits) == 2
    with unit_of_work() as uow:
        history = uow.sessions.interactions(project.scope, child_id)
    assert [i.step for i in history] == ["initialize", "generate_tests", "run_tests", "finalize"]
    assert not any(i.pending for i in history)
