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
# Partner incidents and field sightings have their own colours, none shared with the finding categories (the
# marker palette above) or with each other (tests/test_maps.py checks it, with a minimum perceptual distance),
# and their own shapes: findings are pins, incidents squares, sightings diamonds.
SOURCE_COLORS: dict[str, str] = {
    "polisen_api": "#9c9ede", "polis": "#8e82fe", "upplands_brohus": "#b59410", "bostadsbolag": "#a88f59",
    "kommun": "#0f9b8e", "raddningstjanst": "#fb5581", "ovrigt": "#789b73",
}
SIGHTING_COLORS: dict[str, str] = {
    "samling_unga": "#04d8b2", "otrygg_samling": "#7f5112", "narkotika": "#751973", "buskorning": "#0a5f38",
    "skadegorelse": "#960056", "konflikt": "#ae7181", "positiv": "#31a354", "ovrigt": "#b9cc81",
}
POINT_SHAPES: dict[str, str] = {"finding": "pin", "incident": "square", "sighting": "diamond"}
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
LEGEND_OPEN_FROM_PX = 640  # the legend starts folded on a narrower map (a phone), open on a wider one
GISTAR_ON_TOP_BELOW_ZOOM = 14  # Gi* cells lie above the markers until street level, then below them
GISTAR_PANE = "tk-gistar"
SUB_AREA_LABELS_FROM_ZOOM = 13  # names of areas inside another area show from this zoom (no pile of labels)

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


@dataclass(frozen=True)
class LegendItem:
    """One line of the legend: the layer it belongs to (its group heading), a CSS colour (or gradient), the
    label and the swatch's shape (``pin`` finding, ``square`` incident, ``diamond`` sighting, ``circle``, ``line``,
    ``box``)."""

    group: str
    colour: str
    label: str
    shape: str = "box"


def layer_palettes() -> dict[str, dict[str, str]]:
    """The colour (hex) of every key of every layer that has colours per key, as the map and its legend draw
    them: findings by category, incidents by source, sightings by type, Gi* and emerging classes, walks."""
    return {
        "findings": {c.key: MARKER_HEX[c.color] for c in schema.CATEGORIES},
        "incidents": dict(SOURCE_COLORS), "sightings": dict(SIGHTING_COLORS),
        "gistar": dict(GISTAR_COLORS), "emerging": dict(EMERGING_COLORS), "walks": {"walk": WALK_COLOR},
    }


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
                    max_side: int = 1024, pane: str | None = None) -> folium.raster_layers.ImageOverlay:
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
    overlay = folium.raster_layers.ImageOverlay(
        image=image.reshape(height, width, 4), bounds=[[lat_b[0], lon_b[0]], [lat_b[1], lon_b[1]]],
        mercator_project=False, name=name, opacity=0.75, interactive=False)
    if pane:
        overlay.options["pane"] = pane
    return overlay


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
    for point, name, level in zip(points, names, _area_levels(areas), strict=True):
        if point is None or point.is_empty:
            continue
        classes = f"tk-area-label tk-area-{level}"
        # a label, not a control: not focusable, not a button, and a tap on it reaches the map
        folium.Marker([point.y, point.x], icon=folium.DivIcon(
            html=f'<div class="{classes}" style="font:600 11px sans-serif;color:#1f4e79;'
                 f'white-space:nowrap;text-shadow:0 0 3px #fff">{_text(name)}</div>'),
            interactive=False, keyboard=False).add_to(group)
    group.add_to(m)


def _area_levels(areas: gpd.GeoDataFrame) -> list[str]:
    """Per area: "sub" when it lies inside another area (a neighbourhood), "parent" when others lie inside it
    (a locality), else "single". Zoomed out only localities are named, zoomed in only neighbourhoods
    (``SUB_AREA_LABELS_FROM_ZOOM``), so the labels never pile up."""
    if "id" not in areas.columns:
        return ["single"] * len(areas)
    nesting = areas_rule.nesting(areas)
    return ["sub" if len(nesting.chain.get(int(a), ())) > 1 else
            "parent" if len(nesting.members.get(int(a), ())) > 1 else "single" for a in areas["id"]]


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
    """(colour, Font Awesome icon) of a group key: a folium marker colour for findings (pins), a hex colour for
    incidents and sightings (drawn as squares and diamonds, ``_shape_icon``)."""
    if kind == "finding":
        category = schema.CATEGORY.get(str(key))
        return (category.color, category.icon) if isinstance(category, schema.Category) else ("gray", "circle")
    if kind == "incident":
        return SOURCE_COLORS.get(str(key), SOURCE_COLORS["ovrigt"]), "exclamation-triangle"
    return SIGHTING_COLORS.get(str(key), SIGHTING_COLORS["ovrigt"]), "users"


