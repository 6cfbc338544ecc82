"""The tables at the head migration, for queries. Schema *changes* live in ``migrations/versions``.

Every geographic table has ``geom`` (EPSG:4326) plus ``lon``/``lat`` of a representative point, which
lets both backends filter and bin quickly without decoding geometry.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from trygghetskarta.store.types import Geometry, UTCDateTime

metadata = MetaData()


def _geo_columns(geometry_type: str, nullable: bool) -> list[Column]:
    return [
        Column("lon", Float, nullable=nullable),
        Column("lat", Float, nullable=nullable),
        Column("geom", Geometry(geometry_type), nullable=nullable),
    ]


areas = Table(
    "areas", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("locality", String(40), nullable=False),
    Column("source", String(40), nullable=False),
    Column("population", Integer),
    Column("external_id", String(200), unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    *_geo_columns("MULTIPOLYGON", nullable=False),
)

walks = Table(
    "walks", metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("started_at", UTCDateTime, nullable=False, index=True),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="SET NULL")),
    Column("light", String(20)),
    Column("organisations", Text, nullable=False, default=""),
    Column("notes", Text, nullable=False, default=""),
    Column("audience", String(20), nullable=False),
    Column("created_by", String(100)),
    Column("external_id", String(200), unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    *_geo_columns("GEOMETRY", nullable=True),
)

walk_participants = Table(
    "walk_participants", metadata,
    Column("walk_id", Integer, ForeignKey("walks.id", ondelete="CASCADE"), primary_key=True),
    Column("username", String(100), primary_key=True),
)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True),
    Column("category", String(40), nullable=False, index=True),
    Column("description", Text, nullable=False, default=""),
    Column("severity", Integer, nullable=False),
    Column("positive", Boolean, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("responsible", String(40)),
    Column("due_date", Date),
    Column("duplicate_of", Integer, ForeignKey("findings.id", ondelete="SET NULL")),
    Column("reported_at", UTCDateTime, nullable=False, index=True),
    Column("reported_by", String(100)),
    Column("walk_id", Integer, ForeignKey("walks.id", ondelete="SET NULL"), index=True),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="SET NULL")),
    Column("audience", String(20), nullable=False),
    Column("source", String(40), nullable=False),
    Column("external_id", String(200), unique=True),
    Column("original_category", String(200)),
    Column("light", String(20)),
    Column("accuracy_m", Float),
    Column("supporters", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    *_geo_columns("GEOMETRY", nullable=False),
)

photos = Table(
    "photos", metadata,
    Column("id", Integer, primary_key=True),
    Column("finding_id", Integer, ForeignKey("findings.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("path", String(500), nullable=False),
    Column("thumb_path", String(500), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("taken_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("finding_id", "sha256", name="uq_photo_per_finding"),
)

sightings = Table(
    "sightings", metadata,
    Column("id", Integer, primary_key=True),
    Column("type", String(40), nullable=False),
    Column("group_size", String(20)),
    Column("age_band", String(20)),
    Column("observed_at", UTCDateTime, nullable=False, index=True),
    Column("description", Text, nullable=False, default=""),
    Column("reported_by", String(100)),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="SET NULL")),
    Column("audience", String(20), nullable=False),
    Column("external_id", String(200), unique=True),
    Column("original_type", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    *_geo_columns("POINT", nullable=False),
)

nightwalks = Table(
    "nightwalks", metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation", String(200), nullable=False),
    Column("walk_date", Date, nullable=False, index=True),
    Column("walkers", Integer, nullable=False, default=0),
    Column("contacts_young", Integer, nullable=False, default=0),
    Column("observations", Text, nullable=False, default=""),
    Column("reported_by", String(100)),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="SET NULL")),
    Column("audience", String(20), nullable=False),
    Column("external_id", String(200), unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    *_geo_columns("GEOMETRY", nullable=True),
)

incidents = Table(
    "incidents", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(40), nullable=False),
    Column("type", String(40), nullable=False, index=True),
    Column("occurred_at", UTCDateTime, nullable=False, index=True),
    Column("precision", String(20), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("original_type", String(200)),
    Column("owner_org", String(40)),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="SET NULL")),
    Column("audience", String(20), nullable=False),
    Column("external_id", String(200)),
    Column("reported_by", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "external_id", name="uq_incident_source_external_id"),
    *_geo_columns("POINT", nullable=False),
)

actions = Table(
    "actions", metadata,
    Column("id", Integer, primary_key=True),
    Column("what", Text, nullable=False),
    Column("responsible", String(40), nullable=False, index=True),
    Column("priority", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("planned_date", Date),
    Column("deadline", Date),  # migration 0003: the date by which it must be done (senast)
    Column("done_date", Date),
    Column("status", String(20), nullable=False),
    Column("shared", Boolean, nullable=False, default=False),
    Column("walk_id", Integer, ForeignKey("walks.id", ondelete="SET NULL")),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="SET NULL")),
    Column("verified_walk_id", Integer, ForeignKey("walks.id", ondelete="SET NULL")),
    Column("created_by", String(100)),
    Column("audience", String(20), nullable=False),
    Column("external_id", String(200), unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    *_geo_columns("GEOMETRY", nullable=True),
)

action_findings = Table(
    "action_findings", metadata,
    Column("action_id", Integer, ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("finding_id", Integer, ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True, index=True),
)

status_events = Table(
    "status_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("by", String(100)),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("comment", Text, nullable=False, default=""),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("organisation", String(40)),
    Column("password_hash", String(300)),
    Column("sso_subject", String(300), unique=True),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime),
    Column("last_login", UTCDateTime),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

audit_events = Table(
    "audit_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("username", String(100)),
    Column("role", String(20)),
    Column("action", String(40), nullable=False),
    Column("kind", String(20)),
    Column("record_id", Integer),
    Column("detail", Text, nullable=False, default=""),
)

meta = Table(
    "meta", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# --- added by migration 0006 ---------------------------------------------------------------------

# One row (id 1): ``version`` is advanced inside every write transaction (``Store.write``); ``epoch`` is random
# per database, so a database made again at the same address never matches an old cache entry.
data_version = Table(
    "data_version", metadata,
    Column("id", Integer, primary_key=True),
    Column("epoch", String(32), nullable=False),
    Column("version", BigInteger, nullable=False),
)

# --- added by migration 0002 ---------------------------------------------------------------------

routing = Table(
    "routing", metadata,
    Column("id", Integer, primary_key=True),
    Column("category", String(40)),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="CASCADE")),
    Column("party", String(40), nullable=False),
    UniqueConstraint("category", "area_id", name="uq_routing_category_area"),
)

partner_reports = Table(
    "partner_reports", metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation", String(40), nullable=False),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="SET NULL")),
    Column("period_start", Date, nullable=False, index=True),  # index: migration 0003
    Column("period_end", Date, nullable=False),
    Column("type", String(40), nullable=False),
    Column("count", Integer, nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("reported_by", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    # added by migration 0003: the report a row belongs to, its EST category, an optional single-event time
    # and place, and the external id that makes a re-import add nothing
    Column("report_id", Integer, ForeignKey("est_reports.id", name="fk_partner_reports_report", ondelete="CASCADE"),
           index=True),
    Column("category", String(40)),
    Column("occurred_at", UTCDateTime),
    Column("place", String(300)),
    *_geo_columns("POINT", nullable=True),
    Column("external_id", String(200)),
    UniqueConstraint("external_id", name="uq_partner_report_external_id"),
)

sighting_aggregates = Table(
    "sighting_aggregates", metadata,
    Column("id", Integer, primary_key=True),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="SET NULL")),
    Column("month", Date, nullable=False),
    Column("type", String(40), nullable=False),
    Column("count", Integer, nullable=False),
    UniqueConstraint("area_id", "month", "type", name="uq_sighting_aggregate"),
)

app_settings = Table(
    "app_settings", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_by", String(100)),
    Column("updated_at", UTCDateTime, nullable=False),
)

# --- added by migration 0003 ---------------------------------------------------------------------

est_reports = Table(
    "est_reports", metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation", String(40), nullable=False, index=True),
    Column("week", String(8), nullable=False, index=True),
    Column("week_start", Date, nullable=False),
    Column("week_end", Date, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("source", String(20), nullable=False),
    Column("file_name", String(300)),
    Column("comment", Text, nullable=False, default=""),
    Column("submitted_by", String(100)),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("reviewed_by", String(100)),
    Column("reviewed_at", UTCDateTime),
    Column("reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

est_decisions = Table(
    "est_decisions", metadata,
    Column("id", Integer, primary_key=True),
    Column("week", String(8), nullable=False, index=True),
    Column("priority", Integer, nullable=False),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="SET NULL")),
    Column("place", String(300)),
    Column("decision", Text, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("due_date", Date),
    Column("status", String(20), nullable=False),
    Column("followup", Text, nullable=False, default=""),
    Column("followed_up_at", UTCDateTime),
    Column("followed_up_by", String(100)),
    Column("created_by", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    *_geo_columns("POINT", nullable=True),
)

TABLE_OF_KIND: dict[str, Table] = {
    "area": areas, "walk": walks, "finding": findings, "sighting": sightings, "nightwalk": nightwalks,
    "incident": incidents, "action": actions,
}
