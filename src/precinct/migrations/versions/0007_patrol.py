"""patrol: risk-grid rating history

Revision ID: 0007_patrol
Revises: 0001_foundation
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from precinct.core.db import UTCDateTime

revision = "0007_patrol"
down_revision = "0001_foundation"
branch_labels = ("patrol",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrol_risk_ratings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("cell", sa.String(32), nullable=False),
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("previous", sa.String(8)),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Float(), nullable=False),
        sa.Column("rated_at", UTCDateTime(), nullable=False),
        sa.Column("rated_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_patrol_risk_ratings_cell_rated_at", "patrol_risk_ratings", ["cell", "rated_at"])


def downgrade() -> None:
    op.drop_index("ix_patrol_risk_ratings_cell_rated_at", table_name="patrol_risk_ratings")
    op.drop_table("patrol_risk_ratings")
