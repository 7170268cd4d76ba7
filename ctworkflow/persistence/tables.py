"""Tables, as SQLAlchemy 2 typed declarative rows. ORM rows never leave this package."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ctworkflow.domain.states import ExecutionMode, ResultStatus, SessionStatus, SessionType

NAME_MAX = 255


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _enum(enum: type[Any], name: str) -> sa.Enum:
    # Labels equal the StrEnum values, so the database enum and the Python enum never drift.
    return sa.Enum(enum, name=name, values_callable=lambda e: [m.value for m in e])


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProjectRow(Base):
    __tablename__ = "projects"
    __table_args__ = (sa.UniqueConstraint("account_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    code_repo: Mapped[str] = mapped_column(sa.Text)
    layout: Mapped[str] = mapped_column(sa.String(32))
    default_branch: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    settings: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    #: The commit component discovery last read (renames are detected against it).
    discovered_commit: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ComponentRow(Base):
    __tablename__ = "components"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "module_name"),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        sa.Index(None, "project_id", "parent_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    project_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("components.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    module_name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    type: Mapped[str] = mapped_column(sa.String(64))
    priority: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: Set when discovery no longer finds the module; the row stays for the sessions that used it.
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        # One child per (parent, component): duplicates and races cannot create a second.
        sa.UniqueConstraint("parent_id", "component_id"),
        sa.UniqueConstraint("project_id", "idempotency_key"),
        # One active context testing session per (project, context).
        sa.Index(
            "uq_sessions_one_active_context",
            "project_id",
            "component_id",
            unique=True,
            postgresql_where=sa.text("status = 'active' AND parent_id IS NULL"),
            sqlite_where=sa.text("status = 'active' AND parent_id IS NULL"),
        ),
        sa.Index(None, "account_id", "project_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    type: Mapped[SessionType] = mapped_column(_enum(SessionType, "session_type"))
    status: Mapped[SessionStatus] = mapped_column(
        _enum(SessionStatus, "session_status"), default=SessionStatus.ACTIVE
    )
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    project_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    component_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("components.id"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    execution_mode: Mapped[ExecutionMode] = mapped_column(_enum(ExecutionMode, "execution_mode"))
    environment_type: Mapped[str] = mapped_column(sa.String(32))
    agent: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    attempt: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(NAME_MAX))
    branch_name: Mapped[str | None] = mapped_column(sa.String(NAME_MAX))
    base_commit: Mapped[str | None] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Who runs a component session's current round, and until when unless renewed.
    lease_owner: Mapped[str | None] = mapped_column(sa.String(NAME_MAX))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Runs of this session lost together with their worker (killed, out of memory).
    worker_losses: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The test runner a context session asked for, overriding its project's.
    runner: Mapped[str | None] = mapped_column(sa.String(64))
    #: The commit a context session's finalize pushed.
    pushed_commit: Mapped[str | None] = mapped_column(sa.String(64))


class InteractionRow(Base):
    __tablename__ = "interactions"
    # One interaction per (session, step, attempt): a redelivered step finds its own row.
    __table_args__ = (sa.UniqueConstraint("session_id", "step", "attempt"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(sa.String(64))
    attempt: Mapped[int]
    command: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    result_status: Mapped[ResultStatus | None] = mapped_column(_enum(ResultStatus, "result_status"))
    result_data: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    exit_code: Mapped[int | None]
    stdout_tail: Mapped[str | None] = mapped_column(sa.Text)
    stderr_tail: Mapped[str | None] = mapped_column(sa.Text)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    duration_ms: Mapped[int | None] = mapped_column(sa.BigInteger)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ArtifactRow(Base):
    __tablename__ = "artifacts"
    __table_args__ = (sa.UniqueConstraint("session_id", "attempt"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"))
    attempt: Mapped[int]
    test_path: Mapped[str] = mapped_column(sa.String(1024))
    content: Mapped[str] = mapped_column(sa.Text)
    digest: Mapped[str] = mapped_column(sa.String(64))
    report: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiTokenRow(Base):
    """An account's API token: only the SHA-256 of its secret is kept, never the secret."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    #: When set, the token sees only this project of its account.
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The secret's first characters, to tell tokens apart in listings.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookRow(Base):
    """Where a project's session events are sent; its signing secret is derived, not stored."""

    __tablename__ = "webhooks"
    __table_args__ = (sa.Index(None, "account_id", "project_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    project_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(sa.String(2048))
    #: Also send each component testing session's end, not only the context session's.
    component_events: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebhookDeliveryRow(Base):
    """The outbox: one event for one webhook, written in the transaction that ended the
    session, and the record of its sending (status, attempts, last error)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index(None, "status", "next_attempt_at"),
        sa.Index(None, "webhook_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    project_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    # No foreign key: deleting a webhook must never make a session's end fail; its pending
    # deliveries fail when they find it gone.
    webhook_id: Mapped[uuid.UUID]
    session_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: Held by the send in progress until then; a send that died is taken over after it.
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The JSON body, fixed at the first send so every retry sends the same bytes.
    body: Mapped[str | None] = mapped_column(sa.Text)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
