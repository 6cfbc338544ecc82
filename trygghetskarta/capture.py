"""Capture from the field: what the report page (and the load test) calls to store a finding, a field
sighting or a night-walk report.

Every submit carries a ``client_id`` made by the client once per report (the page makes a uuid when the
form opens). It becomes the record's ``external_id`` (``app:<client_id>``), so a double tap, a reload or a
network retry stores the report once and returns the same id. Possible duplicates (FixMyStreet-style:
same category, still open, within ``duplicate_radius_m``) are computed in SWEREF 99 TM.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from trygghetskarta import geography, schema, settings
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, StoreError, ValidationError
from trygghetskarta.scrub import scrub_text
from trygghetskarta.store.core import deferred_view_audit
from trygghetskarta.workflow import event

if TYPE_CHECKING:
    from trygghetskarta.access import Viewer
    from trygghetskarta.photos import StoredPhoto
    from trygghetskarta.store import Store

EXTERNAL_PREFIX = "app:"
MAX_PHOTOS = 10
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")
SIGHTING_ROLES = schema.KOMMUN_STAFF_ROLES
NIGHTWALK_ROLES = schema.PLANNER_ROLES | {"nattvandrare"}


@dataclass(frozen=True)
class DuplicateCandidate:
    """An open finding of the same category near a new report."""

    id: int
    category: str
    status: str
    distance_m: float
    description: str
    reported_at: Any


@dataclass
class SubmitResult:
    """What a submit did. ``created`` is False when ``client_id`` had been stored before (a retry)."""

    id: int
    created: bool
    lon: float | None = None
    lat: float | None = None
    position_source: str = "given"  # given | exif | none
    masked: int = 0
    photo_ids: list[int] = field(default_factory=list)
    duplicate_candidates: list[DuplicateCandidate] = field(default_factory=list)

    @property
    def finding_id(self) -> int:
        return self.id


# --- checks --------------------------------------------------------------------------------------


def external_id_from_client_id(client_id: str) -> str:
    """The record's external id for a client id (validated: 8–100 characters of ``A-Za-z0-9_.:-``)."""
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        msg = "client_id must be 8–100 characters of letters, digits, '_', '.', ':' or '-' (e.g. a uuid)"
        raise ValidationError(msg)
    return EXTERNAL_PREFIX + client_id


def _check_position(lon: Any, lat: Any, what: str = "the position") -> tuple[float, float]:
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        msg = f"{what} must be numbers (longitude, latitude), got {lon!r}, {lat!r}"
        raise ValidationError(msg) from None
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        msg = f"{what} ({lon}, {lat}) is not a WGS 84 longitude/latitude"
        raise ValidationError(msg)
    mx, my = geography.metric_from_lonlat(np.array([x]), np.array([y]))
    distance = float(shapely.distance(_metric_boundary(str(settings.get("kommunkod"))), shapely.Point(mx[0], my[0])))
    limit = float(settings.get("boundary_buffer_m"))
    if distance > limit:
        msg = (f"{what} ({y:.5f}, {x:.5f}) lies {distance / 1000:.1f} km outside "
               f"{geography.municipality_name()}; choose a point inside the municipality")
        raise ValidationError(msg)
    return x, y


@lru_cache(maxsize=4)
def _metric_boundary(kommunkod: str) -> shapely.Geometry:
    """The municipality boundary in EPSG:3006, prepared for fast distance checks."""
    metric = geography.municipality(kommunkod).to_crs(schema.CRS_METRIC).geometry.iloc[0]
    shapely.prepare(metric)
    return metric


def _existing_id(store: Store, kind: str, external_id: str) -> int | None:
    """The id of the record stored under ``external_id``, whoever may see it (a retry returns the same id)."""
    hit = store.points(kind, None, columns=("external_id",), external_ids=[external_id])["id"]
    return int(hit.iloc[0]) if len(hit) else None


def stored_id(store: Store, kind: str, client_id: str) -> int | None:
    """The id of the report stored under ``client_id``, or None if none is (one indexed lookup).

    The report page asks this when it finds a report still pending: a save whose page run was cut off (a
    second tap while the first was saving) has stored the report but not told the page, and the page can
    then confirm it instead of showing a filled form."""
    if kind not in ("finding", "sighting", "nightwalk"):
        msg = f"reports are findings, sightings or nightwalks, not {kind!r}"
        raise ValidationError(msg)
    return _existing_id(store, kind, external_id_from_client_id(client_id))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- duplicates ----------------------------------------------------------------------------------


