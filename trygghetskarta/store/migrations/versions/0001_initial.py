"""The first schema: areas, walks, findings, photos, sightings, night walks, incidents, actions, users, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trygghetskarta.store.migrations.helpers import geo_columns, geo_indexes
from trygghetskarta.store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("locality", sa.String(40), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("population", sa.Integer),
        sa.Column("external_id", sa.String(200), unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        *geo_columns("MULTIPOLYGON", nullable=False),
    )
    op.create_table(
        "walks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False, index=True),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="SET NULL")),
        sa.Column("light", sa.String(20)),
        sa.Column("organisations", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(100)),
        sa.Column("external_id", sa.String(200), unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        *geo_columns("GEOMETRY", nullable=True),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category", sa.String(40), nullable=False, index=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("severity", sa.Integer, nullable=False),
        sa.Column("positive", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("responsible", sa.String(40)),
        sa.Column("due_date", sa.Date),
        sa.Column("duplicate_of", sa.Integer, sa.ForeignKey("findings.id", ondelete="SET NULL")),
        sa.Column("reported_at", UTCDateTime, nullable=False, index=True),
        sa.Column("reported_by", sa.String(100)),
        sa.Column("walk_id", sa.Integer, sa.ForeignKey("walks.id", ondelete="SET NULL"), index=True),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="SET NULL")),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("external_id", sa.String(200), unique=True),
        sa.Column("original_category", sa.String(200)),
        sa.Column("light", sa.String(20)),
        sa.Column("accuracy_m", sa.Float),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        *geo_columns("GEOMETRY", nullable=False),
    )
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("thumb_path", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("taken_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("finding_id", "sha256", name="uq_photo_per_finding"),
    )
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("group_size", sa.String(20)),
        sa.Column("age_band", sa.String(20)),
        sa.Column("observed_at", UTCDateTime, nullable=False, index=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("reported_by", sa.String(100)),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="SET NULL")),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(200), unique=True),
        sa.Column("original_type", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        *geo_columns("POINT", nullable=False),
    )
    op.create_table(
        "nightwalks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("walk_date", sa.Date, nullable=False, index=True),
        sa.Column("walkers", sa.Integer, nullable=False),
        sa.Column("contacts_young", sa.Integer, nullable=False),
        sa.Column("observations", sa.Text, nullable=False),
        sa.Column("reported_by", sa.String(100)),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="SET NULL")),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(200), unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        *geo_columns("GEOMETRY", nullable=True),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("type", sa.String(40), nullable=False, index=True),
        sa.Column("occurred_at", UTCDateTime, nullable=False, index=True),
        sa.Column("precision", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("original_type", sa.String(200)),
        sa.Column("owner_org", sa.String(40)),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="SET NULL")),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(200)),
        sa.Column("reported_by", sa.String(100)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("source", "external_id", name="uq_incident_source_external_id"),
        *geo_columns("POINT", nullable=False),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("responsible", sa.String(40), nullable=False, index=True),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("planned_date", sa.Date),
        sa.Column("done_date", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False),
        sa.Column("walk_id", sa.Integer, sa.ForeignKey("walks.id", ondelete="SET NULL")),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="SET NULL")),
        sa.Column("verified_walk_id", sa.Integer, sa.ForeignKey("walks.id", ondelete="SET NULL")),
        sa.Column("created_by", sa.String(100)),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(200), unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        *geo_columns("GEOMETRY", nullable=True),
    )
    op.create_table(
        "action_findings",
        sa.Column("action_id", sa.Integer, sa.ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True,
                  index=True),
    )
    op.create_table(
        "status_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("by", sa.String(100)),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
    )
    op.create_index("ix_status_events_record", "status_events", ["kind", "record_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("organisation", sa.String(40)),
        sa.Column("password_hash", sa.String(300)),
        sa.Column("sso_subject", sa.String(300), unique=True),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("last_login", UTCDateTime),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
        sa.Column("username", sa.String(100)),
        sa.Column("role", sa.String(20)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20)),
        sa.Column("record_id", sa.Integer),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    for table in ("areas", "walks", "findings", "sightings", "nightwalks", "incidents", "actions"):
        geo_indexes(table)
