"""Settings as documented data: each has a name, an environment variable, a default and help.

Values are read from the environment at call time, so a test or a scheduler can change them without
reloading anything. The README's configuration table is checked against ``SETTINGS`` by a test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trygghetskarta.errors import ValidationError

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    """One setting: ``env`` is the variable that overrides ``default``."""

    name: str
    env: str
    default: Any
    type: type
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "TRYGGHETSKARTA_DB", "", str,
            "Database URL. Empty: the embedded SQLite file `trygghetskarta.sqlite` in the data folder. "
            "`postgresql://user@host/dbname` uses PostgreSQL + PostGIS."),
    Setting("data_dir", "TRYGGHETSKARTA_DATA_DIR", str(PROJECT_DIR / "data"), str,
            "Folder for the embedded database, media and logs."),
    Setting("media_dir", "TRYGGHETSKARTA_MEDIA_DIR", "", str,
            "Folder (or mounted object-store path) for photos. Empty: `media/` in the data folder."),
    Setting("kommunkod", "TRYGGHETSKARTA_KOMMUNKOD", "0139", str,
            "SCB municipality code (four digits) whose boundary frames the map and the import checks."),
    Setting("lang", "TRYGGHETSKARTA_LANG", "sv", str, "Default interface language: `sv` or `en`."),
    Setting("timezone", "TRYGGHETSKARTA_TIMEZONE", "Europe/Stockholm", str,
            "Time zone for dates given without one and for day/week boundaries."),
    Setting("boundary_buffer_m", "TRYGGHETSKARTA_BOUNDARY_BUFFER_M", 500.0, float,
            "How far (metres) outside the municipality a record may lie before import rejects it."),
    Setting("duplicate_radius_m", "TRYGGHETSKARTA_DUPLICATE_RADIUS_M", 25.0, float,
            "Radius (metres) within which an open finding of the same category is offered as a duplicate."),
    Setting("photo_max_mb", "TRYGGHETSKARTA_PHOTO_MAX_MB", 15.0, float, "Largest photo accepted, in MB."),
    Setting("photo_max_side_px", "TRYGGHETSKARTA_PHOTO_MAX_SIDE_PX", 2048, int,
            "Longest side (pixels) of a stored photo; larger photos are scaled down."),
    Setting("import_max_mb", "TRYGGHETSKARTA_IMPORT_MAX_MB", 200.0, float, "Largest import file, in MB."),
    Setting("import_max_rows", "TRYGGHETSKARTA_IMPORT_MAX_ROWS", 2_000_000, int,
            "Most rows one import file may hold."),
    Setting("privacy_k", "TRYGGHETSKARTA_PRIVACY_K", 5, int,
            "Aggregated counts below this are shown as `<k` to partners (and cells that would reveal them)."),
    Setting("marker_limit", "TRYGGHETSKARTA_MARKER_LIMIT", 1500, int,
            "Above this many points a map layer is clustered or aggregated instead of one marker per point."),
    Setting("basemap", "TRYGGHETSKARTA_BASEMAP", "osm", str,
            "Base map: `osm` (OpenStreetMap), `custom` (the XYZ/WMTS URL below) or `none` (offline)."),
    Setting("tiles_url", "TRYGGHETSKARTA_TILES_URL", "", str,
            "XYZ/WMTS tile URL template for `basemap=custom`, e.g. Lantmäteriet topowebb."),
    Setting("tiles_attribution", "TRYGGHETSKARTA_TILES_ATTRIBUTION", "", str,
            "Attribution text shown for the custom base map."),
    Setting("retention_sighting_days", "TRYGGHETSKARTA_RETENTION_SIGHTING_DAYS", 365, int,
            "Field sightings older than this are aggregated to area counts and deleted by `gallra`."),
    Setting("retention_nightwalk_days", "TRYGGHETSKARTA_RETENTION_NIGHTWALK_DAYS", 730, int,
            "Night-walk reports older than this are deleted by `gallra`."),
    Setting("retention_incident_days", "TRYGGHETSKARTA_RETENTION_INCIDENT_DAYS", 1095, int,
            "Partner incidents older than this are deleted by `gallra`."),
    Setting("retention_audit_days", "TRYGGHETSKARTA_RETENTION_AUDIT_DAYS", 1825, int,
            "Audit events older than this are deleted by `gallra`."),
    Setting("lockout_attempts", "TRYGGHETSKARTA_LOCKOUT_ATTEMPTS", 5, int,
            "Failed logins in a row after which an account is locked."),
    Setting("lockout_minutes", "TRYGGHETSKARTA_LOCKOUT_MINUTES", 15, int, "How long a locked account stays locked."),
    Setting("session_timeout_minutes", "TRYGGHETSKARTA_SESSION_TIMEOUT_MINUTES", 60, int,
            "Idle minutes after which a logged-in session must log in again."),
    Setting("oidc_role_claim", "TRYGGHETSKARTA_OIDC_ROLE_CLAIM", "roles", str,
            "Claim in the single sign-on token whose value(s) map to a role."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> Any:
    """The current value of setting ``name`` (environment first, then the default)."""
    if name not in _BY_NAME:
        msg = f"unknown setting {name!r}; known: {', '.join(_BY_NAME)}"
        raise ValidationError(msg)
    setting = _BY_NAME[name]
    raw = os.environ.get(setting.env)
    if raw is None or raw == "":
        return setting.default
    try:
        return setting.type(raw)
    except ValueError:
        msg = f"{setting.env}={raw!r} is not a valid {setting.type.__name__}"
        raise ValidationError(msg) from None


def data_dir() -> Path:
    """The data folder, created if missing."""
    path = Path(get("data_dir"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def media_dir() -> Path:
    """The photo folder, created if missing."""
    path = Path(get("media_dir") or data_dir() / "media")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(url: str | None = None) -> str:
    """The database URL: the argument, else ``TRYGGHETSKARTA_DB``, else the embedded SQLite file."""
    url = url or get("db")
    if not url:
        return f"sqlite:///{data_dir() / 'trygghetskarta.sqlite'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not (url.startswith(("sqlite:///", "postgresql+psycopg://"))):
        msg = f"unsupported database URL scheme in {redact_url(url)!r}; use sqlite:///PATH or postgresql://..."
        raise ValidationError(msg)
    return url


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to print or log."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL must still never leak
        return "<unparsable database URL>"
