"""Branch decisions: the collision rule, takeover of a context's branch, deleting empty ones,
and which components a round runs."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import UTC, datetime

import pytest

from ctworkflow import errors
from ctworkflow.domain import branches, commits, naming, rounds
from ctworkflow.domain.model import Session
from ctworkflow.domain.session_state import SessionState
from ctworkflow.domain.states import ExecutionMode, SessionStatus, SessionType
from ctworkflow.domain.validation import Failure

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SEED = "test-context-testing-session-for-tests"


def digest(module: str, digits: int = 8) -> str:
    return hashlib.sha256(module.encode()).hexdigest()[:digits]


# -- the collision rule -------------------------------------------------------------------------


def test_a_context_gets_the_seeds_name_when_no_other_context_uses_it() -> None:
    assert naming.context_branch("Tests", "a.tests", taken=set()) == SEED


def test_a_later_context_with_the_same_name_gets_its_module_digest_appended() -> None:
    second = naming.context_branch("Tests", "b.tests", taken={SEED})

    assert second == f"{SEED}-{digest('b.tests')}"
    # Deterministic: the same every time, and different for every module name.
    assert naming.context_branch("Tests", "b.tests", taken={SEED}) == second
    assert naming.context_branch("Tests", "c.tests", taken={SEED}) != second


def test_a_taken_suffix_falls_back_to_a_longer_digest() -> None:
    taken = {SEED, f"{SEED}-{digest('b.tests')}"}

    assert naming.context_branch("Tests", "b.tests", taken=taken) == (
        f"{SEED}-{digest('b.tests', 16)}"
    )


def test_candidates_stay_within_the_length_limit() -> None:
    long_name = "x" * 500
    for candidate in naming.branch_candidates(long_name, "pkg.x"):
        assert len(candidate) <= naming.MAX_BRANCH_LENGTH
        assert not candidate.endswith("-")


def test_every_name_taken_is_an_explicit_error() -> None:
    taken = set(naming.branch_candidates("Tests", "b.tests"))

    with pytest.raises(errors.InvalidBranchName):
        naming.context_branch("Tests", "b.tests", taken=taken)


# -- takeover ---------------------------------------------------------------------------------


def context_session(
    context_id: uuid.UUID, status: SessionStatus, *, parent: uuid.UUID | None = None
) -> Session:
    return Session(
        id=uuid.uuid4(),
        type=SessionType.CONTEXT_TESTING,
        status=status,
        account_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        user_id="u",
        component_id=context_id,
        parent_id=parent,
        execution_mode=ExecutionMode.AGENTIC,
        environment_type="local",
        agent="scaffold",
        state=SessionState(),
        attempt=1,
        max_attempts=3,
        idempotency_key=None,
        branch_name=SEED,
        base_commit="a" * 40,
        error=None,
        created_at=NOW,
        updated_at=NOW,
        completed_at=None,
    )


CONTEXT = uuid.uuid4()
CURRENT = uuid.uuid4()


@pytest.mark.parametrize("status", [SessionStatus.COMPLETE, SessionStatus.FAILED])
def test_commits_of_an_ended_session_of_the_same_context_may_be_dropped(
    status: SessionStatus,
) -> None:
    ended = context_session(CONTEXT, status)

    assert branches.may_take_over(ended, context_id=CONTEXT, current_id=CURRENT)


def test_commits_of_a_running_session_another_context_or_a_child_may_not() -> None:
    running = context_session(CONTEXT, SessionStatus.ACTIVE)
    other_context = context_session(uuid.uuid4(), SessionStatus.COMPLETE)
    a_child = context_session(CONTEXT, SessionStatus.COMPLETE, parent=uuid.uuid4())

    for session in (running, other_context, a_child, None):
        assert not branches.may_take_over(session, context_id=CONTEXT, current_id=CURRENT)


def test_the_current_session_owns_its_own_commit() -> None:
    current = context_session(CONTEXT, SessionStatus.ACTIVE)

    assert branches.may_take_over(current, context_id=CONTEXT, current_id=current.id)


def test_only_commits_naming_an_owned_session_are_not_foreign() -> None:
    ours = uuid.uuid4()
    message = commits.commit_message("Accounts", ours, [])
    by_us = branches.BranchCommit.parse("1" * 40, message)
    by_a_person = branches.BranchCommit.parse("2" * 40, "Fix a typo\n\nby hand\n")
    by_another = branches.BranchCommit.parse(
        "3" * 40, commits.commit_message("X", uuid.uuid4(), [])
    )

    assert by_us.session_id == ours and by_us.subject == "Add tests for the Accounts context"
    assert branches.foreign([by_a_person, by_us, by_another], {ours}) == [by_a_person, by_another]


def test_the_refusal_is_one_line_naming_the_commits() -> None:
    found = [branches.BranchCommit.parse(f"{i}" * 40, f"Commit {i}\n") for i in range(1, 8)]

    line = branches.refusal(SEED, "/srv/shop.git", found)

    assert "\n" not in line
    assert line.startswith(f"branch {SEED} on /srv/shop.git holds 7 commits ctworkflow did not")
    assert f"{'1' * 12} ('Commit 1')" in line
    assert "and 2 more" in line and "not overwriting it" in line


@pytest.mark.parametrize(
    ("status", "created", "head", "deleted"),
    [
        (SessionStatus.FAILED, True, "b", True),
        (SessionStatus.CANCELLED, True, "b", True),
        (SessionStatus.COMPLETE, True, "b", True),  # nothing to commit
        (SessionStatus.ACTIVE, True, "b", False),
        (SessionStatus.FAILED, False, "b", False),  # found, not created
        (SessionStatus.FAILED, True, "c", False),  # moved: someone put something there
        (SessionStatus.FAILED, True, None, False),  # already gone
    ],
)
def test_an_ended_session_deletes_only_the_empty_branch_it_created(
    status: SessionStatus, created: bool, head: str | None, deleted: bool
) -> None:
    assert branches.may_delete(status, created=created, head=head, base="b") is deleted


# -- rounds -----------------------------------------------------------------------------------


def child(status: SessionStatus, **state: str) -> Session:
    parent = context_session(CONTEXT, status, parent=uuid.uuid4())
    return dataclasses.replace(
        parent, type=SessionType.COMPONENT_TESTING, state=SessionState.from_json(state)
    )


def test_a_round_runs_what_did_not_pass_but_never_a_permanent_failure() -> None:
    done, failed = child(SessionStatus.COMPLETE), child(SessionStatus.FAILED)
    cancelled = child(SessionStatus.CANCELLED)
    permanent = child(SessionStatus.FAILED, permanent_failure="source file x.py does not exist")

    chosen = rounds.to_run([c.round_child for c in (done, failed, cancelled, permanent)])

    assert chosen == [failed.round_child, cancelled.round_child]
    assert permanent.round_child.failed_permanently and not failed.round_child.failed_permanently


def failure(permanent: bool) -> Failure:
    return Failure(
        component_id=uuid.uuid4(), module_name="m", name="M", reason="r", permanent=permanent
    )


def test_another_round_helps_only_while_a_failure_can_change() -> None:
    assert rounds.another_round_helps([failure(True), failure(False)])
    assert not rounds.another_round_helps([failure(True), failure(True)])


def test_the_error_tree_says_what_no_round_can_fix() -> None:
    for permanent in (
        errors.SourceMissing(),
        errors.SourceUnparsable(),
        errors.ModuleNotImportable(),
        errors.ForbiddenWrite(),
    ):
        assert errors.no_round_can_fix(permanent)
    for passing in (errors.StepFailed(), errors.CommandTimeout(), errors.ForeignCommits()):
        assert not errors.no_round_can_fix(passing)
