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
    Index,
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


def _geo_indexes(table: str) -> list[Index]:
    """The indexes of migration 0001's ``geo_indexes``: lon/lat B-tree on both backends, and a GiST index on
    ``geom`` on PostGIS only (SQLite keeps geometry as a WKB BLOB, which no index helps)."""
    return [Index(f"ix_{table}_lonlat", "lon", "lat"),
            Index(f"ix_{table}_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql")]


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
    *_geo_indexes("areas"),
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
    *_geo_indexes("walks"),
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
    *_geo_indexes("findings"),
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
    *_geo_indexes("sightings"),
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
    *_geo_indexes("nightwalks"),
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
    *_geo_indexes("incidents"),
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
    *_geo_indexes("actions"),
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
    Index("ix_status_events_record", "kind", "record_id"),
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

# --- added by migration 0007 ---------------------------------------------------------------------

# Login sessions (issue #14): only the SHA-256 of the browser's token and of the one-time login ticket.
sessions = Table(
    "sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), unique=True),
    Column("ticket_hash", String(64), unique=True),
    Column("ticket_expires_at", UTCDateTime),
    Column("username", String(100), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("organisation", String(40)),
    Column("sso_subject", String(300)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False, index=True),
)

# One unsaved report per user and form (JSON), removed when the report is saved.
drafts = Table(
    "drafts", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False),
    Column("form", String(40), nullable=False),
    Column("data", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("username", "form", name="uq_drafts_username_form"),
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

# --- added by migration 0005 (#17) ---------------------------------------------------------------

# The police's trygghetsmätning: problem index 0–6 per sub-area (as the survey names it) and question, by year.
trygghetsmatning = Table(
    "trygghetsmatning", metadata,
    Column("id", Integer, primary_key=True),
    Column("year", Integer, nullable=False, index=True),
    Column("area_name", String(200), nullable=False),  # the survey's sub-area, as written in the file
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="SET NULL")),  # the matching stored area, if any
    Column("question", String(300), nullable=False),
    Column("problem_index", Float, nullable=False),
    Column("respondents", Integer),
    Column("file_name", String(300)),
    Column("imported_by", String(100)),
    Column("imported_at", UTCDateTime, nullable=False),
    UniqueConstraint("year", "area_name", "question", name="uq_trygghetsmatning_year_area_question"),
)

TABLE_OF_KIND: dict[str, Table] = {
    "area": areas, "walk": walks, "finding": findings, "sighting": sightings, "nightwalk": nightwalks,
    "incident": incidents, "action": actions,
}

# --- added by migration 0004 (the public face, issue 16) ----------------------------------------------

public_reports = Table(
    "public_reports", metadata,
    Column("finding_id", Integer, ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True),
    Column("receipt_code", String(20), nullable=False, unique=True),
    Column("status_token", String(64), nullable=False, unique=True),
    Column("channel", String(20), nullable=False),
    Column("api_client", String(100)),
    Column("lang", String(5), nullable=False),
    Column("email", String(320)),
    Column("unsubscribe_token", String(64), unique=True),
    Column("unsubscribed_at", UTCDateTime),
    Column("address", String(300), nullable=False, default=""),
    Column("moderation", String(20), nullable=False, index=True),
    Column("moderated_by", String(100)),
    Column("moderated_at", UTCDateTime),
    Column("moderation_reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("kind", String(30), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("lang", String(5), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("unsubscribe_url", String(500)),
    Column("finding_id", Integer, ForeignKey("findings.id", ondelete="SET NULL")),
    Column("state", String(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try_at", UTCDateTime, nullable=False, index=True),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(300), nullable=False),
    Column("created_by", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
)

rate_counters = Table(
    "rate_counters", metadata,
    Column("bucket", String(200), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
)
