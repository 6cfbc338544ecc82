"""Maps people can read, in headless Debian chromium against ``streamlit run app.py`` (issue 14): on a 390 × 844
phone a participant reports a finding on tonight's walk without touching the map ("Kan du inte använda
kartan?", a place from the list) and it is saved at that place; the tap map opened on the walk's area; Karta's
legend is a folding control, closed on the phone and open on a desktop, and its markers are listed in a table
outside the map. Screenshots: test-output/e2e/maps_*.png. Every request outside the app is refused."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from e2e_support import (
    PYTHON,
    ROOT,
    SHOTS,
    App,
    app_env,
    folium_frame,
    login,
    map_frame,
    new_context,
    open_page,
    running_app,
    saved_id,
    wait_idle,
)

from trygghetskarta import auth, places
from trygghetskarta.store import open_store

PASSWORD = "Kvällsvandring-i-Bro-2026"
WALK_AREA = "Tibble"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, Path]]:
    data = tmp_path_factory.mktemp("e2e_maps") / "data"
    for args in (["init"], ["demo"]):  # the demo season: markers, walks and hot spots on Karta
        subprocess.run([PYTHON, "-m", "trygghetskarta", *args], cwd=ROOT, env=app_env(data), check=True,
                       capture_output=True, timeout=600)
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    areas = store.areas()
    tibble = int(areas.loc[areas["name"] == WALK_AREA, "id"].iloc[0])
    store.insert("walk", gpd.GeoDataFrame([{"title": "Kvällsvandring Tibble", "started_at": dt.datetime.now(dt.UTC),
                                            "audience": "publik", "area_id": tibble, "geometry": None}],
                                          geometry="geometry", crs="EPSG:4326"))
    auth.create_user(store, "kartor_deltagare", "deltagare", PASSWORD)
    auth.create_user(store, "kartor_planerare", "planerare", PASSWORD)
    store.dispose()
    with running_app(data) as server:
        yield server, data


def _shot(page: Any, locator: Any, name: str) -> None:
    """A screenshot of the viewport with ``locator`` scrolled into it (Streamlit scrolls inside its own main
    container, so a full-page shot would show only the top)."""
    locator.first.scroll_into_view_if_needed(timeout=30_000)
    page.wait_for_timeout(400)
    page.screenshot(path=str(SHOTS / name))


def _legend(frame: Any) -> dict[str, Any]:
    return frame.evaluate("""() => { const d = document.getElementById('tk-legend');
        if (!d) return null; const r = d.getBoundingClientRect(); const m = d.closest('.leaflet-container');
        return {open: d.open, control: !!d.closest('.leaflet-control'), height: r.height, width: r.width,
                mapHeight: m ? m.getBoundingClientRect().height : 0,
                groups: Array.from(d.querySelectorAll('details > summary')).map(s => s.textContent)}; }""")


def test_phone_report_without_the_map_and_a_legend_that_folds(app: tuple[App, Path], browser: Any) -> None:
    server, data = app
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    areas = store.areas()
    expected = next(p for p in places.walk_places(areas) if p.name == WALK_AREA)
    minx, miny, maxx, maxy = areas.loc[areas["name"] == WALK_AREA].total_bounds
    before = store.count("finding")

    phone = new_context(browser, server.url, phone=True)
    page = phone.new_page()
    login(page, server.url, "kartor_deltagare", PASSWORD)  # a participant lands on Rapportera
    page.get_by_role("heading", name="Rapportera").first.wait_for(timeout=60_000)
    wait_idle(page)
    # the tap map opens on the walk's area (it is not touched below)
    tap_map = folium_frame(page)
    tap_map.wait_for_function("() => window.map_div && window.map_div._loaded", timeout=60_000)
    view = tap_map.evaluate("() => { const b = window.map_div.getBounds(); return {zoom: window.map_div.getZoom(), "
                            "w: b.getWest(), s: b.getSouth(), e: b.getEast(), n: b.getNorth()}; }")
    assert view["zoom"] >= 12, view
    assert view["w"] <= minx and view["e"] >= maxx and view["s"] <= miny and view["n"] >= maxy, view
    assert view["e"] - view["w"] < 0.2  # not the whole municipality (about 0.5° wide)
    _shot(page, page.locator('iframe[title="streamlit_folium.st_folium"]'), "maps_phone_report_walk.png")

    page.locator('[data-testid="stButtonGroup"] button', has_text="Trasig/släckt belysning").first.click()
    wait_idle(page)
    page.wait_for_timeout(1000)  # the category's rerun may start late on a loaded machine: let it finish
    wait_idle(page)
    page.get_by_text("Kan du inte använda kartan?").click()
    # the walk's area heads the list (the search over it is tested in tests/test_maps_pages.py: a search reruns
    # the page and re-creates the list, which can close a list being opened)
    page.get_by_label("Sök plats (område eller fynd)").wait_for(timeout=60_000)
    # by keyboard, as a screen-reader user would: focus the list, type, Enter picks the first match
    chooser = page.get_by_test_id("stSelectbox").filter(has_text="Plats").first
    chooser.scroll_into_view_if_needed()
    page.wait_for_timeout(600)  # the expander has finished opening: the list is where it is drawn
    chooser.click()
    page.keyboard.type(f"{WALK_AREA} (vandringens")
    page.get_by_role("option", name=f"{WALK_AREA} (vandringens område", exact=False).first.wait_for(timeout=30_000)
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_text("Position från listan: Tibble").first.wait_for(timeout=60_000)
    _shot(page, page.get_by_text("Kan du inte använda kartan?"), "maps_phone_report_place.png")
    page.get_by_role("button", name="Spara").click()
    new = page.get_by_role("button", name="Det är ett nytt")
    saved = page.get_by_text("Sparat (nr ")
    saved.or_(new).first.wait_for(timeout=60_000)
    if new.count():  # an open lighting finding of the demo nearby: the page asks once
        wait_idle(page)
        new.first.click()
    finding_id = saved_id(page)
    _shot(page, page.get_by_text("Sparat (nr "), "maps_phone_report_saved.png")
    assert store.count("finding") == before + 1
    stored = store.read("finding", None, ids=[finding_id]).iloc[0]
    assert (stored["lon"], stored["lat"]) == pytest.approx((expected.lon, expected.lat), abs=1e-6)
    assert stored["reported_by"] == "kartor_deltagare" and stored["accuracy_m"] == pytest.approx(
        expected.accuracy_m, abs=1)

    # Karta on the phone: the legend is a folded Leaflet control, one line high
    planner = new_context(browser, server.url, phone=True).new_page()
    login(planner, server.url, "kartor_planerare", PASSWORD)
    open_page(planner, "Karta")
    legend = _legend(map_frame(planner))
    assert legend["open"] is False and legend["control"] is True, legend
    assert legend["height"] < 40 and legend["height"] < legend["mapHeight"] / 10, legend
    _shot(planner, planner.locator("iframe").first, "maps_phone_karta.png")
    # the markers as a table outside the map
    planner.get_by_text("Kartans punkter som lista (").first.click()
    table = planner.get_by_test_id("stTable").first
    table.wait_for(timeout=60_000)
    assert table.get_by_role("columnheader", name="Vad").count() == 1
    assert table.locator("tbody tr").count() > 0
    _shot(planner, table, "maps_phone_karta_list.png")
    store.dispose()


def test_desktop_karta_legend_open_and_hot_spots_explained(app: tuple[App, Path], browser: Any) -> None:
    server, _ = app
    page = new_context(browser, server.url).new_page()
    login(page, server.url, "kartor_planerare", PASSWORD)
    open_page(page, "Karta")
    page.get_by_test_id("stButtonGroup").get_by_text("Hot spots (Gi*)").first.click()
    wait_idle(page)
    page.get_by_text("Så läser du hot spots").first.wait_for(timeout=60_000)
    frame = map_frame(page)
    legend = _legend(frame)
    assert legend["open"] is True and legend["control"] is True, legend
    assert {"Fynd", "Partnerhändelser", "Trygghetsvandringar"} <= set(legend["groups"]), legend
    assert legend["height"] <= 0.41 * legend["mapHeight"] + 1, legend  # never more than 40 % of the map
    pane = frame.evaluate("() => { const p = document.querySelector('.leaflet-tk-gistar-pane'); "
                          "return p ? Number(getComputedStyle(p).zIndex) : null; }")
    marker_pane = frame.evaluate("() => Number(getComputedStyle(document.querySelector('.leaflet-marker-pane'))"
                                 ".zIndex)")
    assert pane is not None and pane > marker_pane  # Gi* cells above the markers at the opening zoom
    _shot(page, page.locator("iframe").first, "maps_desktop_karta.png")
