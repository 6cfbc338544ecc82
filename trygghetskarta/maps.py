"""Folium maps of findings, incidents, walks, sightings and hot spots, built in the core for any page or file.

``build_map`` draws what it is given: the caller (page, CLI) has already applied permissions and
store filters; ``filter_frame`` applies the filters a store query cannot (day/night, area by position).
Layers stay light at any size: one marker per point only up to the ``marker_limit`` setting, then
clustered markers up to ``CLUSTER_LIMIT`` points, then counts on cells. Densities and large cell
layers are PNG overlays. Every piece of user text is HTML-escaped (and made inert in JavaScript
template strings) before it reaches the map.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast, overload

import folium
import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import pyproj
import shapely
from branca.element import Figure, MacroElement
from folium.plugins import FastMarkerCluster
from jinja2 import Template
from shapely.geometry.base import BaseGeometry

from trygghetskarta import analysis, i18n, records, schema, settings
from trygghetskarta import areas as areas_rule
from trygghetskarta.errors import ValidationError
from trygghetskarta.i18n import N_
from trygghetskarta.timeutil import timestamp_from_value

CLUSTER_LIMIT = 50_000  # above this many points a layer shows counts on cells instead of clustered markers
MAX_VECTOR_CELLS = 5_000  # above this many cells a cell layer is drawn as an image (PNG), not GeoJSON
COORD_DECIMALS = 5  # ~1 m; more digits only make the HTML bigger
LAYER_KEYS: tuple[str, ...] = ("areas", "findings", "incidents", "walks", "sightings", "heat", "grid", "hex",
                               "gistar", "choropleth", "emerging")
DEFAULT_LAYERS: tuple[str, ...] = ("areas", "findings", "incidents", "walks", "sightings", "heat", "gistar")
BASEMAPS: tuple[str, ...] = ("osm", "custom", "none")
LIGHT_FILTERS: tuple[str, ...] = ("dag", "natt")

# Leaflet.awesome-markers palette, so that legend swatches match the marker colours.
MARKER_HEX: dict[str, str] = {
    "red": "#d63e2a", "darkred": "#a23336", "lightred": "#ff8e7f", "orange": "#f69730", "beige": "#ffcb92",
    "green": "#72b026", "darkgreen": "#728224", "lightgreen": "#bbf970", "blue": "#38aadd", "darkblue": "#0067a3",
    "lightblue": "#8adaff", "purple": "#d252b9", "darkpurple": "#5b396b", "pink": "#ff91ea", "cadetblue": "#436978",
    "white": "#fbfbfb", "gray": "#575757", "lightgray": "#a3a3a3", "black": "#303030",
}
SOURCE_COLORS: dict[str, str] = {
    "polisen_api": "darkblue", "polis": "blue", "upplands_brohus": "orange", "bostadsbolag": "beige",
    "kommun": "green", "raddningstjanst": "red", "ovrigt": "gray",
}
SIGHTING_COLORS: dict[str, str] = {
    "samling_unga": "blue", "otrygg_samling": "orange", "narkotika": "darkpurple", "buskorning": "cadetblue",
    "skadegorelse": "darkred", "konflikt": "red", "positiv": "green", "ovrigt": "gray",
}
GISTAR_COLORS: dict[str, str] = {
    "het_99": "#b2182b", "het_95": "#ef8a62", "het_90": "#fddbc7",
    "kall_90": "#d1e5f0", "kall_95": "#67a9cf", "kall_99": "#2166ac",
}
# Emerging hot-spot classes (#17), warm for what is getting worse or new, paler for what is fading.
EMERGING_COLORS: dict[str, str] = {
    "ny": "#fb6a4a", "sammanhangande": "#ef3b2c", "intensifierande": "#67000d", "bestaende": "#a50f15",
    "avtagande": "#fcbba1", "sporadisk": "#fd8d3c", "oscillerande": "#8c6bb1", "historisk": "#bdbdbd",
}
COUNT_COLORS: tuple[str, ...] = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
WALK_COLOR = "#6a3d9a"

# The map's texts are in the catalogues (``trygghetskarta/locale``) as ``map_<key>``; listed here for extraction.
_TEXT_IDS: tuple[str, ...] = (
    N_("map_boundary"), N_("map_areas"), N_("map_findings"), N_("map_incidents"), N_("map_sightings"),
    N_("map_walks"), N_("map_heat"), N_("map_grid"), N_("map_hex"), N_("map_gistar"), N_("map_gistar_fdr"),
    N_("map_choropleth"), N_("map_emerging"), N_("map_legend"), N_("map_count"), N_("map_most_common"),
    N_("map_per_1000"), N_("map_kommun_only"), N_("map_aggregated"), N_("map_clustered"), N_("map_description"),
    N_("map_severity"), N_("map_source"), N_("map_group_size"), N_("map_age_band"), N_("map_low"), N_("map_high"),
    N_("map_hot"),
)

_GROUP_COLUMN = {"finding": "category", "incident": "source", "sighting": "type"}
_GROUP_VOCAB = {"finding": "category", "incident": "incident_source", "sighting": "sighting_type"}
_KIND_OF_ARG = {"findings": "finding", "incidents": "incident", "sightings": "sighting", "walks": "walk"}


def _t(key: str, lang: str, **values: object) -> str:
    return i18n.gettext(f"map_{key}", lang, **values)


def _text(value: object) -> str:
    """User text made safe for HTML and for the JavaScript template strings folium wraps popups in."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return (html.escape(str(value), quote=True)
            .replace("$", "&#36;").replace("`", "&#96;").replace("\\", "&#92;"))


