"""command: scene attachments on a case as well as on an incident (issue 19)

An attachment names either an incident or a case (``case_id``, no foreign key: cases sit above
command in the layers); ``incident_id`` becomes nullable.

Revision ID: 0024_case_attachments
Revises: 0021_attachments
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_case_attachments"
down_revision = "0021_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("case_id", sa.String(40)))
        batch.alter_column("incident_id", existing_type=sa.String(40), nullable=True)
        batch.create_index("ix_attachments_case_id", ["case_id"])


def downgrade() -> None:
    op.execute("DELETE FROM attachments WHERE incident_id IS NULL")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index("ix_attachments_case_id")
        batch.alter_column("incident_id", existing_type=sa.String(40), nullable=False)
        batch.drop_column("case_id")
