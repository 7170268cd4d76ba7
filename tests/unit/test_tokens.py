"""API token secrets and grants, pure."""

from __future__ import annotations

import uuid

from ctworkflow.domain import tokens
from ctworkflow.domain.tokens import Grant


def test_secrets_are_random_prefixed_and_only_their_hash_is_kept() -> None:
    one, two = tokens.new_secret(), tokens.new_secret()
    assert one != two and one.startswith("ctw_") and len(one) == 47
    assert tokens.looks_like_secret(one)
    assert tokens.secret_hash(one) == tokens.secret_hash(one) != tokens.secret_hash(two)
    assert one not in tokens.secret_hash(one)


def test_shapes_other_than_a_secret_are_refused_before_any_look_up() -> None:
    for value in ("", "ctw_", "ctw_short", "Bearer ctw_" + "a" * 43, "ctw_" + "a" * 42 + "é"):
        assert not tokens.looks_like_secret(value)


def test_a_grant_sees_its_account_or_only_its_project() -> None:
    account, project, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    wide = Grant(token_id=uuid.uuid4(), token_name="ci", account_id=account, project_id=None)
    narrow = Grant(token_id=uuid.uuid4(), token_name="ci", account_id=account, project_id=project)
    assert wide.sees(project) and wide.sees(other)
    assert narrow.sees(project) and not narrow.sees(other)
    scope = narrow.scope(project)
    assert (scope.account_id, scope.project_id, scope.user_id) == (account, project, "token:ci")
