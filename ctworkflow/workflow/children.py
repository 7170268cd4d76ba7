"""The children of a context session: one component testing session per child component."""

from __future__ import annotations

import uuid

from ctworkflow import ports
from ctworkflow.domain import model
from ctworkflow.domain.states import ExecutionMode


def ensure_children(
    uow: ports.UnitOfWork, scope: model.Scope, parent_id: uuid.UUID
) -> list[model.Session]:
    """Get or create one child per direct child component of the parent's context.

    All missing children are inserted in one statement; existing ones, whatever their status,
    are kept, and components added to the context since the last call get a child too.
    """
    parent = uow.sessions.get_session(scope, parent_id)
    components = uow.catalog.child_components(scope, parent.component_id)
    uow.sessions.add_children(
        parent,
        [c.id for c in components],
        execution_mode=ExecutionMode.AGENTIC,
        environment_type=parent.environment_type,
        agent=parent.agent,
        max_attempts=parent.max_attempts,  # the parent's rounds (kept in step by a retry)
    )
    return uow.sessions.children(scope, parent_id)
