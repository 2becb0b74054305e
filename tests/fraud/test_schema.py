"""The fraud migration creates exactly the fraud models' tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from precinct.core.db import Base, Database
from precinct.domains import import_models


def test_fraud_migration_matches_models(any_db: Database) -> None:
    import_models()
    with any_db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    ours = [d for d in diff if "fraud_" in repr(d)]
    assert ours == [], f"fraud models and migration 0012_fraud disagree: {ours}"
