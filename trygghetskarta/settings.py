"""Settings as documented data: each has a name, an environment variable, a default and help.

Values are read from the environment at call time, so a test or a scheduler can change them without
reloading anything. The README's configuration table is checked against ``SETTINGS`` by a test.
"""

from __future__ import annotations

import os
import re
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
    Setting("import_max_columns", "TRYGGHETSKARTA_IMPORT_MAX_COLUMNS", 500, int,
            "Most columns one import file may hold (checked before the file is parsed)."),
    Setting("import_max_seconds", "TRYGGHETSKARTA_IMPORT_MAX_SECONDS", 300.0, float,
            "How long reading one import file may take before it is stopped, in seconds."),
    Setting("import_max_memory_mb", "TRYGGHETSKARTA_IMPORT_MAX_MEMORY_MB", 4096.0, float,
            "How much memory reading one import file may use before it is stopped, in MB."),
    Setting("upload_max_age_hours", "TRYGGHETSKARTA_UPLOAD_MAX_AGE_HOURS", 24.0, float,
            "Uploaded import files whose preview was never confirmed are removed after this many hours."),
    Setting("privacy_k", "TRYGGHETSKARTA_PRIVACY_K", 5, int,
            "Partners see field sightings only as sums of cells (smallest area × ISO week × type) of at least "
            "this many; smaller cells show as `<k` (see SECURITY.md)."),
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
    Setting("accessibility_contact", "TRYGGHETSKARTA_ACCESSIBILITY_CONTACT", "", str,
            "E-mail address (or web address) where anyone reports a problem with the app's accessibility; shown on "
            "the accessibility statement (`/tillganglighet`). Empty: the statement asks the reader to contact the "
            "kommun and says that no address is set."),
    # --- the public face (issue 16) ---
    Setting("public_base_url", "TRYGGHETSKARTA_PUBLIC_BASE_URL", "http://localhost:8501", str,
            "The app's address as residents reach it: status and unsubscribe links in e-mail and QR codes."),
    Setting("public_position_m", "TRYGGHETSKARTA_PUBLIC_POSITION_M", 100.0, float,
            "Positions shown to the public (public map, Open311) are snapped to the centre of a square of this "
            "many metres (SWEREF 99 TM)."),
    Setting("public_rate_client_hour", "TRYGGHETSKARTA_PUBLIC_RATE_CLIENT_HOUR", 10, int,
            "Residents' reports accepted per hour from one client address."),
    Setting("public_rate_range_hour", "TRYGGHETSKARTA_PUBLIC_RATE_RANGE_HOUR", 40, int,
            "Residents' reports accepted per hour from one address range (IPv4 /24, IPv6 /48)."),
    Setting("public_text_max_chars", "TRYGGHETSKARTA_PUBLIC_TEXT_MAX_CHARS", 2000, int,
            "Longest text a resident's report may carry."),
    Setting("public_photo_max_mb", "TRYGGHETSKARTA_PUBLIC_PHOTO_MAX_MB", 8.0, float,
            "Largest photo a resident may attach, in MB."),
    Setting("trusted_proxies", "TRYGGHETSKARTA_TRUSTED_PROXIES", "", str,
            "Comma-separated addresses of reverse proxies whose X-Forwarded-For header names the client; "
            "empty: the connecting address is the client."),
    Setting("api_port", "TRYGGHETSKARTA_API_PORT", 8502, int, "Port of `trygghetskarta serve-api` (Open311)."),
    Setting("api_rate_key_hour", "TRYGGHETSKARTA_API_RATE_KEY_HOUR", 600, int,
            "Open311 requests one API key may POST per hour."),
    Setting("smtp_host", "TRYGGHETSKARTA_SMTP_HOST", "", str,
            "SMTP server for e-mail (empty: e-mail is queued in the outbox but not sent)."),
    Setting("smtp_port", "TRYGGHETSKARTA_SMTP_PORT", 587, int, "SMTP port."),
    Setting("smtp_starttls", "TRYGGHETSKARTA_SMTP_STARTTLS", 1, int,
            "1: upgrade the SMTP connection with STARTTLS (refuse to send without it); 0: plain SMTP."),
    Setting("smtp_user", "TRYGGHETSKARTA_SMTP_USER", "", str,
            "SMTP user name (empty: no login). The password is `TRYGGHETSKARTA_SMTP_PASSWORD` or `password` "
            "under `[smtp]` in the secrets file."),
    Setting("smtp_sender", "TRYGGHETSKARTA_SMTP_SENDER", "trygghetskarta@localhost", str,
            "The From address of every e-mail."),
    Setting("smtp_timeout_s", "TRYGGHETSKARTA_SMTP_TIMEOUT_S", 20.0, float, "SMTP connection timeout, seconds."),
    Setting("smtp_retry_base_s", "TRYGGHETSKARTA_SMTP_RETRY_BASE_S", 60.0, float,
            "First wait before a failed e-mail is tried again; it doubles per attempt, at most 6 hours."),
    Setting("retention_public_email_days", "TRYGGHETSKARTA_RETENTION_PUBLIC_EMAIL_DAYS", 180, int,
            "`gallra` forgets a resident's e-mail address this many days after their report was closed, and "
            "deletes sent or failed e-mail older than this."),
    Setting("secrets_file", "TRYGGHETSKARTA_SECRETS_FILE", str(PROJECT_DIR / ".streamlit" / "secrets.toml"), str,
            "The secrets file (TOML) that holds the SMTP password (`[smtp] password = ...`)."),
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