def _safe_image_url(value: object) -> str | None:
    """The thumbnail URL when it is an image data-URI or an http(s)/relative URL; anything else is dropped."""
    if not isinstance(value, str) or not value:
        return None
    lowered = value.strip().lower()
    if lowered.startswith(("data:image/png", "data:image/jpeg", "data:image/webp", "data:image/gif",
                           "https://", "http://", "/")):
        return value.strip()
    return None


# --- filters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapFilters:
    """What to show: period (``end`` inclusive for a date, exclusive for a datetime), vocabulary keys,
    ``light`` ("dag" = daylight, "natt" = twilight or dark, from the sun at the place and time) and areas."""

    start: dt.date | dt.datetime | None = None
    end: dt.date | dt.datetime | None = None
    categories: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    light: str | None = None
    area_ids: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        for name, vocabulary, what in (("categories", "category", "category"),
                                       ("sources", "incident_source", "source"), ("statuses", "status", "status")):
            for key in getattr(self, name) or ():
                schema.require_key(vocabulary, key, what=what)
        allowed_types = set(schema.keys("incident_type")) | set(schema.keys("sighting_type"))
        for key in self.types or ():
            if key not in allowed_types:
                msg = f"unknown type {key!r}; allowed: {', '.join(sorted(allowed_types))}"
                raise ValidationError(msg)
        if self.light not in (None, *LIGHT_FILTERS):
            msg = f"light must be 'dag', 'natt' or None, got {self.light!r}"
            raise ValidationError(msg)
        if (self.start is not None and self.end is not None
                and timestamp_from_value(self.start) > timestamp_from_value(self.end)):
            msg = f"the period's start ({self.start}) is after its end ({self.end})"
            raise ValidationError(msg)


