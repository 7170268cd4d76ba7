"""The Python API for backend services: start, read, list, cancel and retry sessions.

Every function takes a :class:`~ctworkflow.Scope`; ids and names of another tenant behave as
missing ones. Errors are typed (``ctworkflow.errors``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from ctworkflow import catalog, errors, sessions
from ctworkflow.config import get_settings
from ctworkflow.domain import model
from ctworkflow.domain.inputs import check_name, parse_id
from ctworkflow.domain.orchestrator import Next
from ctworkflow.domain.states import TERMINAL, ParentStep, SessionStatus, SessionType
from ctworkflow.persistence.db import UnitOfWork, unit_of_work


def _resolve_context(uow: UnitOfWork, scope: model.Scope, context: uuid.UUID | str) -> uuid.UUID:
    """A context given by id or by module name."""
    if isinstance(context, uuid.UUID):
        return context
    text = check_name(context, "context")
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    found = uow.catalog.find_component(scope, text)
    if found is None:
        raise errors.ComponentNotFound(text)
    return found.id


def start_context_testing(
    scope: model.Scope,
    context: uuid.UUID | str,
    *,
    idempotency_key: str | None = None,
    agent: str | None = None,
    max_attempts: int | None = None,
) -> model.Session:
    """Start testing a context (by id or module name); idempotent per context and key."""
    settings = get_settings()
    with unit_of_work() as uow:
        project = catalog.get_project(uow, scope)
        started = sessions.create_context_session(
            uow,
            scope,
            _resolve_context(uow, scope, context),
            agent=agent or str(project.settings.get("agent") or settings.agent),
            max_attempts=max_attempts if max_attempts is not None else settings.max_attempts,
            idempotency_key=idempotency_key,
        )
    if started.created:  # after the commit: the worker must find the row
        _enqueue(scope, started.session.id, Next(step=ParentStep.INITIALIZE))
    return started.session


def _enqueue(scope: model.Scope, session_id: uuid.UUID, route: Next) -> None:
    from ctworkflow.tasks import context as context_tasks  # the Celery layer, loaded on use

    context_tasks.enqueue(scope.to_json(), str(session_id), route)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionDetails:
    """A session with its children, its history and its children's newest artifacts."""

    session: model.Session
    children: list[model.Session]
    interactions: list[model.Interaction]
    components: dict[uuid.UUID, model.Component]
    artifacts: dict[uuid.UUID, model.Artifact]


def get_session(scope: model.Scope, session_id: uuid.UUID | str) -> model.Session:
    """A session of the scope's project."""
    with unit_of_work() as uow:
        return sessions.get_session(uow, scope, parse_id(session_id, "session id"))


def session_details(scope: model.Scope, session_id: uuid.UUID | str) -> SessionDetails:
    """A session, its children, its interactions and its children's newest artifacts."""
    sid = parse_id(session_id, "session id")
    with unit_of_work() as uow:
        session = sessions.get_session(uow, scope, sid)
        children = uow.sessions.children(scope, sid)
        ids = [session.component_id, *(c.component_id for c in children)]
        return SessionDetails(
            session=session,
            children=children,
            interactions=uow.sessions.interactions(scope, sid),
            components=uow.catalog.components_by_id(scope, ids),
            artifacts=uow.sessions.latest_artifacts(scope, [c.id for c in children]),
        )


def list_sessions(
    scope: model.Scope,
    *,
    statuses: Iterable[SessionStatus] = (),
    type: SessionType | None = SessionType.CONTEXT_TESTING,
    limit: int = 100,
) -> list[model.Session]:
    """Sessions of the scope's project, newest first (context sessions by default)."""
    with unit_of_work() as uow:
        return sessions.list_sessions(uow, scope, statuses=statuses, type=type, limit=limit)


def cancel_session(scope: model.Scope, session_id: uuid.UUID | str) -> model.Session:
    """Cancel a session and its active children; their queued tasks are revoked.

    A running agent notices within seconds and its whole process group is killed.
    """
    sid = parse_id(session_id, "session id")
    with unit_of_work() as uow:
        cancelled = sessions.cancel_session(uow, scope, sid)
    from ctworkflow.tasks import context as context_tasks

    attempt = max(cancelled.session.attempt, 1)
    context_tasks.revoke(
        [context_tasks.step_task_id(str(c), "run", attempt) for c in cancelled.cancelled_children]
    )
    return cancelled.session


def retry_session(scope: model.Scope, session_id: uuid.UUID | str) -> model.Session:
    """Run a failed or cancelled context session again, with a fresh budget of attempts."""
    sid = parse_id(session_id, "session id")
    with unit_of_work() as uow:
        session = sessions.get_session(uow, scope, sid)
        if session.type is not SessionType.CONTEXT_TESTING or session.status not in TERMINAL:
            raise errors.InvalidTransition(sid, session.status, SessionStatus.ACTIVE)
        # A step interrupted by the cancel is closed as failed, so the rerun is its next
        # attempt: its task ids (which carry the attempt) differ from the revoked ones, which
        # workers remember and would discard.
        uow.sessions.abandon_pending(scope, sid, "interrupted: the session was cancelled")
        last = uow.sessions.last_completed(scope, sid)
        sessions.transition(uow, scope, sid, SessionStatus.ACTIVE)
        budget = (last.attempt if last else 0) + get_settings().max_attempts
        uow.sessions.update_session(scope, sid, max_attempts=budget)
    from ctworkflow.tasks import context as context_tasks

    context_tasks.advance(scope.to_json(), str(sid))
    return get_session(scope, sid)
