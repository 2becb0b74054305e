"""command and dispatch: incidents, calls, history, idempotency keys, units, assignments, orders

Revision ID: 0005_command
Revises: 0001_foundation
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from precinct.core.db import UTCDateTime

revision = "0005_command"
down_revision = "0001_foundation"
branch_labels = ("command",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lat", sa.Float()),
        sa.Column("lon", sa.Float()),
        sa.Column("address", sa.String(256)),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(256)),
        sa.Column("merged_into", sa.String(40)),
        sa.Column("disposition", sa.String(64)),
        sa.Column("disposition_text", sa.Text()),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("dispatched_at", UTCDateTime()),
        sa.Column("en_route_at", UTCDateTime()),
        sa.Column("on_scene_at", UTCDateTime()),
        sa.Column("cleared_at", UTCDateTime()),
        sa.Column("closed_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("external_id", name="uq_incidents_external_id"),
    )
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"])
    op.create_table(
        "calls",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "incident_id",
            sa.String(40),
            sa.ForeignKey("incidents.id", name="fk_calls_incident_id_incidents"),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(128)),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("caller_phone", sa.String(32)),
        sa.Column("caller_name", sa.String(128)),
        sa.Column("lat", sa.Float()),
        sa.Column("lon", sa.Float()),
        sa.Column("address", sa.String(256)),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calls"),
        sa.UniqueConstraint("external_id", name="uq_calls_external_id"),
    )
    op.create_index("ix_calls_incident_id", "calls", ["incident_id"])
    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "incident_id",
            sa.String(40),
            sa.ForeignKey("incidents.id", name="fk_incident_events_incident_id_incidents"),
            nullable=False,
        ),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16)),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incident_events"),
    )
    op.create_index("ix_incident_events_incident_ts", "incident_events", ["incident_id", "id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.create_table(
        "units",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("callsign", sa.String(64), nullable=False),
        sa.Column("unit_type", sa.String(16), nullable=False),
        sa.Column("station", sa.String(128)),
        sa.Column("group_name", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("incident_id", sa.String(40)),
        sa.Column("lat", sa.Float()),
        sa.Column("lon", sa.Float()),
        sa.Column("position_at", UTCDateTime()),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_units"),
    )
    op.create_index("ix_units_station", "units", ["station"])
    op.create_index("ix_units_status", "units", ["status"])
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "incident_id",
            sa.String(40),
            sa.ForeignKey("incidents.id", name="fk_assignments_incident_id_incidents"),
            nullable=False,
        ),
        sa.Column(
            "unit_id",
            sa.String(64),
            sa.ForeignKey("units.id", name="fk_assignments_unit_id_units"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("eta_s", sa.Float()),
        sa.Column("dispatched_by", sa.String(64), nullable=False),
        sa.Column("dispatched_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime()),
        sa.Column("arrived_at", UTCDateTime()),
        sa.Column("cleared_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_assignments"),
    )
    op.create_index("ix_assignments_incident_unit", "assignments", ["incident_id", "unit_id"])
    op.create_index("ix_assignments_unit_id", "assignments", ["unit_id"])
    op.create_table(
        "orders",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("incident_id", sa.String(40)),
        sa.Column("recipients_spec", sa.Text(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("escalated_at", UTCDateTime()),
        sa.Column("closed_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    op.create_index("ix_orders_state", "orders", ["state"])
    op.create_index("ix_orders_deadline", "orders", ["deadline"])
    op.create_table(
        "order_recipients",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "order_id",
            sa.String(40),
            sa.ForeignKey("orders.id", name="fk_order_recipients_order_id_orders"),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("via", sa.String(128)),
        sa.Column("acknowledged_at", UTCDateTime()),
        sa.Column("acknowledged_by", sa.String(64)),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_order_recipients"),
    )
    op.create_index(
        "ix_order_recipients_order_recipient",
        "order_recipients",
        ["order_id", "recipient"],
        unique=True,
    )
    op.create_index("ix_order_recipients_recipient", "order_recipients", ["recipient"])
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "order_id",
            sa.String(40),
            sa.ForeignKey("orders.id", name="fk_order_events_order_id_orders"),
            nullable=False,
        ),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16)),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_events"),
    )
    op.create_index("ix_order_events_order_id", "order_events", ["order_id"])


def downgrade() -> None:
    for table in (
        "order_events",
        "order_recipients",
        "orders",
        "assignments",
        "units",
        "idempotency_keys",
        "incident_events",
        "calls",
        "incidents",
    ):
        op.drop_table(table)
