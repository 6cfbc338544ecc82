"""Maps people can read, on the pages (issue 14), through Streamlit's AppTest: the report page's tap map opens on
the walk's area, a finding can be placed without the map (a place from the list) and is saved at that place,
Karta and the public map list their markers outside the map, and Karta's filters say what they apply to."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the pages import app_pages as the running app does
    sys.path.insert(0, str(ROOT))

from app_pages import _ui  # noqa: E402
from trygghetskarta import auth, capture, demo, maps, places, schema  # noqa: E402
from trygghetskarta.access import Viewer  # noqa: E402
from trygghetskarta.store import open_store  # noqa: E402

PASSWORD = "Kvällsvandring-i-Bro-2026"
WALK_AREA = "Tibble"


@pytest.fixture(scope="module")
def maps_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo season, a walk tonight in Tibble with two findings already, and a participant."""
    url = f"sqlite:///{tmp_path_factory.mktemp('mapspages') / 'demo.sqlite'}"
    store = open_store(url)
    store.init()
    demo.fill(store)
    areas = store.areas()
    tibble = int(areas.loc[areas["name"] == WALK_AREA, "id"].iloc[0])
    [walk_id] = store.insert("walk", gpd.GeoDataFrame(
        [{"title": "Kvällsvandring Tibble", "started_at": dt.datetime.now(dt.UTC), "audience": "publik",
          "area_id": tibble, "geometry": None}], geometry="geometry", crs="EPSG:4326")).ids
    point = areas.loc[areas["name"] == WALK_AREA].geometry.iloc[0].representative_point()
    store.insert("finding", gpd.GeoDataFrame({
        "category": ["gangtunnel", "klotter"], "status": "ny", "audience": "publik", "reported_by": "test_deltagare",
        "description": ["Mörk tunnel vid skolan", "Klotter på elskåpet"], "walk_id": walk_id,
        "reported_at": [dt.datetime.now(dt.UTC) - dt.timedelta(minutes=m) for m in (20, 10)]},
        geometry=shapely.points(np.array([point.x, point.x + 0.001]), np.array([point.y, point.y])),
        crs="EPSG:4326"))
    auth.create_user(store, "test_deltagare", "deltagare", PASSWORD)
    auth.create_user(store, "test_planerare", "planerare", PASSWORD)
    store.dispose()
    yield url


@pytest.fixture
def app_env(maps_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TRYGGHETSKARTA_DB", maps_db)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")  # never a tile request in tests
    return maps_db