def filter_frame(df: pd.DataFrame, kind: str, filters: MapFilters | None,
                 areas: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """The rows of ``df`` (records of ``kind``) that pass ``filters``.

    Area filters use the positions when ``areas`` is given (records with only a municipality position are
    then in no area), else the records' ``area_id``. Filters on columns the kind does not have are ignored.
    """
    if not isinstance(df, pd.DataFrame):
        msg = f"records must be a (Geo)DataFrame, got {type(df).__name__}"
        raise ValidationError(msg)
    if kind not in records.KINDS:
        msg = f"unknown kind {kind!r}; allowed: {', '.join(records.KINDS)}"
        raise ValidationError(msg)
    if filters is None:
        return df
    if not isinstance(filters, MapFilters):
        msg = f"filters must be a MapFilters, got {type(filters).__name__}"
        raise ValidationError(msg)
    keep = np.ones(len(df), dtype=bool)
    time_name = records.TIME_FIELD.get(kind)
    if time_name:
        keep &= _period_mask(df, "time" if "time" in df.columns else time_name, filters)
    for name, column in (("categories", "category"), ("types", "type"), ("sources", "source"),
                         ("statuses", "status")):
        wanted = getattr(filters, name)
        if wanted is not None and column in df.columns:
            keep &= df[column].isin(wanted).to_numpy(dtype=bool)
    if filters.area_ids is not None:
        keep &= _area_mask(df, filters.area_ids, areas)
    return df.loc[keep]


def _period_mask(df: pd.DataFrame, time_column: str, filters: MapFilters) -> np.ndarray:
    """The rows within the period and of the light (daylight, dark) that ``filters`` ask for."""
    keep = np.ones(len(df), dtype=bool)
    if filters.start is not None or filters.end is not None:
        times = analysis.aware_times(df, time_column)
        if filters.start is not None:
            keep &= (times >= timestamp_from_value(filters.start)).fillna(False).to_numpy(dtype=bool)
        if filters.end is not None:
            keep &= (times < timestamp_from_value(filters.end, end=True)).fillna(False).to_numpy(dtype=bool)
    if filters.light is not None:
        light = analysis.day_night_from_records(df, time_column)
        keep &= (light == filters.light).fillna(False).to_numpy(dtype=bool)
    return keep


def _area_mask(df: pd.DataFrame, area_ids: tuple[Any, ...], areas: gpd.GeoDataFrame | None) -> np.ndarray:
    """The rows in one of ``area_ids``.

    One rule (trygghetskarta.areas): a record is in an area when its smallest area is one of its members.
    """
    if "area_id" in df.columns:
        area_id = df["area_id"]
    elif areas is not None:
        area_id = analysis.area_ids_from_points(df, areas)
    else:
        msg = "an area filter needs the areas (areas=...) or an 'area_id' column"
        raise ValidationError(msg)
    wanted = areas_rule.nesting(areas).expand(area_ids) if areas is not None else list(area_ids)
    return pd.to_numeric(area_id, errors="coerce").isin(wanted).fillna(False).to_numpy(dtype=bool)


# --- geometry helpers --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _mercator_to_metric() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(3857, schema.SRID_METRIC, always_xy=True)


@lru_cache(maxsize=1)
def _store_to_mercator() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(schema.SRID_STORE, 3857, always_xy=True)


@overload
def _geoseries_4326(value: None, what: str) -> None: ...
@overload
def _geoseries_4326(value: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry, what: str) -> gpd.GeoSeries: ...
@overload
def _geoseries_4326(value: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | None, what: str) -> gpd.GeoSeries | None:
    ...
def _geoseries_4326(value: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | None, what: str) -> gpd.GeoSeries | None:
    if value is None:
        return None
    if isinstance(value, BaseGeometry):
        return gpd.GeoSeries([value], crs=schema.CRS_STORE)
    if isinstance(value, gpd.GeoDataFrame | gpd.GeoSeries):
        series = value.geometry if isinstance(value, gpd.GeoDataFrame) else value
        return series.set_crs(schema.CRS_STORE) if series.crs is None else series.to_crs(schema.CRS_STORE)
    msg = f"{what} must be a GeoDataFrame, GeoSeries or shapely geometry, got {type(value).__name__}"
    raise ValidationError(msg)


def _rounded_geojson(geoms: gpd.GeoSeries) -> dict[str, Any]:
    rounded = shapely.set_precision(geoms.to_numpy(), 10.0**-COORD_DECIMALS)
    return json.loads(gpd.GeoSeries(rounded, crs=schema.CRS_STORE).to_json(drop_id=True))


def _cell_features(grid: analysis.Grid, rows: np.ndarray, cols: np.ndarray,
                   properties: list[dict[str, Any]]) -> dict[str, Any]:
    """GeoJSON squares (EPSG:4326, rounded) for grid cells; corners are projected, so cells stay true squares."""
    x0 = grid.x0 + cols * grid.cell_m
    y0 = grid.y0 + rows * grid.cell_m
    xs = np.stack([x0, x0 + grid.cell_m, x0 + grid.cell_m, x0, x0], axis=1)
    ys = np.stack([y0, y0, y0 + grid.cell_m, y0 + grid.cell_m, y0], axis=1)
    lon, lat = analysis.lonlat_from_metric_xy(xs.ravel(), ys.ravel())
    ring = np.stack([np.round(lon, COORD_DECIMALS), np.round(lat, COORD_DECIMALS)], axis=1).reshape(len(rows), 5, 2)
    features = [{"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [r]}}
                for r, props in zip(ring.tolist(), properties, strict=True)]
    return {"type": "FeatureCollection", "features": features}


def _raster_overlay(values: np.ndarray, grid: analysis.Grid, rgba: np.ndarray, name: str,
                    max_side: int = 1024) -> folium.raster_layers.ImageOverlay:
    """An image of per-cell colours ``rgba`` (``(ny, nx, 4)`` uint8), resampled from EPSG:3006 to Web Mercator.

    Resampling matters: SWEREF 99 TM is rotated ~2° against Web Mercator here, ~0.8 km over the municipality.
    """
    minx, miny, maxx, maxy = grid.bounds
    corner_x = np.array([minx, maxx, maxx, minx])
    corner_y = np.array([miny, miny, maxy, maxy])
    lon, lat = analysis.lonlat_from_metric_xy(corner_x, corner_y)
    mx, my = _store_to_mercator().transform(lon, lat)
    scale = max(grid.nx, grid.ny) / max_side
    width = max(int(np.ceil(grid.nx / max(scale, 1.0))), 1)
    height = max(int(np.ceil(grid.ny / max(scale, 1.0))), 1)
    px = np.min(mx) + (np.arange(width) + 0.5) * (np.max(mx) - np.min(mx)) / width
    py = np.max(my) - (np.arange(height) + 0.5) * (np.max(my) - np.min(my)) / height  # row 0 is north
    gx, gy = np.meshgrid(px, py)
    sx, sy = _mercator_to_metric().transform(gx.ravel(), gy.ravel())
    col = np.floor((np.asarray(sx) - grid.x0) / grid.cell_m).astype(np.int64)
    row = np.floor((np.asarray(sy) - grid.y0) / grid.cell_m).astype(np.int64)
    inside = (col >= 0) & (col < grid.nx) & (row >= 0) & (row < grid.ny)
    image = np.zeros((width * height, 4), dtype=np.uint8)
    image[inside] = rgba[row[inside], col[inside]]
    lon_b, lat_b = pyproj.Transformer.from_crs(3857, 4326, always_xy=True).transform(
        [np.min(mx), np.max(mx)], [np.min(my), np.max(my)])
    return folium.raster_layers.ImageOverlay(
        image=image.reshape(height, width, 4), bounds=[[lat_b[0], lon_b[0]], [lat_b[1], lon_b[1]]],
        mercator_project=False, name=name, opacity=0.75, interactive=False)


# --- layers ------------------------------------------------------------------------------------------


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only (Folium's ``control_scale`` adds miles and feet)."""

    _template = Template("{% macro script(this, kwargs) %}"
                         "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
                         "{% endmacro %}")


def _base_map(basemap: str | None, bounds: tuple[float, float, float, float]) -> folium.Map:
    choice = basemap or settings.get("basemap")
    if choice not in BASEMAPS:
        msg = f"unknown basemap {choice!r}; allowed: {', '.join(BASEMAPS)}"
        raise ValidationError(msg)
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=11, tiles=None,
                   prefer_canvas=True)
    _MetricScale().add_to(m)
    if choice == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(m)
    elif choice == "custom":
        url = settings.get("tiles_url")
        if not url or not all(part in url for part in ("{z}", "{x}", "{y}")):
            msg = ("basemap 'custom' needs TRYGGHETSKARTA_TILES_URL with {z}, {x} and {y}, "
                   f"got {url!r}")
            raise ValidationError(msg)
        attribution = _text(settings.get("tiles_attribution")) or "&nbsp;"
        folium.TileLayer(tiles=url, attr=attribution, name="Bakgrundskarta").add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _add_areas(m: folium.Map, boundary: gpd.GeoSeries | None, areas: gpd.GeoDataFrame | None, lang: str) -> None:
    if boundary is not None:
        folium.GeoJson(_rounded_geojson(boundary), name=_t("boundary", lang),
                       style_function=lambda _: {"color": "#333333", "weight": 2, "fill": False}).add_to(m)
    if areas is None or areas.empty:
        return
    group = folium.FeatureGroup(name=_t("areas", lang))
    geoms = _geoseries_4326(areas, "areas")
    names = areas["name"] if "name" in areas.columns else pd.Series("", index=areas.index)
    data = _rounded_geojson(geoms)
    localities = areas["locality"] if "locality" in areas.columns else pd.Series(None, index=areas.index)
    for feature, name, locality in zip(data["features"], names, localities, strict=True):
        feature["properties"] = {"name": _text(name), "locality": _text(schema.label("locality", locality, lang))}
    folium.GeoJson(data, style_function=lambda _: {"color": "#1f78b4", "weight": 1, "fillOpacity": 0.05},
                   tooltip=folium.GeoJsonTooltip(fields=["name", "locality"], labels=False)).add_to(group)
    points = geoms.representative_point()
    for point, name in zip(points, names, strict=True):
        if point is None or point.is_empty:
            continue
        folium.Marker([point.y, point.x], icon=folium.DivIcon(
            html=f'<div class="tk-area-label" style="font:600 11px sans-serif;color:#1f4e79;'
                 f'white-space:nowrap;text-shadow:0 0 3px #fff">{_text(name)}</div>')).add_to(group)
    group.add_to(m)


def _format_time(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(settings.get("timezone"))
        return stamp.strftime("%Y-%m-%d %H:%M")
    return stamp.strftime("%Y-%m-%d")


def _popup_html(kind: str, row: dict[str, Any], lang: str) -> str:
    if kind == "finding":
        lines = [f"<b>{_text(schema.label('category', row.get('category'), lang))}</b>",
                 _text(schema.label("status", row.get("status"), lang)),
                 _text(_format_time(row.get("reported_at", row.get("time"))))]
        if row.get("severity") is not None and not pd.isna(row.get("severity")):
            lines.append(f"{_t('severity', lang)}: {_text(schema.label('severity', str(row['severity']), lang))}")
    elif kind == "incident":
        lines = [f"<b>{_text(schema.label('incident_type', row.get('type'), lang))}</b>",
                 f"{_t('source', lang)}: {_text(schema.label('incident_source', row.get('source'), lang))}",
                 _text(_format_time(row.get("occurred_at", row.get("time")))), _text(row.get("title"))]
    else:
        lines = [f"<b>{_text(schema.label('sighting_type', row.get('type'), lang))}</b>",
                 _text(_format_time(row.get("observed_at", row.get("time"))))]
        if row.get("group_size"):
            lines.append(f"{_t('group_size', lang)}: {_text(schema.label('group_size', row['group_size'], lang))}")
        if row.get("age_band"):
            lines.append(f"{_t('age_band', lang)}: {_text(schema.label('age_band', row['age_band'], lang))}")
    description = _text(row.get("description"))
    if description:
        lines.append(f'<span class="tk-description">{description}</span>')
    url = _safe_image_url(row.get("thumb_url") or row.get("thumbnail"))
    if url:
        lines.append(f'<img class="tk-thumb" src="{_text(url)}" alt="" style="max-width:180px;max-height:180px">')
    return "<br>".join(line for line in lines if line)


def _style_of(kind: str, key: object) -> tuple[str, str]:
    """(folium marker colour, Font Awesome icon) of a group key."""
    if kind == "finding":
        category = schema.CATEGORY.get(str(key))
        return (category.color, category.icon) if isinstance(category, schema.Category) else ("gray", "circle")
    if kind == "incident":
        return SOURCE_COLORS.get(str(key), "gray"), "exclamation-triangle"
    return SIGHTING_COLORS.get(str(key), "gray"), "users"


def _add_point_layer(m: folium.Map, frame: pd.DataFrame, kind: str, lang: str,
                     legend: list[tuple[str, str]], grid_cell_m: float) -> None:
    what = _t(f"{kind}s", lang)
    group_column = _GROUP_COLUMN[kind]
    vocab = _GROUP_VOCAB[kind]
    if kind == "incident":
        precise = analysis.hotspot_mask_from_frame(frame)
        coarse = frame.loc[~precise]
        frame = frame.loc[precise]
        if len(coarse):
            lon, lat = analysis.lonlat_from_frame(coarse)
            ok = np.isfinite(lon) & np.isfinite(lat)
            if ok.any():
                # One marker for all of them: a centroid says nothing about where in the municipality.
                text = _t("kommun_only", lang, n=len(coarse))
                group = folium.FeatureGroup(name=f"{what}: {text}").add_to(m)
                folium.Marker([float(np.mean(lat[ok])), float(np.mean(lon[ok]))], tooltip=_text(text), title=text,
                              icon=folium.Icon(color="gray", icon="info", prefix="fa")).add_to(group)
    lon, lat = analysis.lonlat_from_frame(frame)
    positioned = np.isfinite(lon) & np.isfinite(lat)
    frame, lon, lat = frame.loc[positioned], lon[positioned], lat[positioned]
    n = len(frame)
    if n == 0:
        return
    keys = frame[group_column].astype(object).fillna("ovrigt").to_numpy() if group_column in frame.columns \
        else np.full(n, "ovrigt", dtype=object)
    codes, uniques = pd.factorize(keys, sort=True)
    for key in uniques:
        color, _ = _style_of(kind, key)
        legend.append((MARKER_HEX.get(color, color), f"{what}: {schema.label(vocab, key, lang)}"))
    if n <= settings.get("marker_limit"):
        lookup = frame.reset_index(drop=True)
        for code, key in enumerate(uniques):
            color, icon = _style_of(kind, key)
            label = schema.label(vocab, key, lang)
            group = folium.FeatureGroup(name=_t("clustered", lang, what=what, label=label))
            for i in np.nonzero(codes == code)[0]:
                row = lookup.iloc[i].to_dict()
                # ``title`` names the marker, a keyboard-focusable button, for a screen reader (WCAG 4.1.2)
                folium.Marker([round(float(lat[i]), COORD_DECIMALS), round(float(lon[i]), COORD_DECIMALS)],
                              icon=folium.Icon(color=color, icon=icon, prefix="fa"), title=label,
                              popup=folium.Popup(_popup_html(kind, row, lang), max_width=260)).add_to(group)
            group.add_to(m)
    elif n <= CLUSTER_LIMIT:
        lat_r = np.round(lat, COORD_DECIMALS)
        lon_r = np.round(lon, COORD_DECIMALS)
        for code, key in enumerate(uniques):
            color, icon = _style_of(kind, key)
            label = schema.label(vocab, key, lang)
            chosen = codes == code
            data = np.column_stack([lat_r[chosen], lon_r[chosen]]).tolist()
            callback = ("function (row) { var marker = L.marker(new L.LatLng(row[0], row[1]), "
                        f"{{title: {json.dumps(label)}, icon: "
                        f"L.AwesomeMarkers.icon({{icon: {json.dumps(icon)}, markerColor: {json.dumps(color)}, "
                        f"prefix: 'fa'}})}}); marker.bindTooltip({json.dumps(_text(label))}); return marker; }}")
            FastMarkerCluster(data, callback=callback, name=_t("clustered", lang, what=what, label=label)).add_to(m)
    else:
        _add_aggregated_points(m, lon, lat, codes, uniques, kind, lang, grid_cell_m)


def _add_aggregated_points(m: folium.Map, lon: np.ndarray, lat: np.ndarray, codes: np.ndarray,
                           uniques: np.ndarray, kind: str, lang: str, grid_cell_m: float) -> None:
    """Counts per cell (grown until at most ``MAX_VECTOR_CELLS`` cells are occupied) with the commonest group."""
    x, y = analysis.metric_xy_from_lonlat(lon, lat)
    cell = float(grid_cell_m)
    while True:
        grid = analysis.grid_from_bounds((np.nanmin(x), np.nanmin(y), np.nanmax(x), np.nanmax(y)), cell)
        index = grid.cell_index(x, y)
        occupied = np.unique(index[index >= 0])
        if occupied.size <= MAX_VECTOR_CELLS:
            break
        cell *= 2
    slot = np.searchsorted(occupied, index)
    n_groups = len(uniques)
    per_group = np.bincount(slot * n_groups + codes, minlength=occupied.size * n_groups).reshape(-1, n_groups)
    totals = per_group.sum(axis=1)
    commonest = per_group.argmax(axis=1)
    breaks = np.quantile(totals, [0.2, 0.4, 0.6, 0.8]) if totals.size else np.zeros(4)
    colour_class = np.searchsorted(breaks, totals, side="left")
    vocab = _GROUP_VOCAB[kind]
    what = _t(f"{kind}s", lang)
    properties = [{"n": int(t), "tip": _text(f"{_t('count', lang)}: {int(t)} · {_t('most_common', lang)}: "
                                             f"{schema.label(vocab, uniques[c], lang)}"),
                   "fill": COUNT_COLORS[min(int(k), 4)]}
                  for t, c, k in zip(totals.tolist(), commonest.tolist(), colour_class.tolist(), strict=True)]
    rows, cols = np.divmod(occupied, grid.nx)
    data = _cell_features(grid, rows, cols, properties)
    folium.GeoJson(data, name=_t("aggregated", lang, what=what, cell=f"{cell:g}"),
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555555",
                                             "weight": 0.3, "fillOpacity": 0.7},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)


def _add_walks(m: folium.Map, walks: gpd.GeoDataFrame, lang: str) -> None:
    if not isinstance(walks, gpd.GeoDataFrame) or walks.empty:
        return
    routed = walks.loc[walks.geometry.notna() & ~walks.geometry.is_empty]
    if routed.empty:
        return
    data = _rounded_geojson(_geoseries_4326(routed, "walks"))
    for feature, (_, row) in zip(data["features"], routed.iterrows(), strict=True):
        title = _text(row.get("title"))
        when = _text(_format_time(row.get("started_at")))
        light = _text(schema.label("light", row.get("light"), lang)) if row.get("light") else ""
        feature["properties"] = {"tip": " · ".join(p for p in (title, when, light) if p)}
    folium.GeoJson(data, name=_t("walks", lang),
                   style_function=lambda _: {"color": WALK_COLOR, "weight": 4, "opacity": 0.8},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)


def _count_rgba(values: np.ndarray, cmap_name: str = "YlOrRd") -> np.ndarray:
    peak = float(np.nanmax(values)) if values.size and np.isfinite(values).any() else 0.0
    scaled = np.zeros(values.shape) if peak <= 0 else np.nan_to_num(values / peak)
    rgba = (mpl.colormaps[cmap_name](scaled) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(scaled > 0.02, (80 + 175 * np.sqrt(scaled)).astype(np.uint8), 0)
    return rgba


def _add_heat(m: folium.Map, x: np.ndarray, y: np.ndarray, lang: str, legend: list[tuple[str, str]]) -> None:
    if x.size == 0:
        return
    density = analysis.density_from_xy(x, y, cell_m=50.0, bandwidth_m=200.0)
    _raster_overlay(density.values, density.grid, _count_rgba(density.values), _t("heat", lang)).add_to(m)
    legend.append(("linear-gradient(90deg,#ffffb2,#fd8d3c,#bd0026)",
                   f"{_t('heat', lang)}: {_t('low', lang)} → {_t('high', lang)}"))


def _add_grid(m: folium.Map, counts: np.ndarray, grid: analysis.Grid, lang: str) -> None:
    name = _t("grid", lang, cell=f"{grid.cell_m:g}")
    occupied = (counts > 0) & grid.active
    if occupied.sum() > MAX_VECTOR_CELLS:
        shown = np.where(grid.active, counts, 0).astype(float)
        _raster_overlay(shown, grid, _count_rgba(shown), name).add_to(m)
        return
    rows, cols = np.nonzero(occupied)
    values = counts[rows, cols]
    breaks = np.quantile(values, [0.2, 0.4, 0.6, 0.8]) if values.size else np.zeros(4)
    classes = np.searchsorted(breaks, values, side="left")
    properties = [{"tip": f"{_t('count', lang)}: {int(v)}", "fill": COUNT_COLORS[min(int(k), 4)]}
                  for v, k in zip(values.tolist(), classes.tolist(), strict=True)]
    folium.GeoJson(_cell_features(grid, rows, cols, properties), name=name, show=False,
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555555",
                                             "weight": 0.3, "fillOpacity": 0.6},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)


def _add_hex(m: folium.Map, frames: list[pd.DataFrame], lang: str) -> None:
    joined = pd.concat([pd.DataFrame({"lon": lo, "lat": la}) for lo, la in
                        (analysis.lonlat_from_frame(analysis.hotspot_frame_from_records(f)) for f in frames)],
                       ignore_index=True) if frames else pd.DataFrame({"lon": [], "lat": []})
    if joined.empty:
        return
    hexes = analysis.hex_counts_from_records(joined, resolution=9)
    data = _rounded_geojson(hexes.geometry)
    breaks = np.quantile(hexes["count"], [0.2, 0.4, 0.6, 0.8])
    for feature, count in zip(data["features"], hexes["count"].tolist(), strict=True):
        feature["properties"] = {"tip": f"{_t('count', lang)}: {count}",
                                 "fill": COUNT_COLORS[min(int(np.searchsorted(breaks, count)), 4)]}
    folium.GeoJson(data, name=_t("hex", lang), show=False,
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555555",
                                             "weight": 0.3, "fillOpacity": 0.6},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)


def _add_gistar(m: folium.Map, counts: np.ndarray, grid: analysis.Grid, lang: str, fdr: bool,
                legend: list[tuple[str, str]]) -> None:
    result = analysis.gistar_from_grid_counts(counts, grid, fdr=fdr)
    significant = result.loc[result["code"] != 0]
    name = _t("gistar_fdr" if fdr else "gistar", lang)
    labels = {t.key: t.label(lang) for t in analysis.GISTAR_CLASSES}
    for key in significant["gistar"].unique():
        legend.append((GISTAR_COLORS[key], f"Gi*: {labels[key]}"))
    if len(significant) > MAX_VECTOR_CELLS:
        classes = analysis.gistar_grid_from_frame(result, grid, "code")
        rgba = np.zeros((*grid.shape, 4), dtype=np.uint8)
        for key, code in analysis.GISTAR_CLASS_CODES.items():
            if code:
                colour = mpl.colors.to_rgba_array(GISTAR_COLORS[key])[0] * 255
                rgba[classes == code] = (*colour[:3].astype(np.uint8), 190)
        _raster_overlay(classes, grid, rgba, name).add_to(m)
        return
    properties = [{"tip": _text(f"{labels[k]} · z = {z:.2f} · p = {p:.3g} · {_t('count', lang)}: {c}"),
                   "fill": GISTAR_COLORS[k]}
                  for k, z, p, c in zip(significant["gistar"], significant["z"], significant["p"],
                                        significant["count"], strict=True)]
    data = _cell_features(grid, significant["row"].to_numpy(), significant["col"].to_numpy(), properties)
    folium.GeoJson(data, name=name,
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": f["properties"]["fill"],
                                             "weight": 0.5, "fillOpacity": 0.65},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)


