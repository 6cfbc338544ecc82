"""Repeat places: the same spot reported again on different walks or in different months."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from trygghetskarta import schema
from trygghetskarta.analysis._points import (
    aware_times,
    hotspot_frame_from_records,
    local_timezone,
    lonlat_from_metric_xy,
    metric_xy_from_frame,
    require_frame,
)
from trygghetskarta.errors import ValidationError

OCCASIONS: tuple[str, ...] = ("walk", "month")
_COLUMNS = ["place_id", "group", "n_reports", "n_occasions", "first_at", "last_at", "spread_m", "record_ids"]


def repeat_places_from_records(records: pd.DataFrame, *, radius_m: float = 25.0, by: str | None = "category",
                               occasion: str = "walk", min_occasions: int = 2, time_col: str | None = None,
                               tz: str | None = None) -> gpd.GeoDataFrame:
    """Places reported on at least ``min_occasions`` different occasions, per ``by`` group (e.g. category).

    Reports of the same group closer than ``radius_m`` (metres, EPSG:3006) are linked, and linked
    reports form one place (single linkage, so a place can be longer than the radius along a chain).
    An occasion is a walk (``walk_id``; reports outside a walk count by their local month) or a month.
    Only precisely positioned records take part. One row per place, largest first, with a point
    geometry (mean position, EPSG:4326), ``spread_m`` (farthest report from it) and ``record_ids``.
    """
    require_frame(records)
    if not np.isfinite(radius_m) or radius_m <= 0:
        msg = f"radius_m must be a positive number of metres, got {radius_m!r}"
        raise ValidationError(msg)
    if occasion not in OCCASIONS:
        msg = f"unknown occasion {occasion!r}; allowed: {', '.join(OCCASIONS)}"
        raise ValidationError(msg)
    if not isinstance(min_occasions, int) or min_occasions < 1:
        msg = f"min_occasions must be a positive integer, got {min_occasions!r}"
        raise ValidationError(msg)
    if by is not None and by not in records.columns:
        msg = f"group column {by!r} not in the records; pass by=None to ignore groups"
        raise ValidationError(msg)
    eligible = hotspot_frame_from_records(records)
    times = aware_times(eligible, time_col)
    x, y = metric_xy_from_frame(eligible)
    month = times.dt.tz_convert(local_timezone(tz)).dt.strftime("%Y-%m").astype(object).to_numpy()
    if occasion == "walk" and "walk_id" in eligible.columns:
        walk = eligible["walk_id"].astype(object)
        occasions = np.where(walk.notna(), "walk:" + walk.astype(str), "month:" + pd.Series(month).astype(str))
    else:
        occasions = month
    groups = eligible[by].astype(object).to_numpy() if by is not None else np.full(len(eligible), None, dtype=object)
    ids = (eligible["id"] if "id" in eligible.columns else pd.Series(eligible.index)).astype(str).to_numpy()
    time_values = times.to_numpy()

    places = []
    for group in pd.unique(groups):
        members = np.nonzero(groups == group)[0] if group is not None else np.arange(len(groups))
        if members.size < min_occasions:
            continue
        tree = cKDTree(np.column_stack([x[members], y[members]]))
        pairs = tree.query_pairs(radius_m, output_type="ndarray")
        graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                                  shape=(members.size, members.size))
        n_components, labels = csgraph.connected_components(graph, directed=False)
        sizes = np.bincount(labels, minlength=n_components)
        for label in np.nonzero(sizes >= min_occasions)[0]:
            rows = members[labels == label]
            n_occasions = len(set(occasions[rows]))
            if n_occasions < min_occasions:
                continue
            cx, cy = x[rows].mean(), y[rows].mean()
            places.append({
                "group": group, "n_reports": int(rows.size), "n_occasions": n_occasions,
                "first_at": time_values[rows].min(), "last_at": time_values[rows].max(),
                "spread_m": float(np.hypot(x[rows] - cx, y[rows] - cy).max()),
                "record_ids": sorted(ids[rows].tolist()), "x": cx, "y": cy,
            })
    if not places:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in _COLUMNS}, geometry=gpd.GeoSeries([]),
                                crs=schema.CRS_STORE)
    frame = pd.DataFrame(places).sort_values(["n_occasions", "n_reports"], ascending=False, ignore_index=True)
    frame.insert(0, "place_id", np.arange(1, len(frame) + 1))
    lon, lat = lonlat_from_metric_xy(frame.pop("x").to_numpy(), frame.pop("y").to_numpy())
    return gpd.GeoDataFrame(frame[_COLUMNS], geometry=gpd.points_from_xy(lon, lat), crs=schema.CRS_STORE)