def _shape_html(kind: str, colour: str) -> str:
    return (f'<div class="tk-mk tk-mk-{POINT_SHAPES[kind]}" style="background:{html.escape(colour)}"></div>')


def _marker_icon(kind: str, colour: str, icon: str) -> folium.Icon | folium.DivIcon:
    if kind == "finding":
        return folium.Icon(color=colour, icon=icon, prefix="fa")
    return folium.DivIcon(html=_shape_html(kind, colour), icon_size=(18, 18), icon_anchor=(9, 9),
                          class_name="tk-divicon")


def _cluster_icon_js(kind: str, colour: str, icon: str) -> str:
    if kind == "finding":
        return (f"L.AwesomeMarkers.icon({{icon: {json.dumps(icon)}, markerColor: {json.dumps(colour)}, "
                "prefix: 'fa'})")
    return (f"L.divIcon({{className: 'tk-divicon', iconSize: [18, 18], iconAnchor: [9, 9], "
            f"html: {json.dumps(_shape_html(kind, colour))}}})")


def _add_point_layer(m: folium.Map, frame: pd.DataFrame, kind: str, lang: str,
                     legend: list[LegendItem], grid_cell_m: float) -> None:
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
        legend.append(LegendItem(what, MARKER_HEX.get(color, color), schema.label(vocab, key, lang),
                                 POINT_SHAPES[kind]))
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
                              icon=_marker_icon(kind, color, icon), title=label,
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
                        f"{{title: {json.dumps(label)}, icon: {_cluster_icon_js(kind, color, icon)}}}); "
                        f"marker.bindTooltip({json.dumps(_text(label))}); return marker; }}")
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


def _add_heat(m: folium.Map, x: np.ndarray, y: np.ndarray, lang: str, legend: list[LegendItem]) -> None:
    if x.size == 0:
        return
    density = analysis.density_from_xy(x, y, cell_m=50.0, bandwidth_m=200.0)
    _raster_overlay(density.values, density.grid, _count_rgba(density.values), _t("heat", lang)).add_to(m)
    legend.append(LegendItem(_t("heat", lang), "linear-gradient(90deg,#ffffb2,#fd8d3c,#bd0026)",
                             f"{_t('low', lang)} → {_t('high', lang)}", "gradient"))


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
                legend: list[LegendItem]) -> None:
    result = analysis.gistar_from_grid_counts(counts, grid, fdr=fdr)
    significant = result.loc[result["code"] != 0]
    name = _t("gistar_fdr" if fdr else "gistar", lang)
    labels = {t.key: t.label(lang) for t in analysis.GISTAR_CLASSES}
    present = set(significant["gistar"])
    for key in (t.key for t in analysis.GISTAR_CLASSES if t.key in present):
        legend.append(LegendItem(name, GISTAR_COLORS[key], labels[key]))
    # its own pane: above the markers at the municipality's zoom (the cells are the point), below them from
    # street level (_MapBehaviour), so a pile of pins never hides a hot spot
    folium.map.CustomPane(GISTAR_PANE, z_index=610, pointer_events=True).add_to(m)
    if len(significant) > MAX_VECTOR_CELLS:
        classes = analysis.gistar_grid_from_frame(result, grid, "code")
        rgba = np.zeros((*grid.shape, 4), dtype=np.uint8)
        for key, code in analysis.GISTAR_CLASS_CODES.items():
            if code:
                colour = mpl.colors.to_rgba_array(GISTAR_COLORS[key])[0] * 255
                rgba[classes == code] = (*colour[:3].astype(np.uint8), 190)
        _raster_overlay(classes, grid, rgba, name, pane=GISTAR_PANE).add_to(m)
        return
    properties = [{"tip": _text(f"{labels[k]} · z = {z:.2f} · p = {p:.3g} · {_t('count', lang)}: {c}"),
                   "fill": GISTAR_COLORS[k]}
                  for k, z, p, c in zip(significant["gistar"], significant["z"], significant["p"],
                                        significant["count"], strict=True)]
    data = _cell_features(grid, significant["row"].to_numpy(), significant["col"].to_numpy(), properties)
    folium.GeoJson(data, name=name, pane=GISTAR_PANE,
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#333333",
                                             "weight": 0.8, "fillOpacity": 0.55},
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