def _add_choropleth(m: folium.Map, areas: gpd.GeoDataFrame, frames: list[pd.DataFrame], lang: str) -> None:
    if areas is None or areas.empty or not frames:
        return
    # counts per smallest area, rolled up so a locality holds its neighbourhoods (trygghetskarta.areas)
    ids = pd.concat([analysis.area_ids_from_points(f, areas) for f in frames], ignore_index=True).dropna()
    smallest = ids.astype("int64").value_counts()
    counts = areas_rule.nesting(areas).roll_up(smallest).reindex(areas["id"].astype(int), fill_value=0).to_numpy()
    population = pd.to_numeric(areas.get("population", pd.Series(np.nan, index=areas.index)), errors="coerce")
    use_rate = bool((population > 0).all())
    values = counts / population.to_numpy() * 1000 if use_rate else counts.astype(float)
    breaks = np.quantile(values, [0.2, 0.4, 0.6, 0.8])
    data = _rounded_geojson(_geoseries_4326(areas, "areas"))
    for feature, name, count, value in zip(data["features"], areas["name"], counts.tolist(), values.tolist(),
                                           strict=True):
        tip = f"{name}: {count}" + (f" ({value:.1f} {_t('per_1000', lang)})" if use_rate else "")
        feature["properties"] = {"tip": _text(tip),
                                 "fill": COUNT_COLORS[min(int(np.searchsorted(breaks, value)), 4)]}
    folium.GeoJson(data, name=_t("choropleth", lang) + (f" ({_t('per_1000', lang)})" if use_rate else ""), show=False,
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#333333",
                                             "weight": 1, "fillOpacity": 0.6},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)


