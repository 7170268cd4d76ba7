"""Alembic environment: runs migrations on the URL set by ctworkflow.persistence.db."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from ctworkflow.persistence.tables import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None, "ctworkflow.persistence.db.alembic_config sets sqlalchemy.url"

connectable = sa.create_engine(url, poolclass=sa.pool.NullPool)
with connectable.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()
