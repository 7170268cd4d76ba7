"""The pure decisions of a fan-out round: who runs, with what feedback, how a run ends, and
what validation concludes."""

from __future__ import annotations

import uuid
from typing import Any

from ctworkflow.domain import commits, rounds, validation
from ctworkflow.domain.model import Command, Session, TestReport
from ctworkflow.domain.routing import Halt
from ctworkflow.domain.session_state import SessionState, StatePatch
from ctworkflow.domain.states import ResultStatus, SessionStatus
from ctworkflow.domain.validation import Failure
from ctworkflow.testing import values


def child(status: SessionStatus, error: str | None = None, **state: object) -> Session:
    return values.child_session(status, error, state=SessionState.from_json(state))


def stored(state: SessionState) -> dict[str, Any]:
    return state.to_json()


def failure(child_id: uuid.UUID | None, reason: str = "r", *, permanent: bool = False) -> Failure:
    return Failure(
        component_id=uuid.uuid4(),
        module_name="m",
        name="M",
        reason=reason,
        child_id=child_id,
        permanent=permanent,
    )


def test_a_round_reactivates_what_did_not_pass_and_hands_each_the_reason_it_failed() -> None:
    # Given a passed child, one validation disproved, one cancelled, and one failed for good
    done = child(SessionStatus.COMPLETE)
    disproved = child(SessionStatus.FAILED, "its own error", layout={"commit": "kept"})
    cancelled = child(SessionStatus.CANCELLED, "parent session cancelled")
    permanent = child(SessionStatus.FAILED, "gone", permanent_failure="source missing")

    # When the next round is planned with validation's reasons
    children = [c.round_child for c in (done, disproved, cancelled, permanent)]
    plan = rounds.plan_round(children, {disproved.id: "tests fail when run"})

    # Then validation's reason wins over the child's own, the rest of its state is kept, and
    # only the children that can still pass run
    assert plan.run == [disproved.round_child, cancelled.round_child]
    assert plan.reactivate == {
        SessionStatus.FAILED: [disproved.id],
        SessionStatus.CANCELLED: [cancelled.id],
    }
    assert plan.states == {
        disproved.id: StatePatch(feedback="tests fail when run"),
        cancelled.id: StatePatch(feedback="parent session cancelled"),
    }
    after = {c.id: plan.states[c.id].apply(c.state) for c in (disproved, cancelled)}
    assert {i: stored(s) for i, s in after.items()} == {
        disproved.id: {"layout": {"commit": "kept"}, "feedback": "tests fail when run"},
        cancelled.id: {"feedback": "parent session cancelled"},
    }
    assert rounds.feedback(after[disproved.id]) == "tests fail when run"


def test_a_first_round_of_new_children_changes_no_status_and_no_state() -> None:
    fresh = [child(SessionStatus.ACTIVE).round_child, child(SessionStatus.ACTIVE).round_child]

    plan = rounds.plan_round(fresh, {})

    assert plan.run == fresh and plan.reactivate == {} and plan.states == {}


def test_a_permanent_failure_is_marked_and_any_other_end_clears_the_mark() -> None:
    marked = SessionState(permanent_failure="old", feedback="f")

    permanent = rounds.end_of_run(
        Halt.PERMANENT_FAILURE, "source missing", SessionState(feedback="f")
    )
    passed = rounds.end_of_run(Halt.SESSION_COMPLETE, "an earlier error", marked)
    exhausted = rounds.end_of_run(Halt.ATTEMPTS_EXHAUSTED, None, marked)

    assert (permanent.status, permanent.reason) == (SessionStatus.FAILED, "source missing")
    assert stored(permanent.state) == {"feedback": "f", "permanent_failure": "source missing"}
    assert (passed.status, passed.reason, stored(passed.state)) == (
        SessionStatus.COMPLETE,
        None,
        {"feedback": "f"},
    )
    assert (exhausted.status, exhausted.reason) == (SessionStatus.FAILED, "attempts_exhausted")
    assert stored(exhausted.state) == {"feedback": "f"}
    # and each end's patch names only the keys the run owns: the feedback is not rewritten
    assert passed.patch == StatePatch(notes=None, permanent_failure=None)
    assert permanent.patch.merge_into({"feedback": "f", "queued": "q"}) == {
        "feedback": "f",
        "queued": "q",
        "permanent_failure": "source missing",
    }


