"""Routing, partner EST reports, sighting aggregates (gallring), admin settings, walk participants,
finding supporters ("add to the existing one"), and an append-only audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trygghetskarta.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("supporters", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "walk_participants",
        sa.Column("walk_id", sa.Integer, sa.ForeignKey("walks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("username", sa.String(100), primary_key=True),
    )
    op.create_table(
        "routing",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category", sa.String(40)),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="CASCADE")),
        sa.Column("party", sa.String(40), nullable=False),
        sa.UniqueConstraint("category", "area_id", name="uq_routing_category_area"),
    )
    op.create_table(
        "partner_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="SET NULL")),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("reported_by", sa.String(100)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("organisation", "area_id", "period_start", "period_end", "type",
                            name="uq_partner_report"),
    )
    op.create_table(
        "sighting_aggregates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="SET NULL")),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.UniqueConstraint("area_id", "month", "type", name="uq_sighting_aggregate"),
    )
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(100)),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    # The audit log is append-only: no UPDATE ever; DELETE only by retention (gallra), which
    # marks its session first (PostgreSQL: a transaction-local setting; SQLite: a meta row).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_append_only() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'UPDATE' OR coalesce(current_setting('trygghetskarta.gallra', true), '') <> 'on' THEN
                RAISE EXCEPTION 'audit_events is append-only';
              END IF;
              RETURN OLD;
            END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
                      FOR EACH ROW EXECUTE FUNCTION audit_append_only()""")
    else:
        op.execute("""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
                      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""")
        op.execute("""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
                      WHEN (SELECT value FROM meta WHERE key = 'gallra') IS NOT 'on'
                      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""")
