"""The typed session state, its patches, and an outcome's permanent mark: their JSON round
trips, and what they read of documents stored before they existed."""

from __future__ import annotations

import dataclasses

import pytest

from ctworkflow.domain.model import Outcome
from ctworkflow.domain.session_state import BranchHead, SessionState, StatePatch
from ctworkflow.domain.states import ResultStatus

FULL = SessionState(
    feedback="tests fail",
    notes="dropped test_x",
    permanent_failure="source missing",
    layout={"layout": "python", "app": None, "commit": "c"},
    environment={"recipe": {"installer": "pip"}, "build": {"built": True}},
    branch_head=BranchHead("h"),
    created_branch=True,
    branch_deleted=True,
    queued="broker down",
)


@pytest.mark.parametrize(
    "state",
    [SessionState(), FULL, SessionState(branch_head=BranchHead(None))],
    ids=["empty", "every-key", "branch-missing"],
)
def test_a_state_comes_back_from_its_json_as_it_was(state: SessionState) -> None:
    assert SessionState.from_json(state.to_json()) == state


def test_the_json_holds_only_the_keys_that_are_set_under_their_stored_names() -> None:
    assert SessionState().to_json() == {}
    assert FULL.to_json() == {
        "feedback": "tests fail",
        "notes": "dropped test_x",
        "permanent_failure": "source missing",
        "layout": {"layout": "python", "app": None, "commit": "c"},
        "environment": {"recipe": {"installer": "pip"}, "build": {"built": True}},
        "branch_head": "h",
        "created_branch": True,
        "branch_deleted": True,
        "queued": "broker down",
    }


def test_documents_stored_by_older_code_are_read_as_they_meant() -> None:
    # Given keys written as False or null, and a key no field holds (e.g. the old "runner")
    stored = {"created_branch": False, "branch_head": None, "runner": "pytest", "feedback": ""}

    state = SessionState.from_json(stored)

    assert state == SessionState(branch_head=BranchHead(None))
    assert not state.created_branch and state.feedback is None


def test_finalize_expects_the_head_initialize_saw_else_the_base() -> None:
    assert SessionState().expected_head("base") == "base"  # not recorded: before takeovers
    assert SessionState(branch_head=BranchHead("h")).expected_head("base") == "h"
    assert SessionState(branch_head=BranchHead(None)).expected_head("base") is None


def test_a_patch_names_only_the_keys_it_sets_and_those_it_clears() -> None:
    patch = StatePatch(
        feedback="f", queued=None, created_branch=False, branch_head=BranchHead(None)
    )

    assert patch.named() == {
        "feedback": "f",
        "queued": None,
        "created_branch": False,
        "branch_head": BranchHead(None),
    }
    assert patch.assignments() == {"feedback": "f", "branch_head": None}
    assert patch.removals() == {"queued", "created_branch"}
    assert StatePatch().named() == {} and StatePatch().assignments() == {}


def test_a_patch_merged_into_a_document_keeps_every_key_it_does_not_name() -> None:
    stored = {"queued": "q", "layout": {"a": 1, "b": None}, "unknown": 1}

    merged = StatePatch(queued=None, layout={"a": 2}, feedback="f").merge_into(stored)

    # the named keys are replaced whole or removed; the rest, even unknown ones, stay
    assert merged == {"layout": {"a": 2}, "unknown": 1, "feedback": "f"}


def test_a_patch_applied_to_a_state_is_the_state_with_those_fields_replaced() -> None:
    patch = StatePatch(feedback="new", permanent_failure=None)

    assert patch.apply(FULL) == dataclasses.replace(FULL, feedback="new", permanent_failure=None)
    assert SessionState.from_json(patch.merge_into(FULL.to_json())) == patch.apply(FULL)


def test_a_permanent_outcome_is_stored_under_data_permanent_and_read_back() -> None:
    outcome = Outcome.error("gone", data={"duration_s": 1.0}, permanent=True)

    stored = outcome.data_json()
    data, permanent = Outcome.split_data(stored)

    assert stored == {"duration_s": 1.0, "permanent": True}
    assert (data, permanent) == ({"duration_s": 1.0}, True)
    assert Outcome.ok(data={"x": 1}).data_json() == {"x": 1}  # not permanent: no key


@pytest.mark.parametrize(
    ("stored", "permanent"),
    [(None, False), ({}, False), ({"permanent": False}, False), ({"permanent": True}, True)],
)
def test_rows_stored_before_the_field_existed_read_the_same(
    stored: dict[str, bool] | None, permanent: bool
) -> None:
    data, found = Outcome.split_data(stored)

    assert found is permanent and "permanent" not in data
    assert Outcome(status=ResultStatus.ERROR, data=data, permanent=found).permanent is permanent
