"""anpr: cameras, hotlists, alerts, case-pinned reads

Revision ID: 0006_anpr
Revises: 0001_foundation
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from precinct.core.db import UTCDateTime

revision = "0006_anpr"
down_revision = "0001_foundation"
branch_labels = ("anpr",)
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "anpr_cameras",
        sa.Column("camera_id", sa.String(128), primary_key=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("name", sa.String(128)),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "anpr_hotlist",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_anpr_hotlist_plate_active", "anpr_hotlist", ["plate", "active"])
    op.create_table(
        "anpr_alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rid", BIGINT, nullable=False),
        sa.Column("hotlist_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("camera_id", sa.String(128)),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_by", sa.String(64)),
        sa.Column("acknowledged_at", UTCDateTime()),
    )
    op.create_index("ix_anpr_alerts_rid", "anpr_alerts", ["rid"])
    op.create_index("ix_anpr_alerts_hotlist_id", "anpr_alerts", ["hotlist_id"])
    op.create_index("ix_anpr_alerts_plate", "anpr_alerts", ["plate"])
    op.create_index("ix_anpr_alerts_created_at", "anpr_alerts", ["created_at"])
    op.create_table(
        "anpr_case_reads",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(128), nullable=False),
        sa.Column("rid", BIGINT, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_anpr_case_reads_case_rid", "anpr_case_reads", ["case_id", "rid"], unique=True
    )
    op.create_index("ix_anpr_case_reads_rid", "anpr_case_reads", ["rid"])


def downgrade() -> None:
    op.drop_table("anpr_case_reads")
    op.drop_table("anpr_alerts")
    op.drop_index("ix_anpr_hotlist_plate_active", "anpr_hotlist")
    op.drop_table("anpr_hotlist")
    op.drop_table("anpr_cameras")
