"""the database refuses a session status change the status table forbids

The same table as ``ctworkflow.domain.states.TRANSITIONS`` (a test holds the two together):
a trigger on each dialect raises before such an UPDATE is written.

Revision ID: 0004_status_guard
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004_status_guard"
down_revision = "0003"
branch_labels = None
depends_on = None

#: (from, to) status pairs a session may take, frozen as of this revision.
ALLOWED = (
    ("active", "complete"),
    ("active", "failed"),
    ("active", "cancelled"),
    ("failed", "active"),
    ("cancelled", "active"),
    ("complete", "failed"),
)
_PAIRS = ", ".join(f"('{a}', '{b}')" for a, b in ALLOWED)


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION ctw_session_status_guard() RETURNS trigger AS $$
            BEGIN
                IF (OLD.status::text, NEW.status::text) NOT IN ({_PAIRS}) THEN
                    RAISE EXCEPTION 'session % cannot go from % to %',
                        OLD.id, OLD.status, NEW.status
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            """
            CREATE TRIGGER sessions_status_guard
            BEFORE UPDATE OF status ON sessions
            FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
            EXECUTE FUNCTION ctw_session_status_guard()
            """
        )
        return
    op.execute(
        f"""
        CREATE TRIGGER sessions_status_guard
        BEFORE UPDATE OF status ON sessions
        FOR EACH ROW WHEN OLD.status <> NEW.status AND (OLD.status, NEW.status) NOT IN
            (VALUES {_PAIRS})
        BEGIN
            SELECT RAISE(ABORT, 'session status change refused by the status table');
        END
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER sessions_status_guard ON sessions"
        if _postgres()
        else "DROP TRIGGER sessions_status_guard"
    )
    if _postgres():
        op.execute("DROP FUNCTION ctw_session_status_guard()")


def _postgres() -> bool:
    return op.get_context().dialect.name == "postgresql"
