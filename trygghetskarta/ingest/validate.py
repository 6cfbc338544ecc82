"""Per-row geometry checks, vectorised: missing, empty, invalid, wrong type, outside the municipality.

Distances are computed in SWEREF 99 TM (EPSG:3006). A point is measured itself, a line by its nearest
part, an area by a point on its surface (so a neighbouring municipality that only touches the
boundary is still outside).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from trygghetskarta import records, schema
from trygghetskarta.ingest.boundary import Municipality
from trygghetskarta.ingest.crs import transform_geometries


@dataclass
class GeometryCheck:
    """Per row: the reason a geometry was rejected (None when fine) and its distance outside (m)."""

    geoms: np.ndarray
    reasons: np.ndarray
    distance_m: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        return np.fromiter((r is None for r in self.reasons), dtype=bool, count=len(self.reasons))


def check_geometries(
    geoms: np.ndarray,
    kind: str,
    municipality: Municipality,
    buffer_m: float,
    missing_reasons: np.ndarray | None = None,
) -> GeometryCheck:
    """Check geometries already in EPSG:4326 for ``kind``; returns 2D geometries and reasons.

    Each step looks only at the geometries that passed the steps before (``rest``) and gives the others their
    reason: missing or empty, coordinates not finite or outside the world, a type the kind does not allow,
    invalid, and outside the municipality (beyond ``buffer_m``).
    """
    n = len(geoms)
    reasons = np.full(n, None, dtype=object)
    distance = np.full(n, np.nan)
    missing = shapely.is_missing(geoms)
    if missing.any():
        given = missing_reasons if missing_reasons is not None else np.full(n, None, dtype=object)
        fallback = "geometry missing"
        reasons[missing] = [g if g else fallback for g in given[missing]]
    present = ~missing
    geoms = geoms.copy()
    geoms[present] = shapely.force_2d(geoms[present])
    empty = present & shapely.is_empty(geoms)
    reasons[empty] = "geometry empty"
    rest = present & ~empty
    rest = _check_coordinates(geoms, rest, reasons)
    if rest.any():
        _check_types(geoms, rest, reasons, kind)
    if rest.any():
        valid = shapely.is_valid(geoms[rest])
        idx = np.flatnonzero(rest)[~valid]
        for i in idx:
            reasons[i] = f"invalid geometry: {shapely.is_valid_reason(geoms[i])}"
        rest[idx] = False
    if rest.any():
        distance[rest] = _check_distance(geoms, rest, reasons, municipality, buffer_m)
    return GeometryCheck(geoms, reasons, distance)


def _check_coordinates(geoms: np.ndarray, rest: np.ndarray, reasons: np.ndarray) -> np.ndarray:
    """``rest`` less the geometries with a coordinate that is not finite or lies outside the world."""
    coords_ok = np.ones(len(geoms), dtype=bool)
    if rest.any():
        coords, index = shapely.get_coordinates(geoms[rest], return_index=True)
        bad = np.unique(index[~np.isfinite(coords).all(axis=1)])
        coords_ok[np.flatnonzero(rest)[bad]] = False
    bad_coords = rest & ~coords_ok
    reasons[bad_coords] = ("coordinates are not finite numbers, lie outside the valid range of the file's CRS "
                           "or could not be transformed to EPSG:4326")
    rest = rest & coords_ok
    out_of_world = rest.copy()
    if rest.any():
        minx, miny, maxx, maxy = shapely.bounds(geoms[rest]).T
        out_of_world[rest] = (minx < -180) | (maxx > 180) | (miny < -90) | (maxy > 90)
    reasons[out_of_world] = "coordinates outside -180..180 longitude / -90..90 latitude"
    return rest & ~out_of_world


_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
               6: "MultiPolygon", 7: "GeometryCollection"}


def _check_types(geoms: np.ndarray, rest: np.ndarray, reasons: np.ndarray, kind: str) -> None:
    """Take out of ``rest`` (in place) the geometries of a type that ``kind`` does not allow."""
    allowed = records.GEOMETRY_TYPES[kind]
    names = np.array([_TYPE_NAMES[t] for t in shapely.get_type_id(geoms[rest])], dtype=object)
    wrong = ~np.isin(names, np.array(allowed, dtype=object))
    idx = np.flatnonzero(rest)[wrong]
    for i, name in zip(idx, names[wrong], strict=True):
        reasons[i] = f"geometry type {name} not allowed for kind {kind}; allowed: {', '.join(allowed)}"
    rest[idx] = False


def _check_distance(geoms: np.ndarray, rest: np.ndarray, reasons: np.ndarray, municipality: Municipality,
                    buffer_m: float) -> np.ndarray:
    """The distance (m) of each geometry of ``rest`` from the municipality (a polygon's from a point on its
    surface); those farther than ``buffer_m`` get their reason."""
    metric = transform_geometries(geoms[rest], schema.CRS_STORE, schema.CRS_METRIC)
    polygonal = np.isin(shapely.get_type_id(metric), [3, 6])
    probe = metric.copy()
    if polygonal.any():
        probe[polygonal] = shapely.point_on_surface(metric[polygonal])
    dist = shapely.distance(probe, municipality.geom_3006)
    far = dist > buffer_m
    idx = np.flatnonzero(rest)[far]
    for i, d in zip(idx, dist[far], strict=True):
        reasons[i] = (f"outside {municipality.name}: {d:,.0f} m from the boundary "
                      f"(allowed {buffer_m:,.0f} m)").replace(",", " ")
    return dist
