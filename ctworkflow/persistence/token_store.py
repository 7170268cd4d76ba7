"""Queries on API tokens. Tokens belong to an account; only their secrets' hashes are kept."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from ctworkflow import errors
from ctworkflow.domain.tokens import ApiToken
from ctworkflow.persistence.tables import ApiTokenRow


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        id=row.id,
        account_id=row.account_id,
        project_id=row.project_id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class TokenStore:
    """API tokens of one unit of work."""

    def __init__(self, db: orm.Session) -> None:
        self.db = db

    def add_token(
        self,
        account_id: uuid.UUID,
        *,
        name: str,
        secret_hash: str,
        prefix: str,
        project_id: uuid.UUID | None,
    ) -> ApiToken:
        row = ApiTokenRow(
            account_id=account_id,
            project_id=project_id,
            name=name,
            secret_hash=secret_hash,
            prefix=prefix,
        )
        self.db.add(row)
        self.db.flush()
        return _token(row)

    def list_tokens(self, account_id: uuid.UUID) -> list[ApiToken]:
        found = self.db.scalars(
            sa.select(ApiTokenRow)
            .where(ApiTokenRow.account_id == account_id)
            .order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        )
        return [_token(r) for r in found]

    def by_hash(self, secret_hash: str) -> ApiToken | None:
        """The live (not revoked) token whose secret has this hash."""
        row = self.db.scalar(
            sa.select(ApiTokenRow).where(
                ApiTokenRow.secret_hash == secret_hash, ApiTokenRow.revoked_at.is_(None)
            )
        )
        return _token(row) if row else None

    def revoke(self, account_id: uuid.UUID, token_id: uuid.UUID, now: datetime) -> ApiToken:
        """Revoke a token of the account (again: a no-op); raise TokenNotFound if it has none."""
        self.db.execute(
            sa.update(ApiTokenRow)
            .where(
                ApiTokenRow.id == token_id,
                ApiTokenRow.account_id == account_id,
                ApiTokenRow.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        row = self.db.scalar(
            sa.select(ApiTokenRow).where(
                ApiTokenRow.id == token_id, ApiTokenRow.account_id == account_id
            )
        )
        if row is None:
            raise errors.TokenNotFound(token_id)
        return _token(row)
