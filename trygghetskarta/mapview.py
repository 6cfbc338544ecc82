"""The planners' map from the store: what a viewer may see, filtered, as a ``folium.Map`` or one HTML file.

The Karta page and ``trygghetskarta map --out`` both call ``map_from_store``, so the mailed file shows
exactly what the page shows for the same filters and role.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd

from trygghetskarta import access, analysis, geography, maps, privacy, settings
from trygghetskarta import areas as areas_rule
from trygghetskarta.access import Viewer
from trygghetskarta.maps import MapFilters
from trygghetskarta.store import Store

_STORE_FILTERS = {"finding": ("categories", "statuses", "area_ids"), "incident": ("types", "sources", "area_ids"),
                  "sighting": ("types", "area_ids")}


def _store_filters(kind: str, filters: MapFilters) -> dict[str, Any]:
    """The store's filter keywords (``categories=[...]``, ...): the store takes them as ``**filters: Any``."""
    out: dict[str, Any] = {}
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
    """The filter the store has not applied already (day/night)."""
    return MapFilters(light=filters.light)


def _with_member_areas(store: Store, filters: MapFilters) -> MapFilters:
    """The area filter widened to every area inside the chosen ones (``trygghetskarta.areas``: a record is in
    an area when its smallest area is one of the area's members), so the store can filter on ``area_id``."""
    if not filters.area_ids:
        return filters
    wanted = areas_rule.nesting(store.areas()).expand(int(a) for a in filters.area_ids)
    return dataclasses.replace(filters, area_ids=tuple(wanted))


@dataclass(frozen=True)
class MapData:
    """What a viewer may see on the map for some filters; None for a kind whose positions they may not see.

    ``sighting_areas``: for a viewer who may see field sightings only as totals (partners), the published
    area sums (``privacy.sighting_area_totals``) over ``sighting_window``'s whole ISO weeks; else None.
    """

    findings: pd.DataFrame | None
    incidents: pd.DataFrame | None
    sightings: pd.DataFrame | None
    walks: pd.DataFrame | None
    sighting_areas: pd.DataFrame | None = None
    sighting_window: privacy.PublicationWindow | None = None

    def notes(self, lang: str = "sv") -> list[str]:
        """What to say next to the sighting totals: the publication rule and a widened period."""
        if self.sighting_window is None:
            return []
        w = self.sighting_window
        return privacy.restricted_notes(w.requested_start, w.requested_end, lang=lang)

    @property
    def sizes(self) -> dict[str, int]:
        """Rows per point layer (for the page's caption and the choice of markers, clusters or cells)."""
        return {name: 0 if frame is None else len(frame) for name, frame in
                (("findings", self.findings), ("incidents", self.incidents), ("sightings", self.sightings))}


def map_data(store: Store, viewer: Viewer | None = None, filters: MapFilters | None = None) -> MapData:
    """The records for the map, permission-filtered in the store and then by day/night and area."""
    filters = _with_member_areas(store, filters or MapFilters())
    frames = {kind: frame_for_map(store, kind, viewer, filters) for kind in ("finding", "incident", "sighting")}
    walks = None
    if access.policy(viewer, "walk").mode not in ("none", "aggregate"):
        walks = maps.filter_frame(store.read("walk", viewer, filters.start, filters.end), "walk",
                                  MapFilters(area_ids=filters.area_ids))
    areas, window = None, None
    if access.policy(viewer, "sighting").mode == "aggregate":
        window = privacy.publication_periods(filters.start, filters.end)
        areas = privacy.sighting_area_totals(store, viewer, filters.start, filters.end,
                                             types=list(filters.types) if filters.types else None)
        if filters.area_ids:
            chosen = {str(a) for a in filters.area_ids}
            areas = areas[areas["area_id"].astype(str).isin(chosen)].reset_index(drop=True)
    return MapData(frames["finding"], frames["incident"], frames["sighting"], walks, areas, window)


def map_from_store(store: Store, viewer: Viewer | None = None, filters: MapFilters | None = None, *,
                   lang: str = "sv", basemap: str | None = None, layers: Sequence[str] = maps.DEFAULT_LAYERS,
                   grid_cell_m: float = 100.0, fdr: bool = False) -> folium.Map:
    """The map a viewer may see for ``filters`` (municipality, areas, findings, incidents, walks, sightings)."""
    return map_for(map_data(store, viewer, filters), store.areas(), lang=lang, basemap=basemap, layers=layers,
                   grid_cell_m=grid_cell_m, fdr=fdr)


def map_for(data: MapData, areas: pd.DataFrame, *, lang: str = "sv", basemap: str | None = None,
            layers: Sequence[str] = maps.DEFAULT_LAYERS, grid_cell_m: float = 100.0, fdr: bool = False,
            emerging: pd.DataFrame | None = None) -> folium.Map:
    """The folium map of ``data`` over the municipality and ``areas`` (the page calls this on cached data);
    ``emerging``: the emerging hot-spot cells (``hotspot_service.emerging``) for the "emerging" layer."""
    return maps.build_map(
        municipality=geography.municipality(), areas=areas, findings=data.findings, incidents=data.incidents,
        sightings=data.sightings, walks=data.walks, layers=layers, lang=lang, basemap=basemap,
        grid_cell_m=grid_cell_m, fdr=fdr, emerging=emerging)


@lru_cache(maxsize=1)
def bundled_assets() -> dict[str, str]:
    """URL -> content of the JavaScript/CSS libraries folium links to (from the folium-offline package)."""
    from offlinefolium import elements

    return dict(elements._res)  # the package's asset table is the data we depend on (version pinned)


def asset_elements(m: folium.Map) -> Iterator[Any]:
    """Every element of the map that links JavaScript or CSS libraries (``default_js`` / ``default_css``)."""
    seen: set[int] = set()
    stack: list[Any] = [m]
    while stack:
        element = stack.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        if getattr(element, "default_js", None) or getattr(element, "default_css", None):
            yield element
        stack.extend(getattr(element, "_children", {}).values())


def relink_assets(m: folium.Map, local_url: Callable[[str, str], str | None]) -> folium.Map:
    """Point the map's library links at ``local_url(url, "js" | "css")`` (None keeps the link), per element,
    so a server can hand out the bundled copies instead of a CDN. Returns ``m``."""
    for element in asset_elements(m):
        for attr, kind in (("default_js", "js"), ("default_css", "css")):
            links = getattr(element, attr, None) or []
            setattr(element, attr, [(name, local_url(url, kind) or url) for name, url in links])
    return m


_SCRIPT = re.compile(r'<script src="(https?://[^"]+)"></script>')
_LINK = re.compile(r'<link rel="stylesheet" href="(https?://[^"]+)"/>')


def offline_html(html: str) -> str:
    """The map document with its script and stylesheet links replaced by the libraries themselves, so it
    works with no network (a mailed file, an offline laptop, the tests). Only base-map tiles stay remote;
    with ``basemap=none`` nothing does. Links without a bundled copy are left as they are."""
    assets = bundled_assets()

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