def duplicate_candidates(store: Store, category: str, lon: float, lat: float, radius_m: float | None = None,
                         *, viewer: Viewer | None = None, exclude_ids: Sequence[int] = ()) -> list[DuplicateCandidate]:
    """Open findings of ``category`` within ``radius_m`` (default: the ``duplicate_radius_m`` setting) of the
    point, nearest first, among those ``viewer`` may see. Distances in metres (EPSG:3006)."""
    schema.require_key("category", category, "category")
    x, y = _check_position(lon, lat)
    radius = float(settings.get("duplicate_radius_m") if radius_m is None else radius_m)
    if not (math.isfinite(radius) and 0 < radius <= 5000):
        msg = f"the duplicate radius must be between 0 and 5000 m, got {radius_m!r}"
        raise ValidationError(msg)
    px, py = geography.metric_from_lonlat(np.array([x]), np.array([y]))
    # The square around the point, as a longitude/latitude box for the store (it filters in SQL, so only the
    # neighbourhood is read, not every open finding of the category); the exact distance follows below.
    # (padded a little: a grid line of SWEREF 99 TM is not quite a meridian or a parallel)
    box = radius * 1.02 + 1.0
    corner_lon, corner_lat = geography.lonlat_from_metric(px + np.array([-box, box, box, -box]),
                                                          py + np.array([-box, -box, box, box]))
    bbox = (corner_lon.min(), corner_lat.min(), corner_lon.max(), corner_lat.max())
    frame = store.points("finding", viewer, categories=[category], statuses=sorted(schema.OPEN_STATUSES),
                         columns=("category", "status", "description"), bbox=bbox)
    if exclude_ids:
        frame = frame[~frame["id"].isin([int(i) for i in exclude_ids])]
    if frame.empty:
        return []
    fx, fy = geography.metric_from_lonlat(frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float))
    dist = np.hypot(fx - px[0], fy - py[0])
    near = np.flatnonzero(dist <= radius)
    near = near[np.argsort(dist[near], kind="stable")]
    rows = frame.iloc[near]
    time_col = "reported_at" if "reported_at" in rows else None
    return [DuplicateCandidate(int(r["id"]), str(r["category"]), str(r["status"]), float(d),
                               str(r.get("description") or ""), r[time_col] if time_col else None)
            for (_, r), d in zip(rows.iterrows(), dist[near], strict=True)]


# --- findings ------------------------------------------------------------------------------------


def _stored_photos(photos: Sequence[bytes | tuple[str, bytes]]) -> list[StoredPhoto]:
    from trygghetskarta import photos as photo_module

    if isinstance(photos, bytes | bytearray):
        msg = "photos must be a list of photo files (bytes), not one bytes object"
        raise ValidationError(msg)
    if len(photos) > MAX_PHOTOS:
        msg = f"at most {MAX_PHOTOS} photos per report, got {len(photos)}"
        raise ValidationError(msg)
    stored = []
    for i, data in enumerate(photos, start=1):
        if isinstance(data, tuple):  # (filename, bytes) from an upload widget
            name, content = data
        else:
            name, content = f"foto {i}", data
        if not isinstance(content, bytes | bytearray):
            msg = f"{name}: expected the photo file's bytes, got {type(content).__name__}"
            raise ValidationError(msg)
        stored.append(photo_module.photo_from_bytes(bytes(content), str(name)))
    return stored


def _joins_walk(viewer: Viewer) -> bool:
    """Whether a report on a walk makes the reporter a participant (deltagare see their walks' records)."""
    return viewer.role == "deltagare"


def _line_points(line: Sequence[tuple[float, float]] | None) -> list[tuple[float, float]]:
    """A drawn stretch's points, each checked like a position (inside the municipality); [] for none."""
    if line is None:
        return []
    points = [_check_position(lo, la, "a point of the stretch") for lo, la in line]
    if len(points) < 2 or len(points) > 500:
        msg = f"a stretch needs 2–500 points, got {len(points)}"
        raise ValidationError(msg)
    if shapely.LineString(points).length == 0:
        msg = "the stretch's points are all the same place; tap along the stretch"
        raise ValidationError(msg)
    return points


