"""Hot-spot and trend analysis: counts, rates, kernel density, grid/hex counts, Gi*, repeat places, light.

Every function takes (Geo)DataFrames as the store returns them (EPSG:4326, ``lon``/``lat`` or
``geometry``) and computes in SWEREF 99 TM (EPSG:3006). Only records whose location precision is in
``schema.HOTSPOT_PRECISIONS`` enter densities, grids, Gi* and repeat places; every record counts in totals.
"""

from trygghetskarta.analysis._points import (
    aware_times,
    hotspot_frame_from_records,
    hotspot_mask_from_frame,
    hotspot_xy_from_records,
    lonlat_from_frame,
    lonlat_from_metric_xy,
    metric_xy_from_frame,
    metric_xy_from_lonlat,
)
from trygghetskarta.analysis.counts import (
    PERIODS,
    area_counts_from_records,
    area_ids_from_points,
    period_starts_from_times,
    status_over_time,
)
from trygghetskarta.analysis.gistar import (
    GISTAR_CLASS_CODES,
    GISTAR_CLASSES,
    gistar_from_grid_counts,
    gistar_from_records,
    gistar_grid_from_frame,
    gistar_z_from_values,
    queen_weights_from_grid,
)
from trygghetskarta.analysis.grids import (
    Density,
    Grid,
    cells_from_grid,
    counts_from_xy,
    density_from_records,
    density_from_xy,
    grid_counts_from_records,
    grid_from_boundary,
    grid_from_bounds,
    hex_counts_from_records,
)
from trygghetskarta.analysis.repeat import repeat_places_from_records
from trygghetskarta.analysis.sun import (
    DAYLIGHT_ABOVE_DEG,
    TWILIGHT_ABOVE_DEG,
    day_night_from_records,
    light_counts_from_records,
    light_from_elevation,
    light_from_records,
    sun_elevation_from_times,
    weekday_hour_from_records,
)

__all__ = [
    "DAYLIGHT_ABOVE_DEG",
    "GISTAR_CLASSES",
    "GISTAR_CLASS_CODES",
    "PERIODS",
    "TWILIGHT_ABOVE_DEG",
    "Density",
    "Grid",
    "area_counts_from_records",
    "area_ids_from_points",
    "aware_times",
    "cells_from_grid",
    "counts_from_xy",
    "day_night_from_records",
    "density_from_records",
    "density_from_xy",
    "gistar_from_grid_counts",
    "gistar_from_records",
    "gistar_grid_from_frame",
    "gistar_z_from_values",
    "grid_counts_from_records",
    "grid_from_boundary",
    "grid_from_bounds",
    "hex_counts_from_records",
    "hotspot_frame_from_records",
    "hotspot_mask_from_frame",
    "hotspot_xy_from_records",
    "light_counts_from_records",
    "light_from_elevation",
    "light_from_records",
    "lonlat_from_frame",
    "lonlat_from_metric_xy",
    "metric_xy_from_frame",
    "metric_xy_from_lonlat",
    "period_starts_from_times",
    "queen_weights_from_grid",
    "repeat_places_from_records",
    "status_over_time",
    "sun_elevation_from_times",
    "weekday_hour_from_records",
]
