"""Read models of a session for the HTTP API and the web view, in a few queries each.

``api.session_details`` gives a session, its children and its own steps; these add what a
per-component view needs besides: every child's steps, and one session's output tail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ctworkflow import api, sessions
from ctworkflow.domain import model
from ctworkflow.domain.inputs import parse_id
from ctworkflow.persistence.db import unit_of_work


@dataclass(frozen=True, slots=True, kw_only=True)
class FullSession:
    """A session's details and the steps of each of its children."""

    details: api.SessionDetails
    child_steps: dict[uuid.UUID, list[model.Interaction]]


def full_session(scope: model.Scope, session_id: uuid.UUID | str) -> FullSession:
    """A session with its children, its steps and each child's steps."""
    details = api.session_details(scope, session_id)
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