def _add_emerging(m: folium.Map, cells: gpd.GeoDataFrame, lang: str, legend: list[tuple[str, str]]) -> None:
    """Emerging hot-spot cells (``hotspot_service.emerging``: polygons with ``emerging``, ``label``)."""
    if cells is None or cells.empty:
        return
    data = _rounded_geojson(_geoseries_4326(cells, "emerging"))
    for feature, key, label, total, hot in zip(data["features"], cells["emerging"], cells["label"], cells["total"],
                                               cells["hot_periods"], strict=True):
        feature["properties"] = {"tip": _text(f"{label} · {_t('count', lang)}: {total} · {_t('hot', lang)}: {hot}"),
                                 "fill": EMERGING_COLORS.get(str(key), "#999999")}
        legend.append((EMERGING_COLORS.get(str(key), "#999999"), str(label)))
    folium.GeoJson(data, name=_t("emerging", lang),
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#333333",
                                             "weight": 0.6, "fillOpacity": 0.65},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)


def _declare_language(m: folium.Map, lang: str) -> None:
    """The map document's language (folium writes ``<html>`` without one; WCAG 3.1.1)."""
    script = f"<script>document.documentElement.lang = {json.dumps(lang)};</script>"
    cast(Figure, m.get_root()).header.add_child(folium.Element(script))


