"""fraud: an index on (fraud_type, ts) for the wave check after every report (issue 18)

Revision ID: 0023_fraud2
Revises: 0012_fraud
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0023_fraud2"
down_revision = "0012_fraud"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_fraud_reports_type_ts", "fraud_reports", ["fraud_type", "ts"])


def downgrade() -> None:
    op.drop_index("ix_fraud_reports_type_ts", table_name="fraud_reports")