def smtp_password() -> str:
    """The SMTP password: ``TRYGGHETSKARTA_SMTP_PASSWORD``, else ``password`` under ``[smtp]`` in the secrets
    file; empty when neither is set. Never logged or shown."""
    value = os.environ.get("TRYGGHETSKARTA_SMTP_PASSWORD")
    if value:
        return value
    import tomllib

    path = Path(get("secrets_file"))
    if not path.is_file():
        return ""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: the secrets file cannot be read ({type(exc).__name__})"
        raise ValidationError(msg) from None
    smtp = data.get("smtp")
    return str(smtp.get("password") or "") if isinstance(smtp, dict) else ""


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
    """The database URL: the argument, else ``TRYGGHETSKARTA_DB``, else the embedded SQLite file.

    A URL that cannot be used (an unknown scheme, a port that is not a number, text that is no URL) raises
    ``ValidationError`` with one line naming where it came from; the password is never part of the message.
    """
    source = "the database URL (--db)" if url else "TRYGGHETSKARTA_DB"
    url = url or get("db")
    if not url:
        return f"sqlite:///{data_dir() / 'trygghetskarta.sqlite'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not (url.startswith(("sqlite:///", "postgresql+psycopg://"))):
        msg = (f"{source}: unsupported database URL {redact_url(url)!r}; use sqlite:///PATH or "
               "postgresql://USER:PASSWORD@HOST:PORT/DBNAME")
        raise ValidationError(msg)
    if url.startswith("postgresql+psycopg://"):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(url)
        except (ArgumentError, ValueError):
            msg = (f"{source}: malformed database URL {redact_url(url)!r} (is the port a number?); use "
                   "postgresql://USER:PASSWORD@HOST:PORT/DBNAME")
            raise ValidationError(msg) from None
    return url


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)(.*)$", re.DOTALL)
# A password given as a parameter: ``password=…`` in a URL query or in libpq's ``key=value`` form (quoted or
# not). The value ends at ``&``, ``;``, ``#`` or white space, or at the closing quote.
_PASSWORD_PARAM = re.compile(r"(?i)(\b\w*password\s*=\s*)('(?:[^'\\]|\\.)*'?|\"[^\"]*\"?|[^\s&;#]*)")
_KEY_VALUE = re.compile(r"^\s*[A-Za-z_]+\s*=")


def redact_url(url: str) -> str:
    """The database URL with every password replaced by ``***``, safe to print or log.

    Covers the user-info password (``user:PASSWORD@host``, also when it holds characters that should have been
    percent-encoded), ``password=`` in the query string (percent-encoded or not) and libpq's ``key=value``
    connection strings (``host=… password=…``). A port that is not a number is hidden too (a URL that lost
    its ``@`` puts the password there). Text that is neither form is not shown at all.
    """
    text = str(url)
    if any(ch in text for ch in "\r\n"):
        return "<unparsable database URL>"
    match = _SCHEME.match(text)
    if match is None:
        if _KEY_VALUE.match(text):
            return _redact_params(text)
        return "<unparsable database URL>"
    scheme, rest = match.groups()
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, end) if "@" in rest[:end] else rest.rfind("@")
    if at >= 0 and ":" in rest[:at]:
        user = rest[:at].split(":", 1)[0]
        rest = f"{user}:***{rest[at:]}"
        at = len(user) + 4
    end = min((i for i in (rest.find(c, max(at, 0)) for c in "/?#") if i >= 0), default=len(rest))
    host = rest[at + 1:end]
    if not host.startswith("["):
        name, colon, port = host.rpartition(":")
        if colon and port and not port.isdigit():
            rest = rest[:at + 1] + f"{name}:***" + rest[end:]
    return scheme + _redact_params(rest)


def _redact_params(text: str) -> str:
    from urllib.parse import unquote_plus

    redacted = _PASSWORD_PARAM.sub(lambda m: m.group(1) + "***", text)
    decoded = unquote_plus(redacted)
    if decoded != redacted and _PASSWORD_PARAM.sub(lambda m: m.group(1) + "***", decoded) != decoded:
        # the key itself was percent-encoded (``p%61ssword=``, ``password%3D…``): show the decoded form
        return _PASSWORD_PARAM.sub(lambda m: m.group(1) + "***", decoded)
    return redacted