def _add_emerging(m: folium.Map, cells: gpd.GeoDataFrame, lang: str, legend: list[LegendItem]) -> None:
    """Emerging hot-spot cells (``hotspot_service.emerging``: polygons with ``emerging``, ``label``)."""
    if cells is None or cells.empty:
        return
    data = _rounded_geojson(_geoseries_4326(cells, "emerging"))
    for feature, key, label, total, hot in zip(data["features"], cells["emerging"], cells["label"], cells["total"],
                                               cells["hot_periods"], strict=True):
        feature["properties"] = {"tip": _text(f"{label} · {_t('count', lang)}: {total} · {_t('hot', lang)}: {hot}"),
                                 "fill": EMERGING_COLORS.get(str(key), "#999999")}
        legend.append(LegendItem(_t("emerging", lang), EMERGING_COLORS.get(str(key), "#999999"), str(label)))
    folium.GeoJson(data, name=_t("emerging", lang),
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#333333",
                                             "weight": 0.6, "fillOpacity": 0.65},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)


def _declare_language(m: folium.Map, lang: str) -> None:
    """The map document's language (folium writes ``<html>`` without one; WCAG 3.1.1)."""
    script = f"<script>document.documentElement.lang = {json.dumps(lang)};</script>"
    cast(Figure, m.get_root()).header.add_child(folium.Element(script))


_MAP_CSS = """<style>
.tk-divicon { background: none; border: none; }
.tk-mk { box-sizing: border-box; width: 16px; height: 16px; margin: 1px; border: 2px solid #222;
         box-shadow: 0 0 0 1.5px #fff; }
.tk-mk-diamond { transform: rotate(45deg) scale(.85); }
.tk-legend { background: rgba(255,255,255,.95); padding: 4px 8px; font: 12px/1.35 sans-serif; color: #222;
             max-width: 260px; max-height: 40vh; overflow: auto; border-radius: 4px;
             box-shadow: 0 0 4px rgba(0,0,0,.35); }
.tk-legend summary { cursor: pointer; font-weight: 600; min-height: 24px; line-height: 24px; }
.tk-legend details details { margin: 2px 0 4px 0; }
.tk-legend details details summary { font-weight: 600; min-height: 22px; line-height: 22px; }
.tk-legend ul { list-style: none; margin: 0; padding: 0 0 0 4px; }
.tk-legend li { margin: 1px 0; }
.tk-sw { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: middle;
         border: 1px solid #444; box-sizing: border-box; }
.tk-sw-pin { border-radius: 50% 50% 50% 0; transform: rotate(-45deg); }
.tk-sw-circle { border-radius: 50%; }
.tk-sw-diamond { transform: rotate(45deg) scale(.85); }
.tk-sw-line { height: 4px; border: none; }
.tk-sw-gradient { width: 36px; }
.tk-zoomed-out .tk-area-sub, .tk-zoomed-in .tk-area-parent { display: none; }
</style>"""


