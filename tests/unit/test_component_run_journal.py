"""A component run's durable history in few transactions, on the in-memory kit.

A run claims its child in one transaction and records how it ended in one more; its steps go
to a journal written with those and with each lease renewal (every
``component.STOP_CHECK_INTERVAL_S``), so a slow run still shows what it does.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ctworkflow.agents.base import AgentRequest
from ctworkflow.domain import claims
from ctworkflow.domain.states import ResultStatus, SessionStatus
from ctworkflow.testing.harness import Harness
from ctworkflow.workflow import component, steps

ITEMS = "shop.cart.items"
WALK = [("initialize", 1), ("generate_tests", 1), ("run_tests", 1), ("finalize", 1)]


def spawned(h: Harness) -> list[uuid.UUID]:
    """The children of a new session's first round, spawned but not run."""
    session_id = h.start()
    h.deliver(h.dispatcher.sent.pop(0))  # initialize
    fan_out = steps.spawn.spawn(h.scope, session_id, 1, h.deps)
    assert fan_out is not None
    h.dispatcher.rounds.clear()
    return list(fan_out.run_ids)


def test_a_fast_component_run_costs_two_transactions_its_claim_and_its_end(
    tmp_path: Path,
) -> None:
    # Given a spawned child whose agent answers at once
    h = Harness(tmp_path)
    child_id = spawned(h)[0]
    opened = h.db.opened

    # When its round runs, shorter than one lease renewal
    result = component.run_component(h.scope, child_id, 1, h.deps)

    # Then it took two transactions, and its history holds every step, completed
    assert h.db.opened - opened == 2
    assert result["status"] == SessionStatus.COMPLETE
    history = h.interactions(child_id)
    assert [(i.step, i.attempt) for i in history] == WALK
    assert all(i.outcome is not None and i.outcome.status is ResultStatus.OK for i in history)


def test_a_slow_run_shows_its_steps_with_each_lease_renewal(tmp_path: Path) -> None:
    # Given a child whose agent works longer than the lease's check interval
    h = Harness(tmp_path)
    child_id = spawned(h)[0]
    seen: list[tuple[str, int, bool]] = []
    ids: list[uuid.UUID] = []

    def slow(request: AgentRequest) -> None:
        h.clock.advance(component.STOP_CHECK_INTERVAL_S + 1)
        assert request.should_stop is not None and not request.should_stop()  # a renewal
        history = h.interactions(child_id)
        seen.extend((i.step, i.attempt, i.pending) for i in history)
        ids.extend(i.id for i in history)

    h.agent.during = slow

    # When its round runs
    result = component.run_component(h.scope, child_id, 1, h.deps)

    # Then while the agent worked, its step was in the database as pending, after the one
    # before it; at the end, each step once, the pending one completed in its own row
    assert seen == [("initialize", 1, False), ("generate_tests", 1, True)]
    assert result["status"] == SessionStatus.COMPLETE
    history = h.interactions(child_id)
    assert [(i.step, i.attempt) for i in history] == WALK
    assert not any(i.pending for i in history)
    assert [i.id for i in history[:2]] == ids


def test_a_run_taken_over_after_a_renewal_leaves_its_running_step_interrupted(
    tmp_path: Path,
) -> None:
    # Given a run that wrote its steps with a renewal, then fell silent past its lease in its
    # agent call while the round was delivered again
    h = Harness(tmp_path)
    session_id = h.start()
    silent: list[AgentRequest] = []
    taken_over: list[object] = []

    def fall_silent(request: AgentRequest) -> None:
        if silent or request.module_name != ITEMS:
            return
        silent.append(request)
        child = next(c for c in h.children(session_id) if c.lease_owner)
        h.clock.advance(component.STOP_CHECK_INTERVAL_S + 1)
        assert request.should_stop is not None and not request.should_stop()
        h.clock.advance(h.deps.settings.lease_ttl_s + 1)
        taken_over.append(component.run_component(h.scope, child.id, 1, h.deps))

    h.agent.during = fall_silent

    # When the session runs
    h.run()

    # Then the second delivery closed the silent run's running step as interrupted and
    # numbered its own attempts after the silent run's; the silent run wrote nothing more
    [result] = taken_over
    assert isinstance(result, dict) and result["status"] == SessionStatus.COMPLETE
    items = next(c for c in h.children(session_id) if c.component_id == h.components[0].id)
    history = [
        (i.step, i.attempt, i.outcome.error_message if i.outcome else "pending")
        for i in h.interactions(items.id)
    ]
    assert history == [
        ("initialize", 1, None),
        ("generate_tests", 1, claims.INTERRUPTED),
        ("initialize", 2, None),
        ("generate_tests", 2, None),
        ("run_tests", 1, None),
        ("finalize", 1, None),
    ]
    assert items.status is SessionStatus.COMPLETE and items.worker_losses == 1
    assert h.session(session_id).status is SessionStatus.COMPLETE


def test_a_claim_waits_out_a_database_restart_instead_of_failing_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a spawned child, and a database that is down when its run starts and back after
    # the run's first wait
    h = Harness(tmp_path)
    child_id = spawned(h)[0]
    h.db.unavailable = "the server is restarting"
    sleep = h.clock.sleep

    def restarted(seconds: float) -> None:
        h.db.unavailable = None
        sleep(seconds)

    monkeypatch.setattr(h.clock, "sleep", restarted)

    # When its round runs
    result = component.run_component(h.scope, child_id, 1, h.deps)

    # Then the claim was tried again after a wait, and the child ran to its end
    assert h.clock.sleeps == [0.5]
    assert result["status"] == SessionStatus.COMPLETE
    assert [(i.step, i.attempt) for i in h.interactions(child_id)] == WALK