def _check_finding_fields(category: str, severity: int, description: str, accuracy_m: float | None) -> None:
    schema.require_key("category", category, "category")
    if severity not in (1, 2, 3) or isinstance(severity, bool):
        msg = f"severity must be 1, 2 or 3, got {severity!r}"
        raise ValidationError(msg)
    if not isinstance(description, str) or len(description) > 4000:
        msg = "the description must be text of at most 4000 characters"
        raise ValidationError(msg)
    if accuracy_m is not None and not (isinstance(accuracy_m, int | float) and 0 <= accuracy_m < 100_000):
        msg = f"accuracy_m must be a distance in metres, got {accuracy_m!r}"
        raise ValidationError(msg)


def _check_walk(store: Store, viewer: Viewer | None, walk_id: int) -> None:
    """The walk must be one the viewer sees; a deltagare must be allowed to join it (checked before any photo
    is stored, and again when writing)."""
    with deferred_view_audit():  # whether the walk exists for the viewer: a check, not a view to audit
        hidden = store.points("walk", viewer, ids=[walk_id], columns=("title",)).empty
    if hidden:
        msg = f"no walk with id {walk_id} (or you may not see it)"
        raise NotFoundError(msg)
    if viewer is not None and _joins_walk(viewer):
        store.check_participation(walk_id, viewer.username, actor=viewer)


def _position(lon: float | None, lat: float | None, stored: Sequence[Any]) -> tuple[float, float, str]:
    """The finding's checked position and where it came from: given, else the first photo's GPS (``exif``)."""
    source = "given"
    if lon is None or lat is None:
        with_position = [p for p in stored if p.lon is not None and p.lat is not None]
        if not with_position:
            msg = "the finding has no position: use the phone's GPS, a photo with a GPS position, or tap the map"
            raise ValidationError(msg)
        lon, lat, source = with_position[0].lon, with_position[0].lat, "exif"
    x, y = _check_position(lon, lat)
    return x, y, source


def submit_finding(store: Store, viewer: Viewer | None, *, category: str, severity: int = 2, description: str = "",
                   lon: float | None, lat: float | None, walk_id: int | None = None,
                   photos: Sequence[bytes | tuple[str, bytes]] = (), accuracy_m: float | None = None,
                   client_id: str, reported_at: dt.datetime | None = None,
                   find_duplicates: bool = True, line: Sequence[tuple[float, float]] | None = None) -> SubmitResult:
    """Store one finding from the report page, with its photos, at once and exactly once per ``client_id``.

    ``line``: a stretch (e.g. a dark path) drawn on the map as (lon, lat) points in order; the finding is then
    a line and ``lon``/``lat`` may be None (its middle is used for the duplicate check).

    Without ``lon``/``lat`` the first photo with an EXIF GPS position gives the position. Photos are verified,
    re-encoded without EXIF and stored (``photos.photo_from_bytes``) before anything is written, so a bad photo
    leaves nothing behind; the finding and its photo references are written in one transaction. A deltagare
    reporting on a walk takes part in it, so the walk must be open to them (``store.add_participant``, checked
    before the photos are stored and again in that transaction); a walk the viewer may not see is not found.
    """
    external_id = external_id_from_client_id(client_id)
    _check_finding_fields(category, severity, description, accuracy_m)
    line_points = _line_points(line)
    if line_points:
        middle = shapely.LineString(line_points).interpolate(0.5, normalized=True)
        lon, lat = middle.x, middle.y
    if walk_id is not None:
        walk_id = int(walk_id)
        _check_walk(store, viewer, walk_id)
    stored = _stored_photos(photos)
    x, y, source = _position(lon, lat, stored)
    row = {
        "category": category, "severity": int(severity), "description": description.strip(), "status": "ny",
        "reported_at": reported_at or _now(), "reported_by": viewer.username if viewer else None,
        "walk_id": walk_id, "source": "app", "external_id": external_id,
        "accuracy_m": float(accuracy_m) if accuracy_m is not None else None,
        "geometry": shapely.LineString(line_points) if line_points else shapely.Point(x, y),
    }
    # Validated before the write transaction: the write lock (SQLite has one for the whole database) is held
    # only for the few statements below, not for the validation.
    batch = store.prepare("finding", gpd.GeoDataFrame([row], geometry="geometry", crs=schema.CRS_STORE))
    try:
        with store.write() as conn:
            res = store.insert("finding", batch, actor=viewer, conn=conn)
            if not res.ids:  # another process stored the same client id a moment ago
                finding_id, created, photo_ids = None, False, []
            else:
                finding_id, created = int(res.ids[0]), True
                if walk_id is not None and viewer is not None and _joins_walk(viewer):
                    # reporting on a walk is taking part: only in an open walk (or one invited to), else nothing
                    # of this report is written
                    store.add_participant(walk_id, viewer.username, conn=conn, actor=viewer)
                photo_ids = [store.add_photo(finding_id, str(p.path), str(p.thumb_path), p.sha256, p.width,
                                             p.height, p.taken_at, conn=conn) for p in stored]
                store.audit("report", viewer, "finding", finding_id, {"photos": len(stored), "position": source},
                            conn=conn)
    except StoreError:
        # A concurrent retry with the same client id won the unique constraint: return its record.
        again = _existing_id(store, "finding", external_id)
        if again is None:
            raise
        return SubmitResult(again, created=False, lon=x, lat=y, position_source=source)
    if finding_id is None:
        finding_id = _existing_id(store, "finding", external_id)
        if finding_id is None:  # pragma: no cover - the row was there a moment ago
            msg = "the report could not be stored; try again"
            raise StoreError(msg)
        return SubmitResult(finding_id, created=False, lon=x, lat=y, position_source=source)
    candidates = (duplicate_candidates(store, category, x, y, viewer=viewer, exclude_ids=[finding_id])
                  if find_duplicates else [])
    return SubmitResult(finding_id, created, x, y, source, res.masked, photo_ids, candidates)


