"""Alembic environment: runs migrations on the engine mailflow hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, text

from mailflow.models import Base

MIGRATION_LOCK_KEY = 7_220_001  # arbitrary, constant: the PostgreSQL advisory lock id


def run_migrations_online() -> None:
    engine: Engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            context.run_migrations()


run_migrations_online()
