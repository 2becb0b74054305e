"""core: single-use live-board stream tickets

Revision ID: 0020_stream_tickets
Revises: 0001_foundation
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from precinct.core.db import UTCDateTime

revision = "0020_stream_tickets"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_tickets",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("user_sessions.id", ondelete="CASCADE",
                  name="fk_stream_tickets_session_id_user_sessions"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime()),
    )
    op.create_index("ix_stream_tickets_expires_at", "stream_tickets", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_stream_tickets_expires_at", "stream_tickets")
    op.drop_table("stream_tickets")
