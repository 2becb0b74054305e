"""cases: the case registry (members, teams, scenes, links, notes, tasks, deadlines)

Brings existing data over: every case id that plate-read pins (``anpr_case_reads``) name becomes
an open case of type ``other`` (origin ``migrated``), led by whoever pinned first, with everyone
who pinned as members, so the pins keep their case and their users keep their access. Audit
records are left exactly as they are (the chain is not rewritten).

Revision ID: 0010_cases
Revises: 0001_foundation
Create Date: 2026-12-04
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from precinct.core.db import UTCDateTime

revision = "0010_cases"
down_revision = "0001_foundation"
branch_labels = ("cases",)
depends_on = None


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("cases.id", name=f"fk_{table}_case_id_cases", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("ref", sa.String(128)),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("stage_since", UTCDateTime(), nullable=False),
        sa.Column("lead", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("closed_by", sa.String(64)),
        sa.Column("close_reason", sa.Text()),
        sa.Column("disposition", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
    )
    for col in ("ref", "type", "status", "lead", "created_at"):
        op.create_index(f"ix_cases_{col}", "cases", [col])
    op.create_table(
        "case_members",
        sa.Column("case_id", sa.String(128), _fk("case_members"), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "username", name="pk_case_members"),
    )
    op.create_index("ix_case_members_username", "case_members", ["username"])
    op.create_table(
        "case_teams",
        sa.Column("case_id", sa.String(128), _fk("case_teams"), nullable=False),
        sa.Column("team", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "team", name="pk_case_teams"),
    )
    op.create_index("ix_case_teams_team", "case_teams", ["team"])
    op.create_table(
        "case_scenes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(128), _fk("case_scenes"), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("radius_km", sa.Float(), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_scenes"),
    )
    op.create_index("ix_case_scenes_case_id", "case_scenes", ["case_id"])
    op.create_table(
        "case_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(128), _fk("case_links"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref_id", sa.String(64), nullable=False),
        sa.Column("linked_by", sa.String(64), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_links"),
    )
    op.create_index("ix_case_links_case_kind_ref", "case_links", ["case_id", "kind", "ref_id"], unique=True)
    op.create_index("ix_case_links_kind_ref", "case_links", ["kind", "ref_id"])
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(128), _fk("case_notes"), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_notes"),
    )
    op.create_index("ix_case_notes_case_id", "case_notes", ["case_id"])
    op.create_table(
        "case_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(128), _fk("case_tasks"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("team", sa.String(32)),
        sa.Column("assignee", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deadline", UTCDateTime()),
        sa.Column("result", sa.Text()),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_tasks"),
    )
    for col in ("case_id", "team", "assignee", "status"):
        op.create_index(f"ix_case_tasks_{col}", "case_tasks", [col])
    op.create_table(
        "case_deadlines",
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("days", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("type", "stage", name="pk_case_deadlines"),
    )
    _bring_over_pinned_cases()


def _bring_over_pinned_cases() -> None:
    """Open a case for every case id existing plate-read pins name (see the module docstring)."""
    bind = op.get_bind()
    if "anpr_case_reads" not in sa.inspect(bind).get_table_names():
        return
    rows = bind.execute(sa.text(
        "SELECT case_id, created_by, MIN(created_at) AS first FROM anpr_case_reads "
        "GROUP BY case_id, created_by ORDER BY case_id, first")).all()
    if not rows:
        return
    now = dt.datetime.now(dt.UTC)
    cases = sa.table("cases", *(sa.column(c) for c in (
        "id", "ref", "title", "type", "status", "stage", "lead", "summary", "origin", "created_by")),
        sa.column("stage_since", UTCDateTime()), sa.column("created_at", UTCDateTime()))
    members = sa.table("case_members", sa.column("case_id"), sa.column("username"), sa.column("added_by"),
                       sa.column("added_at", UTCDateTime()))
    by_case: dict[str, list[str]] = {}
    for case_id, who, _first in rows:
        by_case.setdefault(case_id, []).append(who)
    op.bulk_insert(cases, [
        {"id": cid, "ref": None, "title": f"Brought over from pinned reads: {cid}"[:200], "type": "other",
         "status": "open", "stage": "registered", "stage_since": now, "lead": who[0],
         "summary": "opened by migration 0010_cases for plate reads pinned to a free-text case id",
         "origin": "migrated", "created_by": "migration", "created_at": now}
        for cid, who in by_case.items()])
    op.bulk_insert(members, [{"case_id": cid, "username": u, "added_by": "migration", "added_at": now}
                             for cid, who in by_case.items() for u in dict.fromkeys(who)])


def downgrade() -> None:
    for table in ("case_deadlines", "case_tasks", "case_notes", "case_links", "case_scenes", "case_teams",
                  "case_members", "cases"):
        op.drop_table(table)
