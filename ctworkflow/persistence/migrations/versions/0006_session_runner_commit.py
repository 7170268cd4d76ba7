"""a context session's test runner and pushed commit are columns, not JSON keys

``runner`` was ``state["runner"]``; ``pushed_commit`` was found by scanning the session's
interactions for its newest successful finalize. Both are copied over on the way up, and the
runner back into the state on the way down.

Revision ID: 0006_session_runner_commit
Revises: 0005_http_api
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_session_runner_commit"
down_revision = "0005_http_api"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

_sessions = sa.table(
    "sessions",
    sa.column("id", sa.Uuid()),
    sa.column("parent_id", sa.Uuid()),
    sa.column("state", JSON),
    sa.column("runner", sa.String(64)),
    sa.column("pushed_commit", sa.String(64)),
)
_interactions = sa.table(
    "interactions",
    sa.column("session_id", sa.Uuid()),
    sa.column("step", sa.String(64)),
    sa.column("result_data", JSON),
    sa.column("completed_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    # Plain ALTERs, never a batch copy of the table: that would drop the status guard's
    # trigger on SQLite (migration 0004).
    op.add_column("sessions", sa.Column("runner", sa.String(length=64), nullable=True))
    op.add_column("sessions", sa.Column("pushed_commit", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    contexts = connection.execute(
        sa.select(_sessions.c.id, _sessions.c.state).where(_sessions.c.parent_id.is_(None))
    ).all()
    for session_id, found in contexts:
        state = _json(found)
        runner = state.get("runner")
        if runner:
            rest = {k: v for k, v in state.items() if k != "runner"}
            _update(connection, session_id, runner=str(runner), state=rest)
    finalized = connection.execute(
        sa.select(_interactions.c.session_id, _interactions.c.result_data)
        .where(_interactions.c.step == "finalize", sa.text("result_status = 'ok'"))
        .order_by(_interactions.c.completed_at)
    ).all()
    pushed: dict[Any, str] = {}
    for session_id, data in finalized:
        commit = _json(data).get("commit")
        if commit:
            pushed[session_id] = str(commit)
    for session_id, commit in pushed.items():
        _update(connection, session_id, pushed_commit=commit)


def downgrade() -> None:
    connection = op.get_bind()
    chosen = connection.execute(
        sa.select(_sessions.c.id, _sessions.c.state, _sessions.c.runner).where(
            _sessions.c.runner.is_not(None)
        )
    ).all()
    for session_id, state, runner in chosen:
        _update(connection, session_id, state={**_json(state), "runner": runner})
    op.drop_column("sessions", "pushed_commit")
    op.drop_column("sessions", "runner")


def _update(connection: sa.Connection, session_id: Any, **values: Any) -> None:
    connection.execute(sa.update(_sessions).where(_sessions.c.id == session_id).values(**values))


def _json(value: object) -> dict[str, Any]:
    return dict(cast(dict[str, Any], value or {}))
