"""The planners' map from the store: what a viewer may see, filtered, as a ``folium.Map`` or one HTML file.

The Karta page and ``trygghetskarta map --out`` both call ``map_from_store``, so the mailed file shows
exactly what the page shows for the same filters and role.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import folium
import numpy as np
import pandas as pd

from trygghetskarta import access, analysis, geography, maps, settings
from trygghetskarta.access import Viewer
from trygghetskarta.maps import MapFilters
from trygghetskarta.store import Store

_STORE_FILTERS = {"finding": ("categories", "statuses"), "incident": ("types", "sources"),
                  "sighting": ("types",)}


def _store_filters(kind: str, filters: MapFilters) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in _STORE_FILTERS[kind]:
        value = getattr(filters, name)
        if value is not None:
            out[name] = list(value)
    return out


def frame_for_map(store: Store, kind: str, viewer: Viewer | None, filters: MapFilters) -> pd.DataFrame | None:
    """The records of ``kind`` for the map, or None when the viewer may not see their positions.

    Below the marker limit the full records (popups need descriptions); above it the light frame.
    """
    if access.policy(viewer, kind).mode in ("none", "aggregate"):
        return None
    where = _store_filters(kind, filters)
    light = store.points(kind, viewer, filters.start, filters.end, **where)
    if len(light) <= settings.get("marker_limit"):
        full = store.read(kind, viewer, filters.start, filters.end, **where)
        return maps.filter_frame(full, kind, _rest(filters))
    return maps.filter_frame(light, kind, _rest(filters))


def _rest(filters: MapFilters) -> MapFilters:
    """The filters the store has not applied already (day/night and area)."""
    return MapFilters(light=filters.light, area_ids=filters.area_ids)


def map_from_store(store: Store, viewer: Viewer | None = None, filters: MapFilters | None = None, *,
                   lang: str = "sv", basemap: str | None = None, layers: Sequence[str] = maps.DEFAULT_LAYERS,
                   grid_cell_m: float = 100.0, fdr: bool = False) -> folium.Map:
    """The map a viewer may see for ``filters`` (municipality, areas, findings, incidents, walks, sightings)."""
    filters = filters or MapFilters()
    frames = {kind: frame_for_map(store, kind, viewer, filters) for kind in ("finding", "incident", "sighting")}
    walks = store.read("walk", viewer, filters.start, filters.end)
    return maps.build_map(
        municipality=geography.municipality(), areas=store.areas(), findings=frames["finding"],
        incidents=frames["incident"], sightings=frames["sighting"], walks=walks, layers=layers, lang=lang,
        basemap=basemap, grid_cell_m=grid_cell_m, fdr=fdr)


@lru_cache(maxsize=1)
def _assets() -> dict[str, str]:
    """URL -> content of the JavaScript/CSS libraries folium links to (from the folium-offline package)."""
    from offlinefolium import elements

    return dict(elements._res)  # the package's asset table is the data we depend on (version pinned)


_SCRIPT = re.compile(r'<script src="(https?://[^"]+)"></script>')
_LINK = re.compile(r'<link rel="stylesheet" href="(https?://[^"]+)"/>')


def offline_html(html: str) -> str:
    """The map document with its script and stylesheet links replaced by the libraries themselves, so it
    works with no network (a mailed file, an offline laptop, the tests). Only base-map tiles stay remote;
    with ``basemap=none`` nothing does. Links without a bundled copy are left as they are."""
    assets = _assets()

    def script(m: re.Match[str]) -> str:
        body = assets.get(m.group(1))
        return m.group(0) if body is None else "<script>" + body.replace("</script", "<\\/script") + "</script>"

    def style(m: re.Match[str]) -> str:
        body = assets.get(m.group(1))
        return m.group(0) if body is None else "<style>" + body.replace("</style", "<\\/style") + "</style>"

    return _LINK.sub(style, _SCRIPT.sub(script, html))


def write_map_html(store: Store, out: Path, *, viewer: Viewer | None = None, start: dt.date | None = None,
                   end: dt.date | None = None, categories: Sequence[str] | None = None, lang: str = "sv") -> Path:
    """Write the map as one standalone HTML file a planner can mail; logged as an export."""
    filters = MapFilters(start=start, end=end, categories=tuple(categories) if categories else None)
    html = offline_html(maps.map_html(map_from_store(store, viewer, filters, lang=lang)))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    store.audit("export", viewer, "map", None, {"file": out.name, "from": str(start or ""), "to": str(end or ""),
                                                 "categories": list(categories or [])})
    return out


def gistar_from_store(store: Store, kind: str = "finding", viewer: Viewer | None = None, *, cell_m: float = 100.0,
                      start: dt.date | None = None, end: dt.date | None = None, fdr: bool = False) -> pd.DataFrame:
    """Gi* hot and cold spots on a grid over the municipality, from counts aggregated by the store
    (in SQL on PostGIS), without pulling every record."""
    grid = analysis.grid_from_boundary(geography.municipality(), cell_m)
    cells = store.grid_counts(kind, cell_m, viewer, start, end)
    counts = np.zeros(grid.shape, dtype=float)
    col = cells["ix"].to_numpy() - round(grid.x0 / cell_m)
    row = cells["iy"].to_numpy() - round(grid.y0 / cell_m)
    inside = (col >= 0) & (col < grid.nx) & (row >= 0) & (row < grid.ny)
    counts[row[inside], col[inside]] = cells["count"].to_numpy()[inside]
    return analysis.gistar_from_grid_counts(counts, grid, fdr=fdr)
