"""The records (DESIGN.md §3): which fields each kind has, their types and which vocabulary they use.

The store validates writes against these, import maps columns onto them and export writes them.
Geometry is always the ``geometry`` column of a GeoDataFrame in EPSG:4326.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One field of a record kind.

    ``type`` is one of: str, text, int, float, bool, datetime (tz-aware), date, fk.
    ``vocab`` names a vocabulary in ``schema.VOCABULARIES`` the value must belong to.
    """

    name: str
    type: str
    required: bool = False
    vocab: str | None = None
    default: object = None


# Geometry type per kind ("any" allows point and line, e.g. a dark stretch of path).
GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    "area": ("Polygon", "MultiPolygon"),
    "walk": ("LineString", "MultiLineString"),
    "finding": ("Point", "LineString"),
    "sighting": ("Point",),
    "nightwalk": ("LineString", "MultiLineString", "Point"),
    "incident": ("Point",),
    "action": (),
}
GEOMETRY_REQUIRED: dict[str, bool] = {
    "area": True, "walk": False, "finding": True, "sighting": True, "nightwalk": False, "incident": True,
    "action": False,
}

FIELDS: dict[str, tuple[Field, ...]] = {
    "area": (
        Field("name", "str", required=True),
        Field("locality", "str", vocab="locality", default="ovrigt"),
        Field("source", "str", vocab="area_source", default="import"),
        Field("population", "int"),
        Field("external_id", "str"),
    ),
    "walk": (
        Field("title", "str", required=True),
        Field("started_at", "datetime", required=True),
        Field("area_id", "fk"),
        Field("light", "str", vocab="light"),
        Field("organisations", "text", default=""),
        Field("notes", "text", default=""),
        Field("audience", "str", vocab="audience", default="publik"),
        Field("created_by", "str"),
        Field("external_id", "str"),
    ),
    "finding": (
        Field("category", "str", required=True, vocab="category"),
        Field("description", "text", default=""),
        Field("severity", "int", default=2),
        Field("positive", "bool", default=False),
        Field("status", "str", vocab="status", default="ny"),
        Field("responsible", "str", vocab="party"),
        Field("due_date", "date"),
        Field("duplicate_of", "fk"),
        Field("reported_at", "datetime", required=True),
        Field("reported_by", "str"),
        Field("walk_id", "fk"),
        Field("area_id", "fk"),
        Field("audience", "str", vocab="audience", default="publik"),
        Field("source", "str", default="app"),
        Field("external_id", "str"),
        Field("original_category", "str"),
        Field("light", "str", vocab="light"),
        Field("accuracy_m", "float"),
    ),
    "sighting": (
        Field("type", "str", required=True, vocab="sighting_type"),
        Field("group_size", "str", vocab="group_size"),
        Field("age_band", "str", vocab="age_band", default="okant"),
        Field("observed_at", "datetime", required=True),
        Field("description", "text", default=""),
        Field("reported_by", "str"),
        Field("area_id", "fk"),
        Field("audience", "str", vocab="audience", default="begransad"),
        Field("external_id", "str"),
        Field("original_type", "str"),
    ),
    "nightwalk": (
        Field("organisation", "str", required=True),
        Field("walk_date", "date", required=True),
        Field("walkers", "int", default=0),
        Field("contacts_young", "int", default=0),
        Field("observations", "text", default=""),
        Field("reported_by", "str"),
        Field("area_id", "fk"),
        Field("audience", "str", vocab="audience", default="partner"),
        Field("external_id", "str"),
    ),
    "incident": (
        Field("source", "str", required=True, vocab="incident_source"),
        Field("type", "str", required=True, vocab="incident_type"),
        Field("occurred_at", "datetime", required=True),
        Field("precision", "str", vocab="precision", default="exakt"),
        Field("title", "text", default=""),
        Field("description", "text", default=""),
        Field("original_type", "str"),
        Field("owner_org", "str", vocab="party"),
        Field("area_id", "fk"),
        Field("audience", "str", vocab="audience", default="partner"),
        Field("external_id", "str"),
        Field("reported_by", "str"),
    ),
    "action": (
        Field("what", "text", required=True),
        Field("responsible", "str", required=True, vocab="party"),
        Field("priority", "int", default=2),
        Field("kind", "str", vocab="action_kind", default="enkel"),
        Field("planned_date", "date"),
        Field("done_date", "date"),
        Field("status", "str", vocab="action_status", default="oppen"),
        Field("shared", "bool", default=False),
        Field("walk_id", "fk"),
        Field("area_id", "fk"),
        Field("created_by", "str"),
        Field("audience", "str", vocab="audience", default="partner"),
        Field("external_id", "str"),
    ),
}

# The time column that period filters (--from/--to) apply to, per kind.
TIME_FIELD: dict[str, str | None] = {
    "area": None, "walk": "started_at", "finding": "reported_at", "sighting": "observed_at",
    "nightwalk": "walk_date", "incident": "occurred_at", "action": "planned_date",
}

# Free-text fields that are scrubbed of personal data before they are stored.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields if f.type == "text") for kind, fields in FIELDS.items()
}

KINDS: tuple[str, ...] = tuple(FIELDS)


def field_names(kind: str) -> list[str]:
    """The field names of ``kind`` in order (without id and geometry)."""
    return [f.name for f in FIELDS[kind]]
