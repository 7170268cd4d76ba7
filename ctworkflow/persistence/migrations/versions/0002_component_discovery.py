"""component discovery: soft-removed components, the commit discovery last read

Revision ID: 0002_discovery
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_discovery"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch_alter_table: SQLite cannot alter tables in place; on PostgreSQL it is a plain ALTER.
    with op.batch_alter_table("components") as batch:
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("discovered_commit", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("discovered_commit")
    with op.batch_alter_table("components") as batch:
        batch.drop_column("removed_at")
