"""Branch names built from context names."""

from __future__ import annotations

import re

import pytest

from ctworkflow import errors
from ctworkflow.domain.naming import BRANCH_PREFIX, MAX_BRANCH_LENGTH, branch_name

_SAFE_BRANCH = re.compile(r"test-context-testing-session-for-[a-z0-9_]+(?:-[a-z0-9_]+)*")


@pytest.mark.parametrize(
    ("context_name", "suffix"),
    [
        ("Accounts", "accounts"),
        ("User Management & Auth", "user-management-auth"),
        ("API/V2/Users", "api-v2-users"),
        ("User  --  Sessions", "user-sessions"),
        ("-Sessions-", "sessions"),
        ("UserManagement", "usermanagement"),
        ("Payment Processing!", "payment-processing"),
        ("Data__Export---Module", "data__export-module"),
        ("Café", "caf"),
        ("$(touch pwned)", "touch-pwned"),
        ("; rm -rf x", "rm-rf-x"),
        ("`id`", "id"),
        ("Line one\nLine two", "line-one-line-two"),
        ('Say "hi" it\'s\tme', "say-hi-it-s-me"),
        ("nul\x00byte", "nul-byte"),
        ("_private_", "_private_"),
        ("v2", "v2"),
    ],
)
def test_branch_name_sanitizes_the_context_name(context_name: str, suffix: str) -> None:
    assert branch_name(context_name) == BRANCH_PREFIX + suffix


def test_branch_name_starts_with_the_prefix() -> None:
    assert BRANCH_PREFIX == "test-context-testing-session-for-"
    assert branch_name("Accounts") == "test-context-testing-session-for-accounts"


def test_branch_name_keeps_underscores() -> None:
    assert branch_name("Data__Export") == BRANCH_PREFIX + "data__export"


@pytest.mark.parametrize(
    "context_name",
    [
        "$(touch pwned)",
        "; rm -rf x",
        "a\nb\rc",
        "'quoted' \"double\"",
        "../../etc/passwd",
        "refs/heads/main",
        "x@{1}",
        "a..b~1^2:c?*[d]\\",
        "Ünïcödé Nämé",
    ],
)
def test_branch_name_only_holds_safe_characters(context_name: str) -> None:
    assert _SAFE_BRANCH.fullmatch(branch_name(context_name))


@pytest.mark.parametrize("context_name", ["!!!", "", "-", "---", "   ", "\n", "ééé", "日本"])
def test_branch_name_refuses_a_name_with_nothing_left(context_name: str) -> None:
    with pytest.raises(errors.InvalidBranchName) as excinfo:
        branch_name(context_name)
    assert repr(context_name) in str(excinfo.value)


def test_branch_name_error_message_names_the_input() -> None:
    with pytest.raises(errors.InvalidBranchName) as excinfo:
        branch_name("!!!")
    assert str(excinfo.value) == (
        "context name '!!!' has no letter or digit to build a branch name from"
    )


def test_branch_name_error_message_escapes_control_characters() -> None:
    with pytest.raises(errors.InvalidBranchName) as excinfo:
        branch_name("!\n!")
    assert "'!\\n!'" in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_branch_name_is_capped_at_the_maximum_length() -> None:
    name = branch_name("a" * 1000)
    assert len(name) == MAX_BRANCH_LENGTH
    assert name == BRANCH_PREFIX + "a" * (MAX_BRANCH_LENGTH - len(BRANCH_PREFIX))


def test_branch_name_does_not_end_with_a_dash_after_truncation() -> None:
    room = MAX_BRANCH_LENGTH - len(BRANCH_PREFIX)
    name = branch_name("a" * (room - 1) + " bcd")
    assert name == BRANCH_PREFIX + "a" * (room - 1)
    assert not name.endswith("-")


def test_branch_name_is_idempotent_on_its_suffix() -> None:
    suffix = branch_name("User Management & Auth").removeprefix(BRANCH_PREFIX)
    assert branch_name(suffix) == BRANCH_PREFIX + suffix
