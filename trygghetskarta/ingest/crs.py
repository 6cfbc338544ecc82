"""Which coordinate reference system a file's coordinates are really in.

A declared CRS is honoured when the coordinates fit it. Otherwise (undeclared, or declared but
mislabelled) every known input CRS (``schema.KNOWN_INPUT_CRS``), with and without swapped axes, is
tried: a candidate must hold the coordinates inside its valid range, and it *fits* when it puts a
good share of them near the municipality. One fitting candidate wins; none or several leave the
file refused with a message that says what was tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError
from shapely.geometry.base import BaseGeometry

from trygghetskarta import schema
from trygghetskarta.errors import ValidationError

# Where each known CRS's coordinates can plausibly lie (x min, y min, x max, y max), a little
# wider than the EPSG areas of use so that a file straddling a zone edge still passes.
VALID_RANGE: dict[str, tuple[float, float, float, float]] = {
    schema.CRS_STORE: (-180.0, -90.0, 180.0, 90.0),
    schema.CRS_METRIC: (100_000.0, 6_000_000.0, 1_200_000.0, 7_800_000.0),
    schema.CRS_SWEREF_1800: (-250_000.0, 6_000_000.0, 550_000.0, 7_800_000.0),
    schema.CRS_RT90: (1_100_000.0, 6_000_000.0, 2_000_000.0, 7_800_000.0),
    schema.CRS_WEB_MERCATOR: (-20_037_509.0, -20_048_967.0, 20_037_509.0, 20_048_967.0),
}
NEAR_M = 50_000.0  # "near the municipality" for detection (not the import buffer)
FIT_SHARE = 0.1  # share of points that must lie near the municipality for a candidate to fit
# share of points that may lie outside a candidate's valid range while it still holds the file: one mistyped
# coordinate among many good ones is that row's problem (rejected on its own), not the whole file's
OUTLIER_SHARE = 0.1
SAMPLE = 4000


@dataclass(frozen=True)
class Candidate:
    """One CRS tried, with what it made of the sample."""

    crs: str
    swapped: bool
    in_range: bool
    near_share: float
    median_km: float
    outside: int = 0

    @property
    def label(self) -> str:
        return f"{self.crs}{' with swapped axes' if self.swapped else ''}"

    def describe(self, name: str) -> str:
        if not self.in_range:
            return f"{self.label}: coordinates outside its valid range"
        stray = f" ({self.outside} outside its valid range)" if self.outside else ""
        return (f"{self.label}: {self.near_share:.0%} of points within {NEAR_M / 1000:.0f} km of {name}, "
                f"median distance {self.median_km:,.0f} km{stray}")


@dataclass(frozen=True)
class CrsDecision:
    """The CRS to read the coordinates in, whether x and y are swapped, and what was tried."""

    crs: str
    swapped: bool
    note: str
    mislabelled: bool = False


def normalise_crs(value: object) -> str:
    """``"EPSG:3006"`` for 3006, "3006", "epsg:3006", a WKT or a pyproj CRS; ValidationError otherwise."""
    try:
        crs = CRS.from_user_input(int(value) if isinstance(value, str) and value.strip().isdigit() else value)
    except (CRSError, TypeError, ValueError) as exc:
        msg = f"unknown CRS {value!r}: {exc}; give an EPSG code such as 3006 or 4326"
        raise ValidationError(msg) from None
    epsg = crs.to_epsg(min_confidence=70)
    if epsg is not None:
        return f"EPSG:{epsg}"
    return crs.to_wkt()


@cache
def transformer(source: str, target: str) -> Transformer:
    """A cached always-xy transformer."""
    return Transformer.from_crs(source, target, always_xy=True)


def transform_xy(x: npt.ArrayLike, y: npt.ArrayLike, source: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays; points that cannot be transformed become inf."""
    if source == target:
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    tx, ty = transformer(source, target).transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(tx, dtype=float), np.asarray(ty, dtype=float)


