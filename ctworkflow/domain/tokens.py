"""API tokens, pure: what a token is, how its secret looks, and what it grants.

A secret is ``ctw_`` and 43 URL-safe characters (256 random bits). Only its SHA-256 is stored:
the secret has enough entropy that a fast hash cannot be searched, as GitHub and Stripe keep
theirs. It is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ctworkflow.domain.model import Scope

SECRET_PREFIX: Final = "ctw_"
#: Characters of the secret kept to tell tokens apart in listings (prefix included).
SHOWN: Final = 12


def new_secret() -> str:
    """A fresh token secret."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """What the database keeps of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_secret(value: str) -> bool:
    """Tell whether ``value`` has a token's shape (checked before any database look-up)."""
    body = value.removeprefix(SECRET_PREFIX)
    return (
        value.startswith(SECRET_PREFIX)
        and 20 <= len(body) <= 128
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in body)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiToken:
    """A token of an account, as listed: never its secret."""

    id: uuid.UUID
    account_id: uuid.UUID
    project_id: uuid.UUID | None
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        """Tell whether the token was revoked."""
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """What a valid token lets its bearer do: one account, or one project of it."""

    token_id: uuid.UUID
    token_name: str
    account_id: uuid.UUID
    project_id: uuid.UUID | None

    @property
    def user_id(self) -> str:
        """The user recorded on the sessions this token starts."""
        return f"token:{self.token_name}"[:255]

    def sees(self, project_id: uuid.UUID) -> bool:
        """Tell whether the token may reach ``project_id`` (of its own account)."""
        return self.project_id is None or self.project_id == project_id

    def scope(self, project_id: uuid.UUID) -> Scope:
        """The scope of a call on one project of the token's account."""
        return Scope(account_id=self.account_id, project_id=project_id, user_id=self.user_id)
