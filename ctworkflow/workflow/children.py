"""The children of a context session: one component testing session per child component."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ctworkflow import ports
from ctworkflow.domain import model
from ctworkflow.domain.states import ExecutionMode


def ensure_children(
    uow: ports.UnitOfWork, scope: model.Scope, parent_id: uuid.UUID
) -> list[model.RoundChild]:
    """Get or create one child per direct child component of the parent's context; the
    children as a round reads them (no state each: a spawn may make 10,000).

    All missing children are inserted in one statement; existing ones, whatever their status,
    are kept, and components added to the context since the last call get a child too.
    """
    parent = uow.sessions.get_session(scope, parent_id)
    add_missing_children(uow, parent, uow.catalog.child_components(scope, parent.component_id))
    return uow.sessions.round_children(scope, parent_id)


def add_missing_children(
    uow: ports.UnitOfWork, parent: model.Session, components: Sequence[model.Component]
) -> None:
    """Create the children ``parent`` lacks for ``components`` (its context's, as read)."""
    uow.sessions.add_children(
        parent,
        [c.id for c in components],
        execution_mode=ExecutionMode.AGENTIC,
        environment_type=parent.environment_type,
        agent=parent.agent,
        max_attempts=parent.max_attempts,  # the parent's rounds (kept in step by a retry)
    )
