"""Read models of a session: one session, a list, its details, in a few queries each.

:func:`session_details` gives a session, its children and its own steps; :func:`full_session`
adds what a per-component view needs besides (every child's steps), and :func:`output_tail`
one session's output tail, for the HTTP API and the web view.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from ctworkflow.domain import model
from ctworkflow.domain.inputs import parse_id
from ctworkflow.domain.states import SessionStatus, SessionType
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import sessions


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


@dataclass(frozen=True, slots=True, kw_only=True)
class FullSession:
    """A session's details and the steps of each of its children."""

    details: SessionDetails
    child_steps: dict[uuid.UUID, list[model.Interaction]]


def full_session(scope: model.Scope, session_id: uuid.UUID | str) -> FullSession:
    """A session with its children, its steps and each child's steps."""
    details = session_details(scope, session_id)
    with unit_of_work() as uow:
        steps = uow.sessions.interactions_of(scope, [c.id for c in details.children])
    return FullSession(details=details, child_steps=steps)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputTail:
    """The end of what a session's steps printed, and its newest test report."""

    session: model.Session
    module_name: str | None
    steps: list[model.Interaction]
    report: model.TestReport | None


def output_tail(scope: model.Scope, session_id: uuid.UUID | str) -> OutputTail:
    """The output tails of a session (any session of the project, parent or child)."""
    sid = parse_id(session_id, "session id")
    with unit_of_work() as uow:
        session = sessions.get_session(uow, scope, sid)
        components = uow.catalog.components_by_id(scope, [session.component_id])
        artifact = uow.sessions.latest_artifacts(scope, [sid]).get(sid)
        steps = uow.sessions.interactions(scope, sid)
    component = components.get(session.component_id)
    return OutputTail(
        session=session,
        module_name=component.module_name if component else None,
        steps=steps,
        report=artifact.report if artifact else None,
    )
