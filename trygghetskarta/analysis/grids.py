"""Metric grids in EPSG:3006: square-grid counts, binned kernel density and H3 hexagon counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from trygghetskarta import schema
from trygghetskarta.analysis._points import (
    hotspot_frame_from_records,
    hotspot_xy_from_records,
    lonlat_from_frame,
    require_frame,
)
from trygghetskarta.errors import ValidationError

MAX_GRID_CELLS = 8_000_000  # ~64 MB of float64; a far-off mis-geocoded point must not allocate gigabytes


@dataclass(frozen=True, eq=False)
class Grid:
    """A square grid in EPSG:3006: lower-left corner ``(x0, y0)``, ``nx`` columns, ``ny`` rows.

    Row 0 is the southernmost row. ``mask`` (shape ``(ny, nx)``) marks the cells of the study area;
    ``None`` means every cell.
    """

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    mask: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ny, self.nx)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x0 + self.nx * self.cell_m, self.y0 + self.ny * self.cell_m)

    @property
    def active(self) -> np.ndarray:
        """Boolean ``(ny, nx)`` array of the cells in the study area."""
        return np.ones(self.shape, dtype=bool) if self.mask is None else self.mask

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates as two ``(ny, nx)`` arrays."""
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell_m
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys)

    def cell_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat (row-major) cell index per point; -1 for points outside the grid or without a position."""
        col = np.floor((np.asarray(x, dtype=float) - self.x0) / self.cell_m)
        row = np.floor((np.asarray(y, dtype=float) - self.y0) / self.cell_m)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)  # NaN compares False
        index = np.full(col.shape, -1, dtype=np.int64)
        index[inside] = row[inside].astype(np.int64) * self.nx + col[inside].astype(np.int64)
        return index


def _check_cell(cell_m: float, what: str = "cell_m") -> float:
    if not isinstance(cell_m, int | float) or not np.isfinite(cell_m) or cell_m <= 0:
        msg = f"{what} must be a positive number of metres, got {cell_m!r}"
        raise ValidationError(msg)
    return float(cell_m)


def grid_from_bounds(bounds: tuple[float, float, float, float], cell_m: float = 100.0) -> Grid:
    """A grid covering ``bounds`` (minx, miny, maxx, maxy in EPSG:3006), snapped to multiples of ``cell_m``.

    Snapping keeps cells identical between calls, so counts of different periods are comparable.
    """
    cell_m = _check_cell(cell_m)
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not all(np.isfinite([minx, miny, maxx, maxy])) or maxx < minx or maxy < miny:
        msg = f"bounds must be finite (minx, miny, maxx, maxy) with min <= max, got {bounds!r}"
        raise ValidationError(msg)
    x0 = np.floor(minx / cell_m) * cell_m
    y0 = np.floor(miny / cell_m) * cell_m
    nx = max(int(np.floor((maxx - x0) / cell_m)) + 1, 1)
    ny = max(int(np.floor((maxy - y0) / cell_m)) + 1, 1)
    if nx * ny > MAX_GRID_CELLS:
        msg = (f"a {cell_m:g} m grid over {maxx - minx:.0f} x {maxy - miny:.0f} m has {nx * ny:,} cells "
               f"(limit {MAX_GRID_CELLS:,}); use larger cells or drop points far outside the municipality")
        raise ValidationError(msg)
    return Grid(float(x0), float(y0), cell_m, nx, ny)


def _metric_geometry(boundary: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry) -> BaseGeometry:
    if isinstance(boundary, BaseGeometry):
        series = gpd.GeoSeries([boundary], crs=schema.CRS_STORE)
    elif isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        series = boundary.geometry if isinstance(boundary, gpd.GeoDataFrame) else boundary
        if series.crs is None:
            series = series.set_crs(schema.CRS_STORE)
    else:
        msg = f"boundary must be a GeoDataFrame, GeoSeries or shapely geometry, got {type(boundary).__name__}"
        raise ValidationError(msg)
    if series.empty or series.is_empty.all():
        msg = "boundary is empty"
        raise ValidationError(msg)
    return shapely.union_all(series.to_crs(schema.CRS_METRIC).to_numpy())


def grid_from_boundary(boundary: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry, cell_m: float = 100.0) -> Grid:
    """A grid over a boundary (EPSG:4326 unless the frame says otherwise); the mask keeps cells touching it."""
    cell_m = _check_cell(cell_m)
    geom = _metric_geometry(boundary)
    grid = grid_from_bounds(geom.bounds, cell_m)
    cx, cy = grid.centres()
    # A cell touches the boundary when its centre lies within half a cell diagonal of it.
    reach = geom.buffer(cell_m * np.sqrt(0.5), quad_segs=2)
    shapely.prepare(reach)
    mask = shapely.intersects_xy(reach, cx.ravel(), cy.ravel()).reshape(grid.shape)
    return Grid(grid.x0, grid.y0, grid.cell_m, grid.nx, grid.ny, mask)


def counts_from_xy(x: np.ndarray, y: np.ndarray, grid: Grid) -> np.ndarray:
    """Points per cell as an ``(ny, nx)`` int64 array; points outside the grid are not counted."""
    index = grid.cell_index(x, y)
    index = index[index >= 0]
    return np.bincount(index, minlength=grid.nx * grid.ny).reshape(grid.shape)


def grid_counts_from_records(records: pd.DataFrame, grid: Grid) -> np.ndarray:
    """Counts per grid cell of the records precise enough for hot spots (``schema.HOTSPOT_PRECISIONS``)."""
    require_frame(records)
    if not isinstance(grid, Grid):
        msg = f"grid must be a Grid (see grid_from_boundary), got {type(grid).__name__}"
        raise ValidationError(msg)
    x, y = hotspot_xy_from_records(records)
    return counts_from_xy(x, y, grid)


def cells_from_grid(grid: Grid, values: Mapping[str, np.ndarray] | None = None,
                    where: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """The cells as square polygons (EPSG:3006) with ``row``, ``col`` and one column per ``values`` array.

    Only cells in the study area (and where ``where`` is True) are returned.
    """
    keep = grid.active.copy()
    if where is not None:
        where = np.asarray(where, dtype=bool)
        if where.shape != grid.shape:
            msg = f"where has shape {where.shape}, the grid {grid.shape}"
            raise ValidationError(msg)
        keep &= where
    rows, cols = np.nonzero(keep)
    minx = grid.x0 + cols * grid.cell_m
    miny = grid.y0 + rows * grid.cell_m
    data: dict[str, np.ndarray] = {"row": rows, "col": cols}
    for name, given in (values or {}).items():
        array = np.asarray(given)
        if array.shape != grid.shape:
            msg = f"values[{name!r}] has shape {array.shape}, the grid {grid.shape}"
            raise ValidationError(msg)
        data[name] = array[rows, cols]
    geometry = shapely.box(minx, miny, minx + grid.cell_m, miny + grid.cell_m)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=schema.CRS_METRIC)


@dataclass(frozen=True, eq=False)
class Density:
    """A kernel-density surface: ``values`` (``(ny, nx)``) in expected points per km² on ``grid``."""

    grid: Grid
    values: np.ndarray
    bandwidth_m: float
    n: int


def density_from_xy(x: np.ndarray, y: np.ndarray, *, cell_m: float = 50.0, bandwidth_m: float = 200.0,
                    grid: Grid | None = None) -> Density:
    """Gaussian kernel density (standard deviation ``bandwidth_m``) by binning and a Gaussian filter.

    Equivalent to an exact isotropic Gaussian KDE up to the binning error (cells should be at most
    half the bandwidth). Without ``grid`` the grid covers the points plus four bandwidths.
    """
    bandwidth_m = _check_cell(bandwidth_m, "bandwidth_m")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if grid is None:
        cell_m = _check_cell(cell_m)
        if x.size == 0:
            msg = "no positioned points to estimate a density from; pass grid= to get an empty surface"
            raise ValidationError(msg)
        pad = 4 * bandwidth_m
        grid = grid_from_bounds((x.min() - pad, y.min() - pad, x.max() + pad, y.max() + pad), cell_m)
    counts = counts_from_xy(x, y, grid).astype(float)
    smoothed = ndimage.gaussian_filter(counts, sigma=bandwidth_m / grid.cell_m, mode="constant", truncate=4.0)
    values = smoothed / (grid.cell_m / 1000.0) ** 2
    return Density(grid=grid, values=values, bandwidth_m=bandwidth_m, n=int(x.size))


def density_from_records(records: pd.DataFrame, *, cell_m: float = 50.0, bandwidth_m: float = 200.0,
                         grid: Grid | None = None) -> Density:
    """Kernel density of the records precise enough for hot spots; see ``density_from_xy``."""
    require_frame(records)
    x, y = hotspot_xy_from_records(records)
    return density_from_xy(x, y, cell_m=cell_m, bandwidth_m=bandwidth_m, grid=grid)


def hex_counts_from_records(records: pd.DataFrame, resolution: int = 9) -> gpd.GeoDataFrame:
    """Counts per H3 hexagon (``resolution`` 0–15; 9 is ~0.1 km²) as polygons in EPSG:4326.

    Only records precise enough for hot spots are counted.
    """
    require_frame(records)
    if not isinstance(resolution, int) or not 0 <= resolution <= 15:
        msg = f"H3 resolution must be an integer 0-15, got {resolution!r}"
        raise ValidationError(msg)
    eligible = hotspot_frame_from_records(records)
    lon, lat = lonlat_from_frame(eligible)
    # h3 has no array API; one call per point (~1 µs).
    cells = pd.Series([h3.latlng_to_cell(b, a, resolution) for a, b in zip(lon.tolist(), lat.tolist(), strict=True)],
                      dtype=object)
    counts = cells.value_counts(sort=False)
    polygons = [shapely.Polygon([(lng, la) for la, lng in h3.cell_to_boundary(c)]) for c in counts.index]
    return gpd.GeoDataFrame({"h3": counts.index.astype(str), "count": counts.to_numpy(dtype=np.int64)},
                            geometry=polygons, crs=schema.CRS_STORE)
