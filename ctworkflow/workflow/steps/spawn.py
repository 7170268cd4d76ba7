"""The round step of a context testing session: get or create its children and choose which of
them run this round (the Celery layer then sends them as a chord, validation its callback)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ctworkflow import ports
from ctworkflow.domain import model, rounds, validation
from ctworkflow.domain.states import ParentStep, SessionStatus
from ctworkflow.workflow import recording, reuse
from ctworkflow.workflow.children import ensure_children
from ctworkflow.workflow.deps import Deps


@dataclass(frozen=True, slots=True, kw_only=True)
class FanOut:
    """The children a spawn round runs, out of all the context's children."""

    attempt: int
    child_ids: list[uuid.UUID]
    run_ids: list[uuid.UUID]


def spawn(scope: model.Scope, session_id: uuid.UUID, attempt: int, deps: Deps) -> FanOut | None:
    """Get or create the children and choose who runs this round; None if nothing to do.

    Round 1 runs every child. A later round runs only the children that did not pass,
    each handed the reason it failed, plus children of components added since.
    """
    start = recording.begin(
        deps.transactions,
        scope,
        session_id,
        ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS,
        attempt,
        model.Command(keyword="spawn_sessions"),
    )
    if start is None:
        return None
    if attempt == 1:  # components unchanged since a complete session keep its tests
        reuse.keep_verified(deps, scope, session_id)
    with deps.transactions() as uow:
        children = ensure_children(uow, scope, session_id)
        if not children:
            context = uow.catalog.get_component(scope, start.session.component_id)
            message = f"context {context.module_name} has no components to test"
            recording.finish(uow, scope, start, model.Outcome.error(message), fail_session=True)
            return None
        # Validation failed every child it did not pass: a complete child passed, and keeps
        # its artifact; nothing leaves ``complete`` to run again. A child that failed
        # permanently does not run again either.
        plan = rounds.plan_round(children, _previous_failures(uow, scope, session_id, attempt))
        # Set-based: one UPDATE per status left, one for the round, one executemany of the
        # states that carry feedback; never a statement per child.
        for status, ids in plan.reactivate.items():
            uow.sessions.set_status(scope, ids, expected=status, target=SessionStatus.ACTIVE)
        run_ids = [c.id for c in plan.run]
        uow.sessions.start_round(scope, attempt, session_ids=run_ids, states=plan.states)
        uow.sessions.update_session(scope, session_id, attempt=attempt)
        child_ids = [c.id for c in children]
        record = rounds.FanOutRecord(child_ids=child_ids, run_ids=run_ids)
        uow.sessions.update_interaction_command(scope, start.interaction, record.command())
    return FanOut(attempt=attempt, child_ids=child_ids, run_ids=run_ids)


def _previous_failures(
    uow: ports.UnitOfWork, scope: model.Scope, session_id: uuid.UUID, attempt: int
) -> dict[uuid.UUID, str]:
    if attempt <= 1:
        return {}
    previous = uow.sessions.find_interaction(
        scope, session_id, step=ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS, attempt=attempt - 1
    )
    if previous is None or previous.outcome is None:
        return {}
    return validation.feedback_by_child(validation.failures_of(previous.outcome.data))
