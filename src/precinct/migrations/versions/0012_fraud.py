"""fraud: reports, identifiers, clusters, stop-payment and freeze requests, contacts, warnings

Revision ID: 0012_fraud
Revises: 0001_foundation
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from precinct.core.db import UTCDateTime

revision = "0012_fraud"
down_revision = "0001_foundation"
branch_labels = ("fraud",)
depends_on = None



TABLES = ("fraud_warnings", "fraud_contacts", "fraud_request_events", "fraud_requests",
          "fraud_report_identifiers", "fraud_identifiers", "fraud_reports", "fraud_clusters")


def upgrade() -> None:
    op.create_table(
        "fraud_clusters",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("first_report_id", sa.String(64), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("identifier_count", sa.Integer(), nullable=False),
        sa.Column("loss_cents", sa.BigInteger(), nullable=False),
        sa.Column("first_ts", UTCDateTime()),
        sa.Column("last_ts", UTCDateTime()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("first_report_id", name="uq_fraud_clusters_first_report_id"),
    )
    op.create_index("ix_fraud_clusters_case_id", "fraud_clusters", ["case_id"])
    op.create_table(
        "fraud_reports",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("fraud_type", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(16)),
        sa.Column("loss_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("victim_name", sa.String(128)),
        sa.Column("victim_phone", sa.String(32)),
        sa.Column("description", sa.Text()),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_fraud_reports_case_id", "fraud_reports", ["case_id"])
    op.create_index("ix_fraud_reports_cluster_id", "fraud_reports", ["cluster_id"])
    op.create_index("ix_fraud_reports_ts", "fraud_reports", ["ts"])
    op.create_table(
        "fraud_identifiers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("bank", sa.String(64)),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.UniqueConstraint("kind", "value", name="uq_fraud_identifiers_kind_value"),
    )
    op.create_index("ix_fraud_identifiers_cluster_id", "fraud_identifiers", ["cluster_id"])
    op.create_table(
        "fraud_report_identifiers",
        sa.Column("report_id", sa.String(64),
                  sa.ForeignKey("fraud_reports.id"), primary_key=True),
        sa.Column("identifier_id", sa.Integer(),
                  sa.ForeignKey("fraud_identifiers.id"), primary_key=True),
        sa.Column("raw", sa.String(256), nullable=False),
    )
    op.create_index("ix_fraud_report_identifiers_identifier_id", "fraud_report_identifiers", ["identifier_id"])
    op.create_table(
        "fraud_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("cluster_id", sa.Integer()),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("bank", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_requested_cents", sa.BigInteger(), nullable=False),
        sa.Column("amount_held_cents", sa.BigInteger(), nullable=False),
        sa.Column("amount_returned_cents", sa.BigInteger(), nullable=False),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("due_at", UTCDateTime()),
        sa.Column("confirmed_at", UTCDateTime()),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("closed_at", UTCDateTime()),
    )
    op.create_index("ix_fraud_requests_account", "fraud_requests", ["account"])
    op.create_index("ix_fraud_requests_case_id", "fraud_requests", ["case_id"])
    op.create_index("ix_fraud_requests_cluster_id", "fraud_requests", ["cluster_id"])
    op.create_index("ix_fraud_requests_due_at", "fraud_requests", ["due_at"])
    op.create_index("ix_fraud_requests_expires_at", "fraud_requests", ["expires_at"])
    op.create_index("ix_fraud_requests_state", "fraud_requests", ["state"])
    op.create_table(
        "fraud_request_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(40),
                  sa.ForeignKey("fraud_requests.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("note", sa.Text()),
    )
    op.create_index("ix_fraud_request_events_request_id", "fraud_request_events", ["request_id"])
    op.create_table(
        "fraud_contacts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("person_name", sa.String(128)),
        sa.Column("person_phone", sa.String(32), nullable=False),
        sa.Column("link", sa.String(16), nullable=False),
        sa.Column("identifier_id", sa.Integer(),
                  sa.ForeignKey("fraud_identifiers.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_fraud_contacts_identifier_id", "fraud_contacts", ["identifier_id"])
    op.create_index("ix_fraud_contacts_person_phone", "fraud_contacts", ["person_phone"])
    op.create_table(
        "fraud_warnings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Integer(),
                  sa.ForeignKey("fraud_contacts.id"), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("template", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(24)),
        sa.Column("note", sa.Text()),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_by", sa.String(64)),
        sa.Column("done_at", UTCDateTime()),
    )
    op.create_index("ix_fraud_warnings_case_id", "fraud_warnings", ["case_id"])
    op.create_index("ix_fraud_warnings_cluster_id", "fraud_warnings", ["cluster_id"])
    op.create_index("ix_fraud_warnings_contact_id", "fraud_warnings", ["contact_id"])
    op.create_index("ix_fraud_warnings_state", "fraud_warnings", ["state"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
