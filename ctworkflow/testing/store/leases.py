"""Leases on component sessions: taken when free, renewed and released by their owner."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from ctworkflow.domain import model
from ctworkflow.domain.states import SessionStatus
from ctworkflow.testing.store.base import RecordsBase
from ctworkflow.testing.store.tables import in_scope


class Leases(RecordsBase):
    """Who runs a component session now, until when."""

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
        found = self._t.sessions.get(session_id)
        if found is None or not in_scope(scope, found) or found.status is not SessionStatus.ACTIVE:
            return None
        free = (
            found.lease_owner is None
            or (found.lease_expires_at is not None and found.lease_expires_at <= now)
            or (replacing is not None and found.lease_owner == replacing)
        )
        if not free:
            return None
        losses = found.worker_losses + (1 if found.lease_owner is not None else 0)
        self._t.sessions[session_id] = dataclasses.replace(
            found,
            lease_owner=owner,
            lease_expires_at=expires_at,
            worker_losses=losses,
            updated_at=now,
        )
        return losses

    def renew_lease(
        self, scope: model.Scope, session_id: uuid.UUID, *, owner: str, expires_at: datetime
    ) -> bool:
        found = self._t.sessions.get(session_id)
        if (
            found is None
            or not in_scope(scope, found)
            or found.lease_owner != owner
            or found.status is not SessionStatus.ACTIVE
        ):
            return False
        self._t.sessions[session_id] = dataclasses.replace(found, lease_expires_at=expires_at)
        return True

    def release_lease(self, scope: model.Scope, session_id: uuid.UUID, *, owner: str) -> bool:
        found = self._t.sessions.get(session_id)
        if found is None or not in_scope(scope, found) or found.lease_owner != owner:
            return False
        self._t.sessions[session_id] = dataclasses.replace(
            found, lease_owner=None, lease_expires_at=None
        )
        return True
