"""The scoped sessions service: create, read, list, move and cancel sessions.

Every function takes a :class:`~ctworkflow.domain.model.Scope`; a session of another account or
project is reported exactly like a missing one (``SessionNotFound``). Children take account and
project from their parent's row. Status changes are compare-and-set, so a duplicate or racing
caller finds nothing to do instead of corrupting a session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from ctworkflow import errors
from ctworkflow.domain import id_prefix, model, rounds
from ctworkflow.domain.inputs import (
    check_context_name,
    check_limit,
    check_max_attempts,
    check_name,
    check_user_id,
)
from ctworkflow.domain.states import (
    ExecutionMode,
    SessionStatus,
    SessionType,
    can_transition,
)
from ctworkflow.ports import UnitOfWork
from ctworkflow.runners.registry import check_runner
from ctworkflow.services import catalog


@dataclass(frozen=True, slots=True, kw_only=True)
class Started:
    """The session a start request leads to, and whether this request created it."""

    session: model.Session
    created: bool


def create_context_session(
    uow: UnitOfWork,
    scope: model.Scope,
    component_id: uuid.UUID,
    *,
    agent: str,
    max_attempts: int,
    environment_type: str = "local",
    idempotency_key: str | None = None,
    runner: str | None = None,
) -> Started:
    """Get or create the one active context testing session of a context.

    Starting again while a session of the context is active, or with an idempotency key
    already used in the project, returns that session instead of a new one. ``runner``
    overrides the project's test runner for this session.
    """
    key = check_name(idempotency_key, "idempotency key") if idempotency_key is not None else None
    checked_agent = check_name(agent, "agent", max_length=64)
    check_max_attempts(max_attempts)
    check_user_id(scope.user_id)
    if runner is not None:
        check_runner(runner)
    catalog.get_project(uow, scope)
    context = catalog.get_context(uow, scope, component_id)
    check_context_name(context.name)  # registered before names were checked: refused now
    existing = _existing(uow, scope, context.id, key)
    if existing is not None:
        return Started(session=existing, created=False)
    try:
        session = uow.sessions.add_session(
            scope,
            type=SessionType.CONTEXT_TESTING,
            status=SessionStatus.ACTIVE,
            user_id=scope.user_id,
            component_id=context.id,
            execution_mode=ExecutionMode.AGENTIC,
            environment_type=environment_type,
            agent=checked_agent,
            state={},
            runner=runner,
            max_attempts=max_attempts,
            idempotency_key=key,
        )
    except errors.Conflict:
        # Another request created it between our look-up and our insert.
        raced = _existing(uow, scope, context.id, key)
        if raced is None:
            raise
        return Started(session=raced, created=False)
    return Started(session=session, created=True)


def _existing(
    uow: UnitOfWork, scope: model.Scope, context_id: uuid.UUID, key: str | None
) -> model.Session | None:
    if key is not None:
        found = uow.sessions.find_session(scope, idempotency_key=key)
        if found is not None:
            return found
    return uow.sessions.find_session(scope, component_id=context_id, active_context=True)


def resolve_session_id(uow: UnitOfWork, scope: model.Scope, text: str) -> uuid.UUID:
    """The id of a session of the scope given by its id or a unique prefix of it.

    Raises:
        InvalidInput: not an id, or a prefix that begins several sessions' ids.
        SessionNotFound: no session of the scope has that id or prefix.
    """
    given = id_prefix.parse_id_or_prefix(text, "session id")
    if isinstance(given, uuid.UUID):
        return given
    matches = uow.sessions.session_ids_between(scope, given.low, given.high)
    found = id_prefix.pick(given, matches, "session")
    if found is None:
        raise errors.SessionNotFound(given.prefix)
    return found


def get_session(uow: UnitOfWork, scope: model.Scope, session_id: uuid.UUID) -> model.Session:
    """A session of the scope's project."""
    return uow.sessions.get_session(scope, session_id)


def list_sessions(
    uow: UnitOfWork,
    scope: model.Scope,
    *,
    statuses: Iterable[SessionStatus] = (),
    type: SessionType | None = None,
    parent_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[model.Session]:
    """Sessions of the scope's project, newest first."""
    check_limit(limit)
    return uow.sessions.list_sessions(
        scope, statuses=statuses, type=type, parent_id=parent_id, limit=limit
    )


def children(uow: UnitOfWork, scope: model.Scope, parent_id: uuid.UUID) -> list[model.Session]:
    """Child sessions of a context session, in their components' order."""
    uow.sessions.get_session(scope, parent_id)
    return uow.sessions.children(scope, parent_id)


def forget_permanent_failures(uow: UnitOfWork, scope: model.Scope, parent_id: uuid.UUID) -> int:
    """Let the next round run children that failed permanently again; how many there were."""
    marked = [c for c in uow.sessions.children(scope, parent_id) if rounds.PERMANENT_KEY in c.state]
    for child in marked:
        state = {k: v for k, v in child.state.items() if k != rounds.PERMANENT_KEY}
        uow.sessions.update_session(scope, child.id, state=state)
    return len(marked)


def transition(
    uow: UnitOfWork,
    scope: model.Scope,
    session_id: uuid.UUID,
    target: SessionStatus,
    *,
    error: str | None = None,
) -> model.Session:
    """Move a session to ``target``; raise InvalidTransition if its status forbids it."""
    session = uow.sessions.get_session(scope, session_id)
    if not can_transition(session.status, target):
        raise errors.InvalidTransition(session_id, session.status, target)
    moved = uow.sessions.set_status(
        scope, [session_id], expected=session.status, target=target, error=error
    )
    if not moved:  # someone else changed it between our read and our write
        current = uow.sessions.get_session(scope, session_id)
        raise errors.InvalidTransition(session_id, current.status, target)
    return uow.sessions.get_session(scope, session_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled:
    """A cancelled session and the children that were still active."""

    session: model.Session
    cancelled_children: list[uuid.UUID]


def cancel_session(uow: UnitOfWork, scope: model.Scope, session_id: uuid.UUID) -> Cancelled:
    """Cancel an active session and every active child of it."""
    session = transition(uow, scope, session_id, SessionStatus.CANCELLED, error="cancelled")
    active = [
        child.id
        for child in uow.sessions.children(scope, session_id)
        if child.status is SessionStatus.ACTIVE
    ]
    done = uow.sessions.set_status(
        scope,
        active,
        expected=SessionStatus.ACTIVE,
        target=SessionStatus.CANCELLED,
        error="parent session cancelled",
    )
    return Cancelled(session=session, cancelled_children=done)
