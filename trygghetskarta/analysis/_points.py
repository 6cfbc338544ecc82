"""Shared helpers: coordinates out of record frames, projection to EPSG:3006, precision and time columns."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from trygghetskarta import geography, records, schema, settings
from trygghetskarta.errors import ValidationError

# The one lon/lat <-> SWEREF 99 TM projection (``geography``), under the names the analysis uses.
metric_xy_from_lonlat = geography.metric_from_lonlat
lonlat_from_metric_xy = geography.lonlat_from_metric


def require_frame(df: object, what: str = "records") -> pd.DataFrame:
    """Raise a ValidationError unless ``df`` is a DataFrame."""
    if not isinstance(df, pd.DataFrame):
        msg = f"{what} must be a (Geo)DataFrame, got {type(df).__name__}"
        raise ValidationError(msg)
    return df


def lonlat_from_frame(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude (WGS 84) per row: the ``lon``/``lat`` columns, else a point of the geometry.

    Rows without a position give NaN. A GeoDataFrame in another CRS is reprojected.
    """
    require_frame(df)
    if "lon" in df.columns and "lat" in df.columns:
        return (pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
                pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        geoms = df.geometry
        if geoms.crs is not None and not geoms.crs.equals(schema.CRS_STORE):
            geoms = geoms.to_crs(schema.CRS_STORE)
        values = geoms.to_numpy()
        is_point = shapely.get_type_id(values) == 0
        if not is_point.all():
            # A line (a dark stretch of path) is represented by a point on it.
            values = np.where(is_point, values, shapely.point_on_surface(values))
        lon = shapely.get_x(values)
        lat = shapely.get_y(values)
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    msg = "records need either a 'geometry' column (GeoDataFrame in EPSG:4326) or 'lon' and 'lat' columns"
    raise ValidationError(msg)


def metric_xy_from_frame(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """SWEREF 99 TM coordinates (metres) per row; NaN where a row has no position."""
    lon, lat = lonlat_from_frame(df)
    return metric_xy_from_lonlat(lon, lat)


def hotspot_mask_from_frame(df: pd.DataFrame) -> np.ndarray:
    """True for rows whose location precision may enter hot-spot analysis (``schema.HOTSPOT_PRECISIONS``).

    Rows without a ``precision`` column or value take the field default (exact), as the store does.
    """
    require_frame(df)
    if "precision" not in df.columns:
        return np.ones(len(df), dtype=bool)
    precision = df["precision"].astype("object").where(df["precision"].notna(), "exakt")
    return precision.isin(schema.HOTSPOT_PRECISIONS).to_numpy(dtype=bool)


def hotspot_frame_from_records(df: pd.DataFrame) -> pd.DataFrame:
    """The rows that may enter KDE, grids, Gi* and repeat places (precise enough and positioned)."""
    require_frame(df)
    lon, lat = lonlat_from_frame(df)
    keep = hotspot_mask_from_frame(df) & np.isfinite(lon) & np.isfinite(lat)
    return df.loc[keep]


def hotspot_xy_from_records(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Metric coordinates of the rows that may enter hot-spot analysis."""
    require_frame(df)
    lon, lat = lonlat_from_frame(df)
    keep = hotspot_mask_from_frame(df) & np.isfinite(lon) & np.isfinite(lat)
    return metric_xy_from_lonlat(lon[keep], lat[keep])


def time_column(df: pd.DataFrame, time_col: str | None = None) -> str:
    """The name of the time column: ``time_col``, else ``time`` (store.points), else the kind's time field."""
    require_frame(df)
    if time_col is not None:
        if time_col not in df.columns:
            msg = f"time column {time_col!r} not in the records; columns: {', '.join(map(str, df.columns))}"
            raise ValidationError(msg)
        return time_col
    candidates = ["time", *[f for f in records.TIME_FIELD.values() if f]]
    for name in candidates:
        if name in df.columns:
            return name
    msg = f"no time column found; pass time_col= (looked for {', '.join(candidates)})"
    raise ValidationError(msg)


def aware_times(df: pd.DataFrame, time_col: str | None = None) -> pd.Series:
    """The time column as tz-aware UTC timestamps; raises on naive times (their zone is unknown)."""
    name = time_column(df, time_col)
    values = df[name]
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_dtype(values.dtype):
            msg = f"times in {name!r} are not timezone-aware; localise them (e.g. to UTC) first"
            raise ValidationError(msg)
        try:
            values = pd.to_datetime(values, utc=True)
        except (ValueError, TypeError) as exc:
            msg = f"column {name!r} does not hold times: {exc}"
            raise ValidationError(msg) from None
    return values.dt.tz_convert("UTC")


def local_timezone(tz: str | None = None) -> str:
    """The zone for day/week boundaries: ``tz``, else the ``timezone`` setting."""
    return tz or settings.get("timezone")
