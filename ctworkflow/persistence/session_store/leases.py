"""The lease a component run holds on its child session (compare-and-set on its columns)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ctworkflow.domain import model
from ctworkflow.domain.states import SessionStatus
from ctworkflow.persistence import rows
from ctworkflow.persistence.session_store.base import StoreBase
from ctworkflow.persistence.tables import (
    SessionRow,
)


class Leases(StoreBase):
    """Take, renew and release a session's lease."""

    def take_lease(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        owner: str,
        expires_at: datetime,
        now: datetime,
        replacing: str | None = None,
    ) -> int | None:
        """Compare-and-set: take an active session's free, expired (or ``replacing``) lease.

        Returns the session's worker losses after taking it (a lease taken over from a run
        that never released it counts one more), or None if another run holds it.
        """
        free = sa.or_(SessionRow.lease_owner.is_(None), SessionRow.lease_expires_at <= now)
        if replacing is not None:
            free = sa.or_(free, SessionRow.lease_owner == replacing)
        lost = sa.case((SessionRow.lease_owner.is_not(None), 1), else_=0)
        result = self.db.execute(
            sa.update(SessionRow)
            .where(
                SessionRow.id == session_id,
                rows.in_scope(SessionRow, scope),
                SessionRow.status == SessionStatus.ACTIVE,
                free,
            )
            .values(
                lease_owner=owner,
                lease_expires_at=expires_at,
                worker_losses=SessionRow.worker_losses + lost,
                updated_at=now,
            )
            .returning(SessionRow.worker_losses)
        )
        found = result.scalar()
        return None if found is None else int(found)

    def renew_lease(
        self, scope: model.Scope, session_id: uuid.UUID, *, owner: str, expires_at: datetime
    ) -> bool:
        """Extend a lease this owner holds on a session still active; else False."""
        return self._update_lease(
            scope,
            session_id,
            owner,
            SessionRow.status == SessionStatus.ACTIVE,
            lease_expires_at=expires_at,
        )

    def release_lease(self, scope: model.Scope, session_id: uuid.UUID, *, owner: str) -> bool:
        """Give a lease back; False if this owner no longer held it."""
        return self._update_lease(scope, session_id, owner, lease_owner=None, lease_expires_at=None)

    def _update_lease(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        owner: str,
        *conditions: sa.ColumnElement[bool],
        **values: Any,
    ) -> bool:
        result = self.db.execute(
            sa.update(SessionRow)
            .where(
                SessionRow.id == session_id,
                rows.in_scope(SessionRow, scope),
                SessionRow.lease_owner == owner,
                *conditions,
            )
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
