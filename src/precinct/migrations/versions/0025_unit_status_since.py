"""command: when each unit's status last changed (issue 21: time in status on the board)

``units.status_since`` is set whenever a unit's status changes; existing units take their
``updated_at`` (the best known time of their last change).

Revision ID: 0025_unit_status_since
Revises: 0024_case_attachments
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from precinct.core.db import UTCDateTime

revision = "0025_unit_status_since"
down_revision = "0024_case_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("status_since", UTCDateTime()))
    op.execute("UPDATE units SET status_since = updated_at WHERE status_since IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.drop_column("status_since")
