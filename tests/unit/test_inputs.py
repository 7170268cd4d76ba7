"""The input checks every surface calls: branch names as git sees them, addresses, ranges."""

from __future__ import annotations

import subprocess

import pytest

from ctworkflow import errors
from ctworkflow.domain import inputs

BRANCHES = [
    "main", "develop", "feature/login", "release/1.0", "v1.2.3", "fix-#12", "ünïcode", "a+b",
    "user@host", "-x", "--upload-pack=touch /tmp/x", "a..b", "a b", "a~1", "a^", "a:b", "a?",
    "a*", "a[b", "a\\b", "a@{1}", "@", "x.lock", "dir/x.lock", ".hidden", "dir/.hidden", "x.",
    "/x", "x/", "a//b", "a\tb", "HEAD", "a/./b", "a/../b",
]  # fmt: skip


def git_accepts(name: str) -> bool:
    """What ``git check-ref-format --branch`` says, except for names it expands or that
    ``git branch`` refuses anyway (``@`` is the current branch to it, ``HEAD`` is reserved)."""
    done = subprocess.run(
        ["git", "check-ref-format", "--branch", name], capture_output=True, check=False
    )
    return done.returncode == 0 and name not in ("@", "HEAD")


@pytest.mark.parametrize("name", BRANCHES)
def test_branch_names_are_checked_as_git_checks_them(name: str) -> None:
    try:
        inputs.check_branch(name)
    except errors.InvalidInput as error:
        accepted, message = False, str(error)
    else:
        accepted, message = True, ""

    assert accepted == git_accepts(name), message
    if not accepted:
        assert message.startswith("default branch ") and "\n" not in message


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("ssh://-oProxyCommand=touch%20x/shop.git", "host must not start with '-'"),
        ("ssh://-oProxyCommand=x@host/shop.git", "user must not start with '-'"),
        ("git@-oProxyCommand:shop.git", "host must not start with '-'"),
        ("git@host:-shop.git", "path must not start with '-'"),
        ("ssh://host/-shop.git", "path must not start with '-'"),
        ("https://gitlab.com/a/b.git?private_token=glpat-secret", "query or a fragment"),
        ("https://gitlab.com/a/b.git#glpat-secret", "query or a fragment"),
        ("git@host:a/b.git?private_token=glpat-secret", "query or a fragment"),
        ("https://bot:glpat-secret@gitlab.com/a/b.git", "credentials"),
        ("https://host:notaport/a.git", "cannot be parsed"),
    ],
)
def test_hostile_repository_addresses_are_refused_without_repeating_the_token(
    address: str, says: str
) -> None:
    with pytest.raises(errors.InvalidRepository) as raised:
        inputs.check_repository(address)

    assert says in str(raised.value)
    assert "glpat-secret" not in str(raised.value)


@pytest.mark.parametrize(
    "address",
    [
        "https://github.com/acme/shop.git",
        "ssh://git@github.com:2222/acme/shop.git",
        "git@github.com:acme/shop.git",
        "file:///srv/git/shop.git",
        "/srv/git/shop#1.git",
    ],
)
def test_ordinary_repository_addresses_pass(address: str) -> None:
    assert inputs.check_repository(address) == address


@pytest.mark.parametrize(
    ("check", "value", "says"),
    [
        (inputs.check_max_attempts, 0, "max_attempts must be at least 1, got 0"),
        (inputs.check_max_attempts, 2**31, "max_attempts must be at most 1000, got 2147483648"),
        (inputs.check_priority, 2**31, "priority must be at most 2147483647"),
        (inputs.check_priority, -(2**31) - 1, "priority must be at least -2147483648"),
        (inputs.check_priority, 10**400, "got a number of 401 digits"),
        (inputs.check_priority, True, "priority must be an integer, got 'True'"),
        (inputs.check_limit, 10**6, "limit must be at most 10000"),
    ],
)
def test_numbers_stay_in_the_schemas_ranges(check: object, value: object, says: str) -> None:
    with pytest.raises(errors.InvalidInput) as raised:
        check(value)  # type: ignore[operator]
    assert says in str(raised.value)


@pytest.mark.parametrize("name", ["!!!", "---", "   ..  ", "🙂"])
def test_a_context_name_with_nothing_for_a_branch_is_refused(name: str) -> None:
    with pytest.raises(errors.InvalidInput) as raised:
        inputs.check_context_name(name)
    assert "has no letter or digit to build a branch name from" in str(raised.value) or (
        "empty" in str(raised.value)
    )


def test_user_ids_are_names_of_the_schemas_length() -> None:
    assert inputs.check_user_id(" alice ") == "alice"
    with pytest.raises(errors.InvalidName, match="user id is 256 characters long; at most 255"):
        inputs.check_user_id("u" * 256)
    with pytest.raises(errors.InvalidName, match="control characters"):
        inputs.check_user_id("alice\x00admin")
