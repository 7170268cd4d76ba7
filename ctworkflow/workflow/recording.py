"""How a step records itself: begin an interaction, then store its outcome.

A redelivered step finds its own interaction (unique per session, step and attempt): if that
already has an outcome the step is not run again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ctworkflow import ports
from ctworkflow.domain import model
from ctworkflow.domain.states import SessionStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class StepStart:
    """A step that may run: its session, as read when it began, and its interaction."""

    session: model.Session
    interaction: model.Interaction


def begin(
    transactions: ports.Transactions,
    scope: model.Scope,
    session_id: uuid.UUID,
    step: str,
    attempt: int,
    command: model.Command,
) -> StepStart | None:
    """Begin a step of an active session; None if the session ended or the step already ran."""
    with transactions() as uow:
        session = uow.sessions.get_session(scope, session_id)
        if session.status is not SessionStatus.ACTIVE:
            return None
        interaction = uow.sessions.begin_interaction(
            scope, session_id, step=step, attempt=attempt, command=command
        )
    if not interaction.pending:
        return None
    return StepStart(session=session, interaction=interaction)


def finish(
    uow: ports.UnitOfWork,
    scope: model.Scope,
    start: StepStart,
    outcome: model.Outcome,
    *,
    command: model.Command | None = None,
    fail_session: bool = False,
) -> bool:
    """Store a step's outcome; a permanent failure also fails the session at once.

    Returns False when another delivery of the step stored its outcome first: only the one
    that stored it moves the session on.
    """
    stored = uow.sessions.complete_interaction(scope, start.interaction, outcome, command=command)
    if stored and fail_session:
        uow.sessions.set_status(
            scope,
            [start.session.id],
            expected=SessionStatus.ACTIVE,
            target=SessionStatus.FAILED,
            error=outcome.error_message,
        )
    return stored
