"""API tokens of an account: create (the secret is shown once), list, revoke, authenticate.

A token grants its account, or one project of it; the HTTP API takes the scope of every call
from the token, never from ids in the request.
"""

from __future__ import annotations

import uuid

from ctworkflow.domain import tokens
from ctworkflow.domain.inputs import check_name
from ctworkflow.domain.tokens import ApiToken, Grant
from ctworkflow.persistence.db import UnitOfWork
from ctworkflow.persistence.tables import utcnow


def create_token(
    uow: UnitOfWork, account_id: uuid.UUID, name: str, *, project_id: uuid.UUID | None = None
) -> tuple[ApiToken, str]:
    """Create a token of an account (limited to one of its projects if given).

    Returns the token and its secret; the secret is not kept and cannot be shown again.

    Raises:
        AccountNotFound, ProjectNotFound: no such account, or no such project in it.
    """
    checked = check_name(name, "token name")
    uow.catalog.get_account(account_id)
    if project_id is not None:
        uow.catalog.get_project(account_id, project_id)
    secret = tokens.new_secret()
    token = uow.tokens.add_token(
        account_id,
        name=checked,
        secret_hash=tokens.secret_hash(secret),
        prefix=secret[: tokens.SHOWN],
        project_id=project_id,
    )
    return token, secret


def list_tokens(uow: UnitOfWork, account_id: uuid.UUID) -> list[ApiToken]:
    """The account's tokens, revoked ones included, oldest first."""
    uow.catalog.get_account(account_id)
    return uow.tokens.list_tokens(account_id)


def revoke_token(uow: UnitOfWork, account_id: uuid.UUID, token_id: uuid.UUID) -> ApiToken:
    """Revoke a token of the account: from now on it is refused like an unknown one."""
    return uow.tokens.revoke(account_id, token_id, utcnow())


def authenticate(uow: UnitOfWork, secret: str) -> Grant | None:
    """What a presented secret grants; None for a malformed, unknown or revoked one."""
    if not tokens.looks_like_secret(secret):
        return None
    token = uow.tokens.by_hash(tokens.secret_hash(secret))
    if token is None:
        return None
    return Grant(
        token_id=token.id,
        token_name=token.name,
        account_id=token.account_id,
        project_id=token.project_id,
    )