def _add_legend(m: folium.Map, entries: list[tuple[str, str]], lang: str) -> None:
    seen: set[tuple[str, str]] = set()
    items = []
    for swatch, label in entries:
        if (swatch, label) in seen:
            continue
        seen.add((swatch, label))
        items.append(f'<div class="tk-legend-item"><span style="display:inline-block;width:12px;height:12px;'
                     f'margin-right:4px;vertical-align:middle;border:1px solid #666;background:{html.escape(swatch)}">'
                     f"</span>{_text(label)}</div>")
    # A region that scrolls is focusable, so a keyboard can scroll it (WCAG 2.1.1)
    legend = (f'<div id="tk-legend" class="tk-legend" tabindex="0" role="region" '
              f'aria-label="{_text(_t("legend", lang))}" style="position:fixed;bottom:24px;left:12px;z-index:1000;'
              f"background:rgba(255,255,255,.92);padding:6px 8px;font:12px sans-serif;max-height:45%;"
              f'overflow:auto;border-radius:4px;box-shadow:0 0 4px rgba(0,0,0,.3)">'
              f"<b>{_text(_t('legend', lang))}</b>{''.join(items)}</div>")
    cast(Figure, m.get_root()).html.add_child(folium.Element(legend))  # a Map's root is its Figure


