"""Conversions from table rows to domain values, and dialect-aware inserts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql, sqlite

from ctworkflow.domain import model
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.session_state import SessionState
from ctworkflow.domain.states import SessionStatus
from ctworkflow.persistence import tables

#: Rows a query of a whole round (its children, their components, their artifacts) holds at
#: once: the ORM builds that many objects per page, on a server-side cursor on PostgreSQL, so
#: a 10,000-wide round never has 10,000 ORM rows (and their fetched tuples) alive together.
PAGE_ROWS = 500

T = TypeVar("T")
Q = TypeVar("Q", bound=sa.Executable)


def streamed(query: Q) -> Q:
    """``query`` read a page of :data:`PAGE_ROWS` at a time (``yield_per``)."""
    return query.execution_options(yield_per=PAGE_ROWS)


def batches(items: Sequence[T], size: int = PAGE_ROWS) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size``: the parameters of one statement stay bounded."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert_ignoring(db: orm.Session, table: type[tables.Base]) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` builder for the session's dialect."""
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table)


def account(row: tables.AccountRow) -> model.Account:
    return model.Account(id=row.id, name=row.name, created_at=row.created_at)


def project(row: tables.ProjectRow) -> model.Project:
    return model.Project(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        code_repo=row.code_repo,
        layout=Layout(row.layout),
        default_branch=row.default_branch,
        settings=dict(row.settings or {}),
        created_at=row.created_at,
        discovered_commit=row.discovered_commit,
    )


def component(row: tables.ComponentRow) -> model.Component:
    return model.Component(
        id=row.id,
        account_id=row.account_id,
        project_id=row.project_id,
        parent_id=row.parent_id,
        name=row.name,
        module_name=row.module_name,
        type=row.type,
        priority=row.priority,
        created_at=row.created_at,
        removed_at=row.removed_at,
    )


def session(row: tables.SessionRow) -> model.Session:
    return model.Session(
        id=row.id,
        type=row.type,
        status=row.status,
        account_id=row.account_id,
        project_id=row.project_id,
        user_id=row.user_id,
        component_id=row.component_id,
        parent_id=row.parent_id,
        execution_mode=row.execution_mode,
        environment_type=row.environment_type,
        agent=row.agent,
        state=SessionState.from_json(row.state or {}),
        attempt=row.attempt,
        max_attempts=row.max_attempts,
        idempotency_key=row.idempotency_key,
        branch_name=row.branch_name,
        base_commit=row.base_commit,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        worker_losses=row.worker_losses,
        runner=row.runner,
        pushed_commit=row.pushed_commit,
    )


def interaction(row: tables.InteractionRow) -> model.Interaction:
    outcome = None
    if row.result_status is not None:
        data, permanent = model.Outcome.split_data(row.result_data)
        outcome = model.Outcome(
            status=row.result_status,
            data=data,
            permanent=permanent,
            exit_code=row.exit_code,
            stdout_tail=row.stdout_tail or "",
            stderr_tail=row.stderr_tail or "",
            error_message=row.error_message,
        )
    return model.Interaction(
        id=row.id,
        session_id=row.session_id,
        step=row.step,
        attempt=row.attempt,
        command=model.Command.from_json(row.command),
        outcome=outcome,
        duration_ms=row.duration_ms,
        started_at=row.started_at,
        completed_at=row.completed_at,
    )


def round_child(row: Any) -> model.RoundChild:
    """A round's child from a row of id, component_id, status, error, permanent_failure."""
    return model.RoundChild(
        id=row.id,
        component_id=row.component_id,
        status=SessionStatus(row.status),
        error=row.error,
        permanent_failure=bool(row.permanent_failure),
    )


def artifact_head(row: Any) -> model.ArtifactHead:
    """An artifact's head from a row of id, session_id, test_path, digest and size."""
    return model.ArtifactHead(
        id=row.id,
        session_id=row.session_id,
        test_path=row.test_path,
        digest=row.digest,
        size=row.size,
    )


def artifact(row: tables.ArtifactRow) -> model.Artifact:
    return model.Artifact(
        id=row.id,
        session_id=row.session_id,
        attempt=row.attempt,
        test_path=row.test_path,
        content=row.content,
        digest=row.digest,
        report=model.TestReport.from_json(row.report),
        created_at=row.created_at,
    )


def in_scope(columns: Any, scope: model.Scope) -> sa.ColumnElement[bool]:
    """The filter every tenant-owned query carries."""
    return sa.and_(columns.account_id == scope.account_id, columns.project_id == scope.project_id)