def transform_geometries(geoms: np.ndarray, source: str, target: str, *, swapped: bool = False) -> np.ndarray:
    """Transform (and optionally un-swap) an array of shapely geometries, any type; None stays None.

    A coordinate outside the source CRS's ``VALID_RANGE`` cannot be right in that CRS: it becomes NaN (so
    the row it belongs to is rejected by ``validate.check_geometries``) instead of landing somewhere.
    """
    bounds = VALID_RANGE.get(source)

    def _apply(coords: np.ndarray) -> np.ndarray:
        if swapped:
            coords = coords[:, ::-1]
        x, y = np.asarray(coords[:, 0], dtype=float), np.asarray(coords[:, 1], dtype=float)
        if bounds is not None and source != target:
            stray = ~((x >= bounds[0]) & (x <= bounds[2]) & (y >= bounds[1]) & (y <= bounds[3]))
            if stray.any():
                x, y = np.where(stray, np.nan, x), np.where(stray, np.nan, y)
        tx, ty = transform_xy(x, y, source, target)
        return np.column_stack([tx, ty])

    if not swapped and source == target:
        return geoms
    return shapely.transform(geoms, _apply)


def _in_range(x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
    """Per point: inside ``crs``'s valid range."""
    x0, y0, x1, y1 = VALID_RANGE[crs]
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def _mostly(ok: np.ndarray) -> bool:
    """True when all but at most ``OUTLIER_SHARE`` of the points (and at least one) are ``ok``."""
    return bool(ok.any()) and int((~ok).sum()) <= OUTLIER_SHARE * len(ok)


def _evaluate(x: np.ndarray, y: np.ndarray, crs: str, swapped: bool, muni_3006: BaseGeometry) -> Candidate:
    if swapped:
        x, y = y, x
    inside = _in_range(x, y, crs) if crs in VALID_RANGE else np.ones(len(x), dtype=bool)
    if not _mostly(inside):
        return Candidate(crs, swapped, False, 0.0, float("inf"), int((~inside).sum()))
    mx, my = transform_xy(x[inside], y[inside], crs, schema.CRS_METRIC)
    finite = np.isfinite(mx) & np.isfinite(my)
    usable = np.zeros(len(x), dtype=bool)
    usable[np.flatnonzero(inside)[finite]] = True
    if not _mostly(usable):
        return Candidate(crs, swapped, False, 0.0, float("inf"), int((~usable).sum()))
    dist = shapely.distance(shapely.points(mx[finite], my[finite]), muni_3006)
    share = float((dist <= NEAR_M).sum()) / len(x)
    return Candidate(crs, swapped, True, share, float(np.median(dist)) / 1000.0, int((~usable).sum()))


def _usable_crs(declared: str, file: str) -> str:
    """The declared CRS normalised, once PROJ can transform it to the CRSs the import uses; else a
    ValidationError naming the file (a file may declare any CRS definition, including broken ones)."""
    try:
        crs = normalise_crs(declared)
    except ValidationError as exc:
        msg = f"{file}: the file declares an {exc}"
        raise ValidationError(msg) from None
    for target in (schema.CRS_STORE, schema.CRS_METRIC):
        try:
            transformer(crs, target)
        except (ProjError, CRSError) as exc:
            shown = crs if len(crs) <= 80 else crs[:77] + "..."
            msg = (f"{file}: the declared CRS {shown!r} cannot be transformed to {target} ({exc}); "
                   f"give the CRS with --crs")
            raise ValidationError(msg) from None
    return crs


def sample_xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first coordinate of (up to ``SAMPLE``) non-empty geometries, for detection."""
    present = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(present) > SAMPLE:
        present = present[np.linspace(0, len(present) - 1, SAMPLE).astype(int)]
    coords, index = shapely.get_coordinates(present, return_index=True)
    if len(coords) == 0:
        return np.empty(0), np.empty(0)
    _, first = np.unique(index, return_index=True)
    pts = coords[first]
    finite = np.isfinite(pts).all(axis=1)
    return pts[finite, 0], pts[finite, 1]


def detect_crs(
    x: np.ndarray,
    y: np.ndarray,
    *,
    declared: str | None,
    municipality_3006: BaseGeometry,
    municipality_name: str,
    file: str,
    geographic_names: bool = False,
) -> CrsDecision:
    """Decide the CRS of coordinates ``x`` (east/longitude column) and ``y`` (north/latitude column)."""
    declared = _usable_crs(declared, file) if declared else None
    if len(x) == 0:
        return CrsDecision(declared or schema.CRS_STORE, False, "no coordinates to check the CRS against")
    geographic = _mostly((np.abs(x) <= 180) & (np.abs(y) <= 180))
    names = [c for c in schema.KNOWN_INPUT_CRS if not (geographic and c == schema.CRS_WEB_MERCATOR)]
    tried = [_evaluate(x, y, c, s, municipality_3006) for c in names for s in (False, True)]
    fitting = [c for c in tried if c.in_range and c.near_share >= FIT_SHARE]
    if declared is None:
        return _detected(tried, fitting, municipality_name, file, geographic_names=geographic_names)
    if declared not in schema.KNOWN_INPUT_CRS:
        return CrsDecision(declared, False, f"declared {declared} honoured (not one of the CRSs checked for "
                                            f"mislabelling: {', '.join(schema.KNOWN_INPUT_CRS)})")
    own = next(c for c in tried if c.crs == declared and not c.swapped) if declared in names else \
        _evaluate(x, y, declared, False, municipality_3006)
    return _checked_declared(x, y, declared, own, tried, fitting, municipality_name, file)


def _summary(tried: list[Candidate], municipality_name: str) -> str:
    return "; ".join(c.describe(municipality_name) for c in tried)


def _checked_declared(x: np.ndarray, y: np.ndarray, declared: str, own: Candidate, tried: list[Candidate],
                      fitting: list[Candidate], municipality_name: str, file: str) -> CrsDecision:
    """A declared CRS that is one of those checked: honoured when it fits; when exactly one other fits, the file
    is mislabelled and read as that one; several fitting or coordinates outside its range are refused."""
    if own.in_range and own.near_share >= FIT_SHARE:
        return CrsDecision(declared, False, f"declared {declared} honoured; {own.describe(municipality_name)}")
    if len(fitting) == 1:
        best = fitting[0]
        note = (f"declared {declared} does not fit the coordinates ({own.describe(municipality_name)}); "
                f"read as {best.label} instead, which puts {best.near_share:.0%} of points near "
                f"{municipality_name} (tried: {_summary(tried, municipality_name)})")
        return CrsDecision(best.crs, best.swapped, note, mislabelled=True)
    if len(fitting) > 1:
        msg = (f"{file}: CRS is ambiguous: declared {declared} does not fit and several CRSs fit: "
               f"{', '.join(c.label for c in fitting)}; give the right one with --crs. "
               f"Tried: {_summary(tried, municipality_name)}")
        raise ValidationError(msg)
    if own.in_range:
        return CrsDecision(declared, False, f"declared {declared} honoured; no CRS puts the points near "
                                            f"{municipality_name} (tried: {_summary(tried, municipality_name)})")
    stray = np.flatnonzero(~_in_range(x, y, declared)) if declared in VALID_RANGE else np.zeros(1, dtype=int)
    i = int(stray[0]) if len(stray) else 0
    msg = (f"{file}: declared {declared} cannot be right: coordinates such as ({x[i]:.10g}, {y[i]:.10g}) lie "
           f"outside its valid range, and no other CRS puts them near {municipality_name}. "
           f"Tried: {_summary(tried, municipality_name)}. Check the file or give the right CRS with --crs.")
    raise ValidationError(msg)


def _detected(tried: list[Candidate], fitting: list[Candidate], municipality_name: str, file: str, *,
              geographic_names: bool) -> CrsDecision:
    """No CRS declared: the one CRS that puts the points near the kommun; else, when no CRS does, WGS 84 for
    columns named latitude/longitude, or the only CRS whose valid range holds the coordinates."""
    summary = _summary(tried, municipality_name)
    if len(fitting) == 1:
        best = fitting[0]
        return CrsDecision(best.crs, best.swapped, f"no CRS declared; detected {best.label} (tried: {summary})")
    if len(fitting) > 1:
        msg = (f"{file}: CRS is ambiguous: several CRSs put the points near {municipality_name}: "
               f"{', '.join(c.label for c in fitting)}; give the right one with --crs. Tried: {summary}")
        raise ValidationError(msg)
    in_range = [c for c in tried if c.in_range]
    wgs84 = next((c for c in in_range if c.crs == schema.CRS_STORE), None) if geographic_names else None
    if wgs84 is not None:
        note = (f"no CRS declared and no CRS puts the points near {municipality_name}; the column names "
                f"say latitude/longitude, so read as {wgs84.label} (tried: {summary})")
        return CrsDecision(wgs84.crs, wgs84.swapped, note)
    if len(in_range) == 1:
        c = in_range[0]
        return CrsDecision(c.crs, c.swapped, f"no CRS declared; only {c.label} holds the coordinates "
                                             f"(tried: {summary})")
    msg = (f"{file}: cannot tell the CRS: none was declared, no candidate puts the points near "
           f"{municipality_name}, and {len(in_range)} candidates hold the coordinates. Tried: {summary}. "
           f"Give the CRS with --crs.")
    raise ValidationError(msg)