# --- entry points ------------------------------------------------------------------------------------


def _check_frame(value: object, name: str) -> pd.DataFrame | None:
    if value is None:
        return None
    if not isinstance(value, pd.DataFrame):
        msg = f"{name} must be a (Geo)DataFrame as the store returns, got {type(value).__name__}"
        raise ValidationError(msg)
    return value


def _check_options(layers: Sequence[str], lang: str, grid_cell_m: float) -> None:
    """Refuse an unknown language or layer and a grid cell outside 10-5000 m."""
    if lang not in schema.LANGUAGES:
        msg = f"unknown language {lang!r}; allowed: {', '.join(schema.LANGUAGES)}"
        raise ValidationError(msg)
    unknown = [key for key in layers if key not in LAYER_KEYS]
    if unknown:
        msg = f"unknown layer(s) {', '.join(map(str, unknown))}; allowed: {', '.join(LAYER_KEYS)}"
        raise ValidationError(msg)
    if not isinstance(grid_cell_m, int | float) or not 10 <= grid_cell_m <= 5000:
        msg = f"grid_cell_m must be between 10 and 5000 metres, got {grid_cell_m!r}"
        raise ValidationError(msg)


def _add_analysis_layers(m: folium.Map, layers: Sequence[str], analysed: list[pd.DataFrame], extent: gpd.GeoSeries,
                         areas: gpd.GeoDataFrame | None, grid_cell_m: float, fdr: bool, lang: str,
                         legend: list[tuple[str, str]]) -> None:
    """The density, grid, Gi*, hexagon and choropleth layers over the ``analysed`` frames' precise positions."""
    x_parts, y_parts = zip(*(analysis.hotspot_xy_from_records(f) for f in analysed), strict=True) \
        if analysed else ((np.empty(0),), (np.empty(0),))
    x, y = np.concatenate(x_parts), np.concatenate(y_parts)
    if "heat" in layers:
        _add_heat(m, x, y, lang, legend)
    if ("grid" in layers or "gistar" in layers) and x.size:
        grid = analysis.grid_from_boundary(extent, grid_cell_m)
        counts = analysis.counts_from_xy(x, y, grid)
        if "grid" in layers:
            _add_grid(m, counts, grid, lang)
        if "gistar" in layers:
            _add_gistar(m, counts, grid, lang, fdr, legend)
    if "hex" in layers:
        _add_hex(m, analysed, lang)
    if "choropleth" in layers:
        _add_choropleth(m, areas, analysed, lang)


