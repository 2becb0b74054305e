"""Alembic environment: runs against the engine handed in by ``precinct.core.db.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from precinct.core.db import Base
from precinct.domains import import_models

import_models()
target_metadata = Base.metadata
config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # several workers start at once: the first migrates, the others wait here, then
                # find the schema current (SQLite's BEGIN IMMEDIATE serialises them the same way)
                from precinct.core.jobs import MIGRATION_LOCK

                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            context.run_migrations()
        if connection.in_transaction():
            connection.commit()


run_migrations_online()