def add_to_existing(store: Store, viewer: Viewer | None, finding_id: int, *, description: str = "",
                    photos: Sequence[bytes | tuple[str, bytes]] = (), client_id: str | None = None) -> int:
    """"Lägg till på befintligt": add this report to an existing finding the viewer may see. The report's
    text (scrubbed) and photos are kept on that finding (``store.finding_reports``, ``store.photos``) and
    it counts as one more supporter; with a ``client_id`` a retry adds nothing. Returns the new count."""
    with deferred_view_audit():  # a check that the finding exists for the viewer, not a view to audit
        visible = store.points("finding", viewer, ids=[int(finding_id)], columns=("status",))
    if visible.empty:
        msg = f"no finding with id {finding_id} (or you may not see it)"
        raise NotFoundError(msg)
    if not isinstance(description, str) or len(description) > 4000:
        msg = "the description must be text of at most 4000 characters"
        raise ValidationError(msg)
    if client_id is not None:
        external_id_from_client_id(client_id)  # the same rule as a new report's client id
    stored = _stored_photos(photos)  # verified and re-encoded before anything is written
    return _add_report(store, int(finding_id), viewer, description, stored, client_id)


def _add_report(store: Store, finding_id: int, actor: Viewer | None, description: str,
                photos: Sequence[Any], client_id: str | None) -> int:
    """Another report of the same problem on an existing finding: counts a supporter, keeps the new text
    (scrubbed) as a ``tillagg`` event and the new photos on the finding, in one transaction. A report with
    a ``client_id`` already stored on the finding (a double tap, a retry) adds nothing. Returns the
    finding's supporter count."""
    text = scrub_text(str(description or "").strip()).text
    with store.write() as conn:
        current = store.finding_state(conn, finding_id)
        if client_id is not None and client_id in store.report_client_ids(conn, finding_id):
            return int(current.supporters or 0)
        n = store.count_supporter(conn, finding_id)
        photo_ids = [store.add_photo(finding_id, str(p.path), str(p.thumb_path), p.sha256, p.width, p.height,
                                     p.taken_at, conn=conn) for p in photos]
        store.insert_status_events(conn, [event(
            schema.REPORT_EVENT, finding_id, actor, current.status, current.status, scrub=False,
            comment=json.dumps({"description": text, "photo_ids": photo_ids, "client_id": client_id},
                               ensure_ascii=False))])
        store.audit("support", actor, "finding", finding_id, {"photos": len(photo_ids)}, conn=conn)
        return n


# --- field sightings and night walks ---------------------------------------------------------------


def _require_role(viewer: Viewer | None, roles: frozenset[str], what: str) -> None:
    if viewer is not None and viewer.role not in roles:
        msg = f"role {viewer.role} may not report {what}"
        raise PermissionDeniedError(msg)