def _page(key: str, role: str | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{key}.py"), default_timeout=180)
    if role is not None:
        at.session_state["tk_user"] = {"username": f"test_{role}", "role": role, "organisation": None}
    at.session_state["tk_lang"] = "sv"
    return at.run()


def _tap_map_args(at: AppTest) -> dict[str, Any]:
    [component] = [c for c in at.get("component_instance") if c.proto.component_name.endswith("st_folium")]
    return json.loads(component.proto.json_args)


def _last_fit(script: str) -> list[list[float]]:
    fits = re.findall(r"\.fitBounds\(\s*(\[\[.*?\]\])", script, re.S)
    assert fits, "the map frames nothing"
    return json.loads(fits[-1])


def test_report_map_opens_on_the_walks_area(app_env: str) -> None:
    at = _page("rapportera", "deltagare")
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["rap_walk"] is not None  # tonight's walk is chosen first
    store = open_store(app_env)
    area = store.areas().loc[lambda a: a["name"] == WALK_AREA]
    minx, miny, maxx, maxy = area.total_bounds
    store.dispose()
    args = _tap_map_args(at)
    # framed on the walk's area once, as the map is drawn (the last fitBounds of its script); nothing moves it
    # afterwards (no center/zoom until a position is chosen), so no move can race a tap
    assert args["center"] is None and args["zoom"] is None
    (south, west), (north, east) = _last_fit(args["script"])
    assert (south, west, north, east) == pytest.approx((miny, minx, maxy, maxx))
    # the base map is the same document every run for the walk (a tap is never lost to a re-render)
    again = _page("rapportera", "deltagare")
    assert _tap_map_args(again)["script"] == args["script"]

    # no walk: the municipality, as before
    at.selectbox(key="rap_walk").select_index(0).run()  # "Ingen vandring"
    assert at.session_state["rap_walk"] is None
    args = _tap_map_args(at)
    assert args["center"] is None and args["zoom"] is None
    (south, west), (north, east) = _last_fit(args["script"])
    assert north - south > 2 * (maxy - miny) and east - west > 2 * (maxx - minx)  # the whole kommun


def test_a_finding_placed_from_the_list_is_saved_there(app_env: str) -> None:
    at = _page("rapportera", "deltagare")
    assert [e.label for e in at.expander] == ["Kan du inte använda kartan?"]
    place = at.selectbox(key="rap_finding_place_0")
    labels = place.options
    # the walk's area first, then the walk's findings (newest first), then the other areas
    assert labels[0].startswith(f"{WALK_AREA} (vandringens område, ±")
    assert labels[1].startswith("Fynd nr ") and "Klotter – Klotter på elskåpet" in labels[1]
    assert "Mörk tunnel vid skolan" in labels[2]
    assert any(label.startswith("Bro (område") for label in labels[3:])
    # the search narrows the list, diacritics ignored
    at.text_input(key="rap_finding_place_q_0").input("grona").run()
    assert at.selectbox(key="rap_finding_place_0").options == [
        label for label in labels if label.startswith("Gröna dalen")]
    at.text_input(key="rap_finding_place_q_0").input("").run()

    store = open_store(app_env)
    areas = store.areas()
    expected = next(p for p in places.walk_places(areas) if p.name == WALK_AREA)
    before = store.count("finding")
    at.session_state["rap_cat_0"] = "belysning_trasig"
    at.selectbox(key="rap_finding_place_0").set_value(f"area:{expected.ref}").run()
    assert any(s.startswith("Position från listan: Tibble") for s in (e.value for e in at.success))
    asks = bool(capture.duplicate_candidates(store, "belysning_trasig", expected.lon, expected.lat,
                                             viewer=Viewer("test_deltagare", "deltagare")))
    next(b for b in at.button if b.label == _ui.text("save")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    new = [b for b in at.button if b.label == _ui.text("dup_new")]
    assert bool(new) == asks  # an open lighting finding nearby: the page asks once; the answer is "a new one"
    if asks:
        new[0].click().run()
    assert any(s.startswith("Sparat (nr ") for s in (e.value for e in at.success))
    assert store.count("finding") == before + 1
    stored = store.read("finding", None).sort_values("id").iloc[-1]
    assert stored["category"] == "belysning_trasig" and stored["reported_by"] == "test_deltagare"
    assert (stored["lon"], stored["lat"]) == pytest.approx((expected.lon, expected.lat), abs=1e-6)
    area_m2 = areas.loc[areas["name"] == WALK_AREA].to_crs(schema.CRS_METRIC).area.iloc[0]
    assert stored["accuracy_m"] == pytest.approx(math.sqrt(area_m2 / math.pi), abs=1)  # honest: the area's size
    assert shapely.Point(stored["lon"], stored["lat"]).within(areas.loc[areas["name"] == WALK_AREA].geometry.iloc[0])
    store.dispose()


def test_karta_lists_its_markers_and_says_what_filters_apply_to(app_env: str) -> None:
    at = _page("karta", "planerare")
    assert not at.exception, [e.value for e in at.exception]
    labels = {m.label: m.help for m in at.multiselect}
    assert labels["Kategorier (gäller fynd)"] == _ui.text("categories_help")
    assert "Status (gäller fynd)" in labels and "Källor (partnerhändelser)" in labels
    [listing] = [e for e in at.expander if e.label.startswith("Kartans punkter som lista (")]
    n = int(listing.label.rsplit("(", 1)[1].rstrip(")"))
    # as many rows as the map has markers: every finding and sighting shown, the incidents with a position
    store = open_store(app_env)
    viewer = Viewer("test_planerare", "planerare")
    today = _ui.today()
    findings = store.points("finding", viewer, today - dt.timedelta(days=365), today)
    incidents = store.points("incident", viewer, today - dt.timedelta(days=365), today)
    sightings = store.points("sighting", viewer, today - dt.timedelta(days=365), today)
    store.dispose()
    expected = len(findings) + int((incidents["precision"] != "kommun").sum()) + len(sightings)
    assert n == expected > 0
    [table] = [t.value for t in listing.table]
    assert list(table.columns) == ["Nr", "Lager", "Vad", "Status", "Tid", "Område", "Position (lat, lon)"]
    assert len(table) == min(n, _ui.MARKERS_SHOWN)
    assert set(table["Lager"]) <= {"Fynd", "Partnerhändelser", "Fältobservationer"}
    assert f"**{_ui.text('hotspot_title')}**" not in [m.value for m in at.markdown]  # Gi* is not on by default


def test_karta_explains_hot_spots_beside_the_map(app_env: str) -> None:
    at = AppTest.from_file(str(ROOT / "app_pages" / "karta.py"), default_timeout=180)
    at.session_state["tk_user"] = {"username": "test_planerare", "role": "planerare", "organisation": None}
    at.session_state["tk_lang"] = "sv"
    at.run()
    [layers] = [p for p in at.button_group if p.label == _ui.text("layers")]
    layers.set_value([*(layers.value or []), "gistar"]).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [m.value for m in at.markdown]
    assert f"**{_ui.text('hotspot_title')}**" in shown
    explained = _ui.text("hotspot_explain", cell=250, what="fynd och partnerhändelser")  # a planner sees both
    assert explained in shown
    assert "fler fynd och partnerhändelser än väntat om de vore jämnt spridda" in explained and "99 %" in explained
    assert any(c.value.startswith(_ui.text("hotspot_fdr_on")) for c in at.caption)
    [frame] = at.get("iframe")
    assert f'"{maps.GISTAR_PANE}"' in frame.proto.srcdoc.split("createPane(", 1)[1][:200]  # cells above markers


def test_public_map_lists_its_places(app_env: str) -> None:
    at = _page("publik_karta", None)
    assert not at.exception, [e.value for e in at.exception]
    [listing] = [e for e in at.expander if e.label.startswith("Kartans platser som lista (")]
    [table] = [t.value for t in listing.table]
    n = int(listing.label.rsplit("(", 1)[1].rstrip(")"))
    assert n == len(table) > 0
    assert list(table.columns) == ["Vad", "Status", "Anmäld", "Område"]
    assert table["Område"].str.len().gt(0).any()
    # the map explains its colours: one legend line per status group shown, as circles like the markers
    [frame] = at.get("iframe")
    legend = frame.proto.srcdoc.split('id="tk-legend"', 1)[1].split("</details></details>", 1)[0]
    assert "<summary>Status</summary>" in legend and "tk-sw-circle" in legend and "tk-sw-pin" not in legend
    groups = {"Pågår": schema.OPEN_STATUSES, "Åtgärdad": ("atgardad", "verifierad"), "Åtgärdas inte": ("ej_atgardas",)}
    store = open_store(app_env)
    from trygghetskarta import public

    statuses = set(public.public_map_frame(store, "sv")["status"])
    store.dispose()
    assert {label for label, keys in groups.items() if statuses & set(keys)} == {
        label for label in groups if f"</span>{label}</li>" in legend}
