"""The session use cases (start, cancel, retry, reconcile) and a database outage, in memory.

Each test runs the real use cases of :mod:`ctworkflow.services.lifecycle` and the real steps
on :class:`ctworkflow.testing.harness.Harness`: the ports they are given are the in-memory
database, git remote, clock and a dispatcher that keeps the messages; no server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.agents.base import AgentRequest
from ctworkflow.domain.states import ParentStep, SessionStatus
from ctworkflow.testing.doubles import verdict_file
from ctworkflow.testing.harness import Harness
from ctworkflow.workflow import component, drive

ITEMS = "shop.cart.items"


def test_start_records_the_session_then_sends_its_first_step_once_per_idempotency_key(
    tmp_path: Path,
) -> None:
    # Given a project with a context
    h = Harness(tmp_path)

    # When the context is started twice with one key
    first = h.start(idempotency_key="order-7")
    second = h.start(idempotency_key="order-7")

    # Then one session was created, active, and its initialize step sent once
    assert first == second
    assert h.session(first).status is SessionStatus.ACTIVE
    assert [(m.session_id, m.step, m.attempt) for m in h.dispatcher.sent] == [
        (first, ParentStep.INITIALIZE, 1)
    ]
    # and delivered, the messages run the session to its end
    h.run()
    assert h.session(first).status is SessionStatus.COMPLETE


def test_cancel_ends_the_session_and_its_children_and_revokes_their_runs(tmp_path: Path) -> None:
    # Given a session whose round is sent but not yet run
    h = Harness(tmp_path)
    session_id = h.start()
    h.deliver(h.dispatcher.sent.pop(0))  # initialize
    spawn = h.dispatcher.sent.pop(0)
    drive.spawn(h.scope, session_id, spawn.attempt, h.deps)  # its round is sent, not run
    [sent_round] = h.dispatcher.rounds
    children = h.children(session_id)
    assert sorted(sent_round.run_ids) == sorted(c.id for c in children)

    # When it is cancelled
    cancelled = h.cancel(session_id)

    # Then it and its children are cancelled, their runs revoked, and its branch released
    assert cancelled.status is SessionStatus.CANCELLED
    assert {c.status for c in h.children(session_id)} == {SessionStatus.CANCELLED}
    revoked = [args for kind, args in h.dispatcher.others if kind == "revoke"]
    assert revoked == [(tuple(c.id for c in children), 1)]
    assert ("release", (session_id,)) in h.dispatcher.others
    # and cancelling it again is refused
    with pytest.raises(errors.InvalidTransition):
        h.cancel(session_id)


def test_retry_runs_a_failed_session_again_with_a_fresh_budget(tmp_path: Path) -> None:
    # Given a session that failed its only round, and an agent whose next file passes
    h = Harness(tmp_path)
    h.agent.plan[ITEMS] = [verdict_file("FAIL"), verdict_file("PASS")]
    session_id = h.start(max_attempts=1)
    h.run()
    assert h.session(session_id).status is SessionStatus.FAILED

    # When it is retried and its messages delivered
    retried = h.retry(session_id)
    h.run()

    # Then it was active again with a new budget of rounds, and it completed on the next one
    assert retried.status is SessionStatus.ACTIVE
    assert retried.max_attempts == 1 + h.deps.settings.max_attempts
    assert h.session(session_id).status is SessionStatus.COMPLETE
    assert len(h.agent.calls_for(ITEMS)) == 2


def test_a_session_cancelled_while_initializing_is_retried_from_initialize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a session cancelled while its initialize step reads the remote's head
    h = Harness(tmp_path)
    session_id = h.start()
    read_head = h.git.remote_head

    def cancelled_meanwhile(remote: str, branch: str) -> str | None:
        monkeypatch.setattr(h.git, "remote_head", read_head)  # once
        h.cancel(session_id)
        return read_head(remote, branch)

    monkeypatch.setattr(h.git, "remote_head", cancelled_meanwhile)
    h.run()
    cancelled = h.session(session_id)
    assert cancelled.status is SessionStatus.CANCELLED
    assert cancelled.base_commit is None  # the step saw the cancel before recording anything

    # When it is retried and its messages delivered
    h.retry(session_id)
    h.run()

    # Then initialize ran again (its first attempt closed as failed), recorded the base, and
    # the session completed
    session = h.session(session_id)
    assert session.status is SessionStatus.COMPLETE
    assert session.base_commit == h.base
    attempts = [i.attempt for i in h.interactions(session_id) if i.step == ParentStep.INITIALIZE]
    assert attempts == [1, 2]


def test_reconcile_sends_again_the_step_of_a_session_whose_message_was_lost(
    tmp_path: Path,
) -> None:
    # Given a started session whose first message was lost, quiet past the stale period
    h = Harness(tmp_path)
    session_id = h.start()
    h.dispatcher.sent.clear()
    assert h.reconcile().actions == {}  # not stale yet: nothing to do
    h.clock.advance(h.deps.settings.stale_after_s + 1)

    # When the reconciler passes
    report = h.reconcile()

    # Then it sent the session's first step again, and the session runs to its end
    assert report.sessions == 1
    assert report.actions == {"RunStep": 1}
    assert report.redriven == [str(session_id)]
    assert [(m.step, m.attempt) for m in h.dispatcher.sent] == [(ParentStep.INITIALIZE, 1)]
    h.run()
    assert h.session(session_id).status is SessionStatus.COMPLETE


def test_a_database_outage_while_a_run_is_recorded_loses_nothing_and_a_redelivery_records_it(
    tmp_path: Path,
) -> None:
    # Given a database that goes down while the first component's agent writes its tests
    h = Harness(tmp_path)
    session_id = h.start()

    def outage(request: AgentRequest) -> None:
        if request.module_name == ITEMS and len(h.agent.calls_for(ITEMS)) == 1:
            h.db.unavailable = "connection refused"

    h.agent.during = outage

    # When the session runs
    with pytest.raises(errors.DatabaseUnavailable) as raised:
        h.run()

    # Then the run failed with a transient error (its task is delivered again) and recorded
    # nothing: no artifact, no step (its journal was never written), the session still active
    assert errors.is_transient(raised.value)
    h.db.unavailable = None
    items, totals = h.children(session_id)
    assert h.db.tables.artifacts == {}
    assert h.interactions(items.id) == []
    assert h.session(session_id).status is SessionStatus.ACTIVE

    # When the database is back and the runs are delivered again, past the silent run's lease
    h.clock.advance(h.deps.settings.lease_ttl_s + 1)
    for child in (items, totals):
        component.run_component(h.scope, child.id, 1, h.deps)
    h.validate(session_id, 1)
    h.run()

    # Then each component is recorded once and the session completes
    assert sorted(h.db.tables.artifacts) == sorted([(items.id, 1), (totals.id, 1)])
    assert h.session(session_id).status is SessionStatus.COMPLETE