def submit_sighting(store: Store, viewer: Viewer | None, *, type: str, lon: float, lat: float,
                    group_size: str | None = None, age_band: str = "okant", description: str = "",
                    observed_at: dt.datetime | None = None, client_id: str) -> SubmitResult:
    """Store a field sighting (fältgrupp): no names and no photos; audience ``begransad``. Idempotent on
    ``client_id``."""
    _require_role(viewer, SIGHTING_ROLES, "field sightings")
    external_id = external_id_from_client_id(client_id)
    schema.require_key("sighting_type", type, "sighting type")
    if group_size is not None:
        schema.require_key("group_size", group_size, "group size")
    schema.require_key("age_band", age_band, "age band")
    if observed_at is not None and (not isinstance(observed_at, dt.datetime) or observed_at.tzinfo is None):
        msg = "observed_at must be a date and time with a time zone"
        raise ValidationError(msg)
    x, y = _check_position(lon, lat)
    frame = gpd.GeoDataFrame([{
        "type": type, "group_size": group_size, "age_band": age_band, "observed_at": observed_at or _now(),
        "description": (description or "").strip(), "reported_by": viewer.username if viewer else None,
        "audience": "begransad", "external_id": external_id, "geometry": shapely.Point(x, y),
    }], geometry="geometry", crs=schema.CRS_STORE)
    res = store.insert("sighting", frame, actor=viewer)
    if not res.ids:
        return SubmitResult(_existing_id(store, "sighting", external_id) or 0, created=False, lon=x, lat=y)
    return SubmitResult(int(res.ids[0]), True, x, y, masked=res.masked)


def submit_nightwalk(store: Store, viewer: Viewer | None, *, organisation: str, walk_date: dt.date,
                     walkers: int, contacts_young: int = 0, observations: str = "", area_id: int | None = None,
                     route: Sequence[tuple[float, float]] = (), client_id: str) -> SubmitResult:
    """Store the report that follows a night walk (date, association, walkers, contacts with young people,
    observations; optional area and route as (lon, lat) points). Idempotent on ``client_id``."""
    _require_role(viewer, NIGHTWALK_ROLES, "night-walk reports")
    external_id = external_id_from_client_id(client_id)
    if not str(organisation or "").strip():
        msg = "name the association that walked"
        raise ValidationError(msg)
    if not isinstance(walk_date, dt.date) or isinstance(walk_date, dt.datetime):
        msg = f"walk_date must be a date, got {walk_date!r}"
        raise ValidationError(msg)
    for name, value in (("walkers", walkers), ("contacts_young", contacts_young)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
            msg = f"{name} must be a whole number from 0, got {value!r}"
            raise ValidationError(msg)
    points = [_check_position(lo, la, "a route point") for lo, la in route]
    geometry = (shapely.LineString(points) if len(points) >= 2 else shapely.Point(points[0]) if points else None)
    frame = gpd.GeoDataFrame([{
        "organisation": str(organisation).strip(), "walk_date": walk_date, "walkers": walkers,
        "contacts_young": contacts_young, "observations": (observations or "").strip(),
        "reported_by": viewer.username if viewer else None, "area_id": area_id, "external_id": external_id,
        "geometry": geometry,
    }], geometry="geometry", crs=schema.CRS_STORE)
    res = store.insert("nightwalk", frame, actor=viewer)
    if not res.ids:
        return SubmitResult(_existing_id(store, "nightwalk", external_id) or 0, created=False)
    return SubmitResult(int(res.ids[0]), True, masked=res.masked)


def position_from_photo(data: bytes) -> tuple[float, float] | None:
    """The (lon, lat) in a photo's EXIF GPS block, read from the header without decoding pixels; None when
    the photo has none or is not a photo the product takes (``photos.check_photo`` says why; the photo itself
    is verified when the report is saved)."""
    import io

    from PIL import Image, UnidentifiedImageError

    from trygghetskarta import photos as photo_module

    try:
        photo_module.check_photo(data, "foto")  # the accepted formats only, size from the header
        with Image.open(io.BytesIO(data), formats=list(photo_module.FORMATS)) as image:
            position = photo_module.exif_position(image)
    except (ValidationError, UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError,
            Image.DecompressionBombError):
        return None
    if position is None:
        return None
    lat, lon = position
    return lon, lat
