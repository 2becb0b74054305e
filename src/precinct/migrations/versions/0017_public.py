"""public: CAP alerts, bulletins, station areas, callbacks, history

Revision ID: 0017_public
Revises: 0001_foundation
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from precinct.core.db import UTCDateTime

revision = "0017_public"
down_revision = "0001_foundation"
branch_labels = ("public",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_alerts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("msg_type", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cap_status", sa.String(10), nullable=False),
        sa.Column("references_id", sa.String(40)),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("certainty", sa.String(16), nullable=False),
        sa.Column("texts", sa.Text(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("onset", UTCDateTime()),
        sa.Column("expires", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("approved_at", UTCDateTime()),
        sa.Column("cap_xml", sa.Text()),
    )
    op.create_index("ix_public_alerts_state", "public_alerts", ["state"])
    op.create_index("ix_public_alerts_references_id", "public_alerts", ["references_id"])
    op.create_table(
        "public_bulletins",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("corrects", sa.String(40)),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("removed", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("published_at", UTCDateTime()),
        sa.Column("withdrawn_at", UTCDateTime()),
        sa.Column("withdrawn_reason", sa.Text()),
    )
    op.create_index("ix_public_bulletins_state", "public_bulletins", ["state"])
    op.create_index("ix_public_bulletins_corrects", "public_bulletins", ["corrects"])
    op.create_table(
        "public_station_areas",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name_zh", sa.String(128), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False),
        sa.Column("polygon", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "public_callbacks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(40), nullable=False),
        sa.Column("incident_type", sa.String(40), nullable=False),
        sa.Column("priority", sa.String(10)),
        sa.Column("station", sa.String(128)),
        sa.Column("closed_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer()),
        sa.Column("comment", sa.Text()),
        sa.Column("complaint", sa.Boolean(), nullable=False),
        sa.Column("complaint_due", UTCDateTime()),
        sa.Column("done_by", sa.String(64)),
        sa.Column("done_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_public_callbacks_incident", "public_callbacks", ["incident_id"], unique=True)
    op.create_index("ix_public_callbacks_closed_at", "public_callbacks", ["closed_at"])
    op.create_index("ix_public_callbacks_state", "public_callbacks", ["state"])
    op.create_table(
        "public_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("object_kind", sa.String(16), nullable=False),
        sa.Column("object_id", sa.String(40), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_public_history_object", "public_history", ["object_kind", "object_id"])


def downgrade() -> None:
    op.drop_index("ix_public_history_object", table_name="public_history")
    op.drop_table("public_history")
    for name in ("ix_public_callbacks_state", "ix_public_callbacks_closed_at", "ix_public_callbacks_incident"):
        op.drop_index(name, table_name="public_callbacks")
    op.drop_table("public_callbacks")
    op.drop_table("public_station_areas")
    op.drop_index("ix_public_bulletins_corrects", table_name="public_bulletins")
    op.drop_index("ix_public_bulletins_state", table_name="public_bulletins")
    op.drop_table("public_bulletins")
    op.drop_index("ix_public_alerts_references_id", table_name="public_alerts")
    op.drop_index("ix_public_alerts_state", table_name="public_alerts")
    op.drop_table("public_alerts")