def build_map(*, municipality: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | None,
              areas: gpd.GeoDataFrame | None, findings: pd.DataFrame | None = None,
              incidents: pd.DataFrame | None = None, walks: gpd.GeoDataFrame | None = None,
              sightings: pd.DataFrame | None = None, layers: Sequence[str] = DEFAULT_LAYERS, lang: str = "sv",
              basemap: str | None = None, grid_cell_m: float = 100.0,
              analysis_of: Sequence[str] = ("findings", "incidents"), fdr: bool = False,
              emerging: gpd.GeoDataFrame | None = None) -> folium.Map:
    """A map with a layer control and a legend of what it is given (EPSG:4326 frames as the store returns).

    ``layers`` picks from ``LAYER_KEYS``; a data layer appears when its data is given. Density, grid, hex,
    Gi* and choropleth layers analyse the frames named in ``analysis_of`` (precise positions only);
    Gi* uses a ``grid_cell_m`` grid over the municipality (``fdr`` for false-discovery-rate classes).
    ``basemap`` overrides the ``basemap`` setting (osm, custom, none).
    """
    _check_options(layers, lang, grid_cell_m)
    checked = {name: _check_frame(value, name) for name, value in
               (("findings", findings), ("incidents", incidents), ("walks", walks), ("sightings", sightings))}
    data = {name: frame for name, frame in checked.items() if frame is not None}
    bad = [name for name in analysis_of if name not in ("findings", "incidents", "sightings")]
    if bad:
        msg = f"analysis_of may name findings, incidents, sightings; got {', '.join(bad)}"
        raise ValidationError(msg)
    boundary = _geoseries_4326(municipality, "municipality")
    if areas is not None and not isinstance(areas, gpd.GeoDataFrame):
        msg = f"areas must be a GeoDataFrame, got {type(areas).__name__}"
        raise ValidationError(msg)
    extent = boundary if boundary is not None else _geoseries_4326(areas, "areas")
    if extent is None or extent.empty:
        msg = "the map needs a municipality boundary or areas to frame it"
        raise ValidationError(msg)

    m = _base_map(basemap, tuple(extent.total_bounds))
    _declare_language(m, lang)
    legend: list[tuple[str, str]] = []
    if "areas" in layers:
        _add_areas(m, boundary, areas, lang)
    analysed = [data[name] for name in analysis_of if name in data and len(data[name])]
    _add_analysis_layers(m, layers, analysed, extent, areas, grid_cell_m, fdr, lang, legend)
    if "emerging" in layers and emerging is not None:
        _add_emerging(m, emerging, lang, legend)
    if "walks" in layers and "walks" in data:
        _add_walks(m, data["walks"], lang)
        legend.append((WALK_COLOR, _t("walks", lang)))
    for name in ("findings", "incidents", "sightings"):
        if name in layers and name in data and len(data[name]):
            _add_point_layer(m, data[name], _KIND_OF_ARG[name], lang, legend, grid_cell_m)
    _add_legend(m, legend, lang)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def map_html(m: folium.Map) -> str:
    """The map as one standalone HTML document (what ``trygghetskarta map --out`` writes)."""
    if not isinstance(m, folium.Map):
        msg = f"expected a folium.Map, got {type(m).__name__}"
        raise ValidationError(msg)
    return m.get_root().render()
