"""The decision of incremental sessions: which component keeps an earlier verified test file."""

from __future__ import annotations

import hashlib
import subprocess
import uuid

import pytest

from ctworkflow import errors
from ctworkflow.domain import reuse

SESSION = uuid.UUID("12345678-0000-0000-0000-000000000000")
THEN = reuse.Facts(source_blob="s1", test_blob=None, environment="env-a", runner="pytest")
ARTIFACT = "a1"


def earlier(facts: reuse.Facts = THEN, artifact: str | None = ARTIFACT) -> reuse.Earlier:
    return reuse.Earlier(session_id=SESSION, facts=facts, artifact_blob=artifact)


def test_a_component_with_no_complete_session_runs() -> None:
    decision = reuse.decide(THEN, None)
    assert (decision.reuse, decision.reason) == (False, "runs: no complete session yet")


def test_an_unchanged_component_reuses_and_names_the_session() -> None:
    decision = reuse.decide(THEN, earlier())
    assert decision.reuse
    assert decision.source_session == SESSION
    assert decision.reason == (
        "reused: unchanged since session 12345678 (source, test file, environment, runner)"
    )


@pytest.mark.parametrize(
    ("now", "changed"),
    [
        (
            reuse.Facts(source_blob="s2", test_blob=None, environment="env-a", runner="pytest"),
            "source",
        ),
        (
            reuse.Facts(source_blob="s1", test_blob="t9", environment="env-a", runner="pytest"),
            "test file",
        ),
        (
            reuse.Facts(source_blob="s1", test_blob=None, environment="env-b", runner="pytest"),
            "environment",
        ),
        (
            reuse.Facts(source_blob="s1", test_blob=None, environment="env-a", runner="mix"),
            "runner",
        ),
    ],
)
def test_a_changed_fact_makes_the_component_run_and_says_which(
    now: reuse.Facts, changed: str
) -> None:
    decision = reuse.decide(now, earlier())
    assert not decision.reuse
    assert decision.reason == f"runs: {changed} changed since 12345678"


def test_several_changes_are_all_named_in_order() -> None:
    now = reuse.Facts(source_blob="s2", test_blob=None, environment="env-b", runner="pytest")
    assert reuse.decide(now, earlier()).reason == "runs: source, environment changed since 12345678"


def test_the_merged_artifact_as_test_file_is_unchanged() -> None:
    # Given the earlier branch was merged: the test file at the new base is the artifact
    now = reuse.Facts(source_blob="s1", test_blob=ARTIFACT, environment="env-a", runner="pytest")
    assert reuse.decide(now, earlier()).reuse


def test_the_test_file_the_earlier_session_found_at_its_base_is_unchanged() -> None:
    then = reuse.Facts(source_blob="s1", test_blob="t0", environment="env-a", runner="pytest")
    assert reuse.decide(then, earlier(then)).reuse


def test_a_component_without_an_earlier_artifact_runs() -> None:
    decision = reuse.decide(THEN, earlier(artifact=None))
    assert not decision.reuse
    assert decision.reason == "runs: no verified test file in session 12345678"


def test_a_component_whose_source_file_is_gone_runs() -> None:
    gone = reuse.Facts(source_blob=None, test_blob=None, environment="env-a", runner="pytest")
    gone_then = reuse.Facts(source_blob=None, test_blob=None, environment="env-a", runner="pytest")
    assert reuse.decide(gone, earlier(gone_then)).reason == "runs: no source file at the base"


def test_blob_id_is_gits() -> None:
    text = "def test_x():\n    assert 1 + 1 == 2\n"
    printed = subprocess.run(
        ["git", "hash-object", "--stdin"], input=text, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert reuse.blob_id(text) == printed
    assert reuse.blob_id(text) != hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


@pytest.mark.parametrize("value", [True, False])
def test_the_setting_takes_a_boolean(value: bool) -> None:
    assert reuse.check_setting(value) is value


@pytest.mark.parametrize("value", ["no", 0, None, "false"])
def test_the_setting_refuses_anything_else_in_one_line(value: object) -> None:
    with pytest.raises(
        errors.InvalidInput, match="setting reuse_verified_tests must be true or false"
    ):
        reuse.check_setting(value)


def test_reuse_is_on_by_default_and_off_by_the_setting_or_a_full_run() -> None:
    assert reuse.enabled({})
    assert not reuse.enabled({reuse.SETTING: False})
    assert not reuse.enabled({}, full=True)