class _MapBehaviour(MacroElement):
    """The legend moved into a Leaflet control (stacked with the other controls, so it covers no other control
    and folds to one line), open on a wide map and folded on a phone; sub-area names hidden when zoomed out;
    the Gi* pane above the markers until street level."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var legend = document.getElementById('tk-legend');
            if (legend) {
                var control = L.control({position: 'bottomleft'});
                control.onAdd = function () {
                    var box = L.DomUtil.create('div', 'leaflet-control');
                    box.appendChild(legend);
                    L.DomEvent.disableClickPropagation(box);
                    L.DomEvent.disableScrollPropagation(box);
                    return box;
                };
                control.addTo(map);
                legend.open = map.getSize().x >= {{ this.open_from }};
                {% if this.bounds %}
                if (legend.open) {  // frame the data beside the open legend, not under it
                    map.fitBounds({{ this.bounds }}, {paddingTopLeft: [legend.offsetWidth + 16, 8]});
                }
                {% endif %}
            }
            function onZoom() {
                var z = map.getZoom();
                var out = z < {{ this.sub_labels_from }};
                L.DomUtil[out ? 'addClass' : 'removeClass'](map.getContainer(), 'tk-zoomed-out');
                L.DomUtil[out ? 'removeClass' : 'addClass'](map.getContainer(), 'tk-zoomed-in');
                var pane = map.getPane('tk-gistar');
                if (pane) { pane.style.zIndex = z < {{ this.gistar_below }} ? 610 : 450; }
            }
            map.on('zoomend', onZoom);
            map.whenReady(onZoom);
        })();
        {% endmacro %}
    """)

    def __init__(self, bounds: tuple[float, float, float, float] | None = None) -> None:
        super().__init__()
        self._name = "TkMapBehaviour"
        minx, miny, maxx, maxy = bounds if bounds is not None else (0.0, 0.0, 0.0, 0.0)
        self.bounds = json.dumps([[miny, minx], [maxy, maxx]]) if bounds is not None else ""
        self.open_from = LEGEND_OPEN_FROM_PX
        self.sub_labels_from = SUB_AREA_LABELS_FROM_ZOOM
        self.gistar_below = GISTAR_ON_TOP_BELOW_ZOOM


def legend_html(entries: Sequence[LegendItem], lang: str) -> str:
    """The legend as HTML: one folding group per layer (in the order the layers were drawn), each line a swatch
    of the layer's shape and its label; every text escaped. Empty when there is nothing to explain."""
    groups: dict[str, list[LegendItem]] = {}
    for item in entries:
        lines = groups.setdefault(item.group, [])
        if all((i.colour, i.label) != (item.colour, item.label) for i in lines):
            lines.append(item)
    if not groups:
        return ""
    sections = []
    for group, lines in groups.items():
        items = "".join(f'<li><span class="tk-sw tk-sw-{html.escape(i.shape)}" aria-hidden="true" '
                        f'style="background:{html.escape(i.colour)}"></span>{_text(i.label)}</li>' for i in lines)
        sections.append(f'<details open class="tk-legend-group"><summary>{_text(group)}</summary>'
                        f"<ul>{items}</ul></details>")
    return (f'<details id="tk-legend" class="tk-legend" open><summary>{_text(_t("legend", lang))}</summary>'
            f'{"".join(sections)}</details>')


def add_legend(m: folium.Map, entries: Sequence[LegendItem], lang: str,
               bounds: tuple[float, float, float, float] | None = None) -> None:
    """Give ``m`` the legend of ``entries`` (replacing one it has): a page that adds its own layers to a map from
    ``build_map`` (the public map) explains them this way. ``bounds`` (min lon, min lat, max lon, max lat): what
    the map frames, kept clear of the legend when the legend opens."""
    root = cast(Figure, m.get_root())  # a Map's root is its Figure
    root.header.add_child(folium.Element(_MAP_CSS), name="tk_map_css")
    legend = legend_html(entries, lang)
    if legend:
        root.html.add_child(folium.Element(legend), name="tk_legend")
    m.add_child(_MapBehaviour(bounds), name="tk_map_behaviour")


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
                         legend: list[LegendItem]) -> None:
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
    legend: list[LegendItem] = []
    if "areas" in layers:
        _add_areas(m, boundary, areas, lang)
    analysed = [data[name] for name in analysis_of if name in data and len(data[name])]
    _add_analysis_layers(m, layers, analysed, extent, areas, grid_cell_m, fdr, lang, legend)
    if "emerging" in layers and emerging is not None:
        _add_emerging(m, emerging, lang, legend)
    if "walks" in layers and "walks" in data:
        _add_walks(m, data["walks"], lang)
        legend.append(LegendItem(_t("walks", lang), WALK_COLOR, _t("walks", lang), "line"))
    for name in ("findings", "incidents", "sightings"):
        if name in layers and name in data and len(data[name]):
            _add_point_layer(m, data[name], _KIND_OF_ARG[name], lang, legend, grid_cell_m)
    minx, miny, maxx, maxy = (float(v) for v in extent.total_bounds)
    add_legend(m, legend, lang, (minx, miny, maxx, maxy))
    folium.LayerControl(collapsed=True).add_to(m)
    return m


