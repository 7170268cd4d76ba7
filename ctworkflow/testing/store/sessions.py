"""Session records: add, read, find, list, and update the fields a step may set."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.domain.session_state import SessionState, StatePatch
from ctworkflow.domain.states import ExecutionMode, SessionStatus, SessionType
from ctworkflow.testing.store.base import RecordsBase
from ctworkflow.testing.store.tables import in_scope, is_active_context, same_unique_key


class SessionRows(RecordsBase):
    """Sessions of the scope's project: add, read, find, list, and update the fields a step
    may set."""

    def add_session(self, scope: model.Scope, **values: Any) -> model.Session:
        """Insert a session of the scope (its first status is not a status change)."""
        now = self._clock.now()
        defaults: dict[str, Any] = {
            "id": uuid.uuid4(),
            "user_id": scope.user_id,
            "parent_id": None,
            "execution_mode": ExecutionMode.AGENTIC,
            "environment_type": "local",
            "state": SessionState(),
            "attempt": 0,
            "max_attempts": 3,
            "idempotency_key": None,
            "branch_name": None,
            "base_commit": None,
            "error": None,
            "created_at": now,
            "updated_at": now,
            "completed_at": None,
        }
        fields = {**defaults, **values}
        if isinstance(fields["state"], Mapping):  # as the SQL store takes it: a JSON document
            fields["state"] = SessionState.from_json(fields["state"])
        session = model.Session(account_id=scope.account_id, project_id=scope.project_id, **fields)
        if any(same_unique_key(session, other) for other in self._t.sessions.values()):
            raise errors.Conflict(f"a session with the unique key of {session.id} is there")
        self._t.sessions[session.id] = session
        return session

    def find_session(
        self,
        scope: model.Scope,
        *,
        component_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
        active_context: bool = False,
    ) -> model.Session | None:
        for found in self._t.sessions.values():
            if not in_scope(scope, found):
                continue
            if idempotency_key is not None and found.idempotency_key != idempotency_key:
                continue
            if component_id is not None and found.component_id != component_id:
                continue
            if active_context and not is_active_context(found):
                continue
            return found
        return None

    def session_ids_between(
        self, scope: model.Scope, low: uuid.UUID, high: uuid.UUID
    ) -> list[uuid.UUID]:
        """Up to two ids of the project's sessions in ``[low, high]``."""
        found = [s.id for s in self._t.sessions.values() if in_scope(scope, s)]
        return sorted(i for i in found if low <= i <= high)[:2]

    def list_sessions(
        self,
        scope: model.Scope,
        *,
        statuses: Iterable[SessionStatus] = (),
        type: SessionType | None = None,
        parent_id: uuid.UUID | None = None,
        limit: int = 100,
    ) -> list[model.Session]:
        """Sessions of the project, newest first."""
        wanted = set(statuses)
        found = [
            s
            for s in self._t.sessions.values()
            if in_scope(scope, s)
            and (not wanted or s.status in wanted)
            and (type is None or s.type is type)
            and (parent_id is None or s.parent_id == parent_id)
        ]
        newest_first = sorted(found, key=lambda s: s.id)
        newest_first.sort(key=lambda s: s.created_at, reverse=True)
        return newest_first[:limit]

    def active_context_scopes(self) -> list[model.Scope]:
        """The tenants that have an active context session."""
        tenants = {
            (s.account_id, s.project_id) for s in self._t.sessions.values() if is_active_context(s)
        }
        return [
            model.Scope(account_id=a, project_id=p, user_id="reconciler")
            for a, p in sorted(tenants)
        ]

    def touch(self, scope: model.Scope, session_ids: Sequence[uuid.UUID]) -> None:
        """Mark sessions as just handled (``updated_at``)."""
        for session_id in session_ids:
            found = self._t.sessions.get(session_id)
            if found is not None and in_scope(scope, found):
                self._t.sessions[session_id] = dataclasses.replace(
                    found, updated_at=self._clock.now()
                )

    def get_session(
        self, scope: model.Scope, session_id: uuid.UUID, *, for_update: bool = False
    ) -> model.Session:
        found = self._t.sessions.get(session_id)
        if found is None or not in_scope(scope, found):
            raise errors.SessionNotFound(session_id)
        return found

    def branch_holders(
        self, scope: model.Scope, branch_name: str, *, besides: uuid.UUID
    ) -> list[model.Session]:
        return [
            s
            for s in self._t.sessions.values()
            if in_scope(scope, s)
            and s.parent_id is None
            and s.branch_name == branch_name
            and s.id != besides
        ]

    def branches_in_use(
        self, scope: model.Scope, names: Sequence[str], *, besides_component: uuid.UUID
    ) -> set[str]:
        return {
            s.branch_name
            for s in self._t.sessions.values()
            if in_scope(scope, s)
            and s.parent_id is None
            and s.branch_name is not None
            and s.branch_name in names
            and s.component_id != besides_component
        }

    def update_session(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        only_if: SessionStatus | None = None,
        branch_name: str | None = None,
        base_commit: str | None = None,
        attempt: int | None = None,
        max_attempts: int | None = None,
        pushed_commit: str | None = None,
        state: StatePatch | None = None,
    ) -> bool:
        """Set the fields given (None: unchanged) and merge ``state`` into the session's, as
        the SQL store's one statement does: from the state stored, not a copy read before."""
        columns = {
            "branch_name": branch_name,
            "base_commit": base_commit,
            "attempt": attempt,
            "max_attempts": max_attempts,
            "pushed_commit": pushed_commit,
        }
        values: dict[str, Any] = {k: v for k, v in columns.items() if v is not None}
        found = self._t.sessions.get(session_id)
        if found is None or not in_scope(scope, found):
            return False
        if only_if is not None and found.status is not only_if:
            return False
        if state is not None:  # a copy: the caller's documents stay the caller's
            merged = state.merge_into(found.state.to_json())
            values["state"] = SessionState.from_json(copy.deepcopy(merged))
        self._t.sessions[session_id] = dataclasses.replace(
            found, updated_at=self._clock.now(), **values
        )
        return True

    def last_complete_context(
        self, scope: model.Scope, component_id: uuid.UUID
    ) -> model.Session | None:
        complete = [
            s
            for s in self._t.sessions.values()
            if in_scope(scope, s)
            and s.parent_id is None
            and s.component_id == component_id
            and s.status is SessionStatus.COMPLETE
        ]
        return max(complete, key=lambda s: (s.created_at, str(s.id)), default=None)
