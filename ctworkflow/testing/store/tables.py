"""What the in-memory database holds, and the scope and unique-key rules its records share."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field

from ctworkflow.domain import model
from ctworkflow.domain.states import SessionStatus


@dataclass(slots=True)
class Tables:
    """Everything the in-memory database holds."""

    accounts: dict[uuid.UUID, model.Account] = field(default_factory=dict)
    projects: dict[uuid.UUID, model.Project] = field(default_factory=dict)
    components: dict[uuid.UUID, model.Component] = field(default_factory=dict)
    sessions: dict[uuid.UUID, model.Session] = field(default_factory=dict)
    interactions: dict[uuid.UUID, model.Interaction] = field(default_factory=dict)
    artifacts: dict[tuple[uuid.UUID, int], model.Artifact] = field(default_factory=dict)
    #: The order interactions completed in: what tells apart two completed at the same
    #: instant of a clock that stands still.
    completions: dict[uuid.UUID, int] = field(default_factory=dict)
    #: Every status change that ended a session, in order (the SQL store's webhook outbox).
    ended: list[tuple[uuid.UUID, SessionStatus]] = field(default_factory=list)


TABLE_NAMES = tuple(f.name for f in dataclasses.fields(Tables))


def in_scope(scope: model.Scope, row: model.Session | model.Component) -> bool:
    return row.account_id == scope.account_id and row.project_id == scope.project_id


def is_active_context(session: model.Session) -> bool:
    return session.parent_id is None and session.status is SessionStatus.ACTIVE


def same_unique_key(new: model.Session, other: model.Session) -> bool:
    """The SQL tables' unique keys: an idempotency key per project, one child per (parent,
    component), one active context session per (project, context)."""
    if new.project_id != other.project_id:
        return False
    if new.idempotency_key is not None and new.idempotency_key == other.idempotency_key:
        return True
    if new.component_id != other.component_id:
        return False
    if new.parent_id is not None:
        return new.parent_id == other.parent_id
    return is_active_context(new) and is_active_context(other)