_TIME_OF_KIND = {"finding": "reported_at", "incident": "occurred_at", "sighting": "observed_at"}
MARKER_TABLE_COLUMNS: tuple[str, ...] = ("layer", "what", "status", "time", "area", "lat", "lon", "id")


def _marker_rows(arg: str, records_: pd.DataFrame, names: dict[int, str], areas: gpd.GeoDataFrame | None,
                 lang: str) -> pd.DataFrame | None:
    """The marker table's rows of one point layer (``arg``: findings, incidents, sightings)."""
    kind = _KIND_OF_ARG[arg]
    frame = records_.loc[analysis.hotspot_mask_from_frame(records_)] if kind == "incident" else records_
    lon, lat = analysis.lonlat_from_frame(frame)
    ok = np.isfinite(lon) & np.isfinite(lat)
    frame, lon, lat = frame.loc[ok], lon[ok], lat[ok]
    if not len(frame):
        return None
    column = _GROUP_COLUMN[kind]
    group = frame[column] if column in frame.columns else pd.Series("ovrigt", index=frame.index)
    what = group.map(lambda k, v=_GROUP_VOCAB[kind]: schema.label(v, None if pd.isna(k) else str(k), lang))
    if kind == "incident" and "type" in frame.columns:
        what = frame["type"].map(lambda k: schema.label("incident_type", k, lang)) + " · " + what
    status = (frame["status"].map(lambda k: schema.label("status", k, lang)) if "status" in frame.columns
              else pd.Series("", index=frame.index))
    time_name = _TIME_OF_KIND[kind] if _TIME_OF_KIND[kind] in frame.columns else "time"
    times = (analysis.aware_times(frame, time_name) if time_name in frame.columns
             else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]"))
    if "area_id" in frame.columns:
        area_id = frame["area_id"]
    else:
        area_id = analysis.area_ids_from_points(frame, areas) if names else pd.Series(np.nan, index=frame.index)
    area = pd.to_numeric(area_id, errors="coerce").map(lambda a: names.get(int(a), "") if pd.notna(a) else "")
    return pd.DataFrame({
        "layer": _t(arg, lang), "what": what.to_numpy(), "status": status.to_numpy(), "sort": times.to_numpy(),
        "time": [_format_time(v) for v in times], "area": area.to_numpy(), "lat": np.round(lat, COORD_DECIMALS),
        "lon": np.round(lon, COORD_DECIMALS),
        "id": frame["id"].to_numpy() if "id" in frame.columns else np.arange(len(frame))})


def marker_table(*, findings: pd.DataFrame | None = None, incidents: pd.DataFrame | None = None,
                 sightings: pd.DataFrame | None = None, areas: gpd.GeoDataFrame | None = None,
                 layers: Sequence[str] = DEFAULT_LAYERS, lang: str = "sv") -> pd.DataFrame:
    """The map's markers as a table (issue 14: every map has a list of its markers outside the map, for a screen
    reader or anyone who cannot use the map): one row per marker of the chosen point layers, newest first, with
    ``MARKER_TABLE_COLUMNS`` (labels in ``lang``, local time, the smallest area's name, 5 decimals). Partner
    incidents with only a municipality position are left out, as the map shows them as one note."""
    names = ({int(i): str(n) for i, n in zip(areas["id"], areas["name"], strict=True)}
             if areas is not None and not areas.empty and "id" in areas.columns else {})
    frames = [rows for arg, frame in (("findings", findings), ("incidents", incidents), ("sightings", sightings))
              if frame is not None and arg in layers and len(frame)
              for rows in [_marker_rows(arg, frame, names, areas, lang)] if rows is not None]
    if not frames:
        return pd.DataFrame({c: [] for c in MARKER_TABLE_COLUMNS})
    table = pd.concat(frames, ignore_index=True)
    table["sort"] = pd.to_datetime(table["sort"], utc=True)
    table = table.sort_values("sort", ascending=False, na_position="last", kind="stable")
    return table[list(MARKER_TABLE_COLUMNS)].reset_index(drop=True)


def map_html(m: folium.Map) -> str:
    """The map as one standalone HTML document (what ``trygghetskarta map --out`` writes)."""
    if not isinstance(m, folium.Map):
        msg = f"expected a folium.Map, got {type(m).__name__}"
        raise ValidationError(msg)
    return m.get_root().render()