def test_failures_read_back_from_a_rounds_outcome_are_the_failures_written() -> None:
    written = [failure(uuid.uuid4(), "a\nb", permanent=True), failure(None, "no session")]

    read = validation.failures_of({"failures": [f.to_json() for f in written]})

    assert read == written
    assert validation.feedback_by_child(read) == {written[0].child_id: "a\nb"}
    assert validation.failures_of({}) == []


def test_validation_gives_up_at_once_only_when_no_failure_can_change() -> None:
    permanent, fixable = failure(uuid.uuid4(), permanent=True), failure(uuid.uuid4())

    outcome, give_up = validation.verdict([permanent], 2, {}, [])
    _, keep_going = validation.verdict([permanent, fixable], 2, {}, [])

    assert outcome.status is ResultStatus.ERROR and give_up
    assert outcome.permanent is True and outcome.data_json()["permanent"] is True
    assert outcome.error_message is not None and outcome.error_message.startswith("1 of 2")
    assert not keep_going


def test_a_passed_round_counts_the_tests_the_orchestrator_ran() -> None:
    reports = {
        "a": TestReport(collected=3, passed=3),
        "b": TestReport(collected=2, passed=2),
    }
    kept = [{"test_path": "b", "summary": "kept"}]

    outcome, give_up = validation.verdict([], 2, reports, kept)

    assert outcome.status is ResultStatus.OK and not give_up
    assert dict(outcome.data) == {
        "components": 2,
        "tests_collected": 5,
        "tests_passed": 5,
        "kept": kept,
    }


def test_a_spawn_command_tells_whether_and_whom_its_round_fanned_out_to() -> None:
    record = rounds.FanOutRecord(child_ids=[uuid.uuid4(), uuid.uuid4()], run_ids=[uuid.uuid4()])

    assert rounds.FanOutRecord.from_command(record.command()) == record
    assert rounds.FanOutRecord.from_command(Command(keyword="spawn_sessions")) is None


def test_finalize_pushes_onto_the_head_it_expects_and_never_over_someone_elses() -> None:
    ours = {"c" * 40}
    asked: list[str] = []

    def pushed_by_session(commit: str) -> bool:
        asked.append(commit)
        return commit in ours

    assert commits.landing(None, "a" * 40, pushed_by_session) is commits.Landing.PUSH
    assert commits.landing("a" * 40, "a" * 40, pushed_by_session) is commits.Landing.PUSH
    assert asked == []  # a branch where it was expected needs no look at its commit
    assert commits.landing("c" * 40, "a" * 40, pushed_by_session) is commits.Landing.ALREADY_PUSHED
    assert commits.landing("d" * 40, "a" * 40, pushed_by_session) is commits.Landing.MOVED
    assert commits.landing("d" * 40, None, pushed_by_session) is commits.Landing.MOVED


def test_what_a_run_dropped_reaches_the_agent_with_the_next_feedback_and_is_replaced() -> None:
    dropped = rounds.end_of_run(
        Halt.SESSION_COMPLETE, None, SessionState(feedback="f", notes="old"), "dropped test_x"
    )
    later = rounds.end_of_run(Halt.SESSION_COMPLETE, None, dropped.state)

    assert stored(dropped.state) == {"feedback": "f", "notes": "dropped test_x"}
    assert rounds.feedback(dropped.state) == "f\n\ndropped test_x"
    assert rounds.feedback(SessionState(notes="dropped test_x")) == "dropped test_x"
    assert stored(later.state) == {"feedback": "f"}
