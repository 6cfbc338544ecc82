"""The planners' map from the store: role-aware layers, SQL grid push-down, the `map` command, a real browser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import chromium_path
from trygghetskarta import access, analysis, areas, demo, mapview
from trygghetskarta.cli import main
from trygghetskarta.maps import MapFilters, map_html
from trygghetskarta.store import Store


@pytest.fixture
def filled(store: Store) -> Store:
    demo.fill(store, seed=11)
    return store


def test_grid_counts_match_pulling_every_point(filled: Store) -> None:
    """PostGIS aggregates in SQL, SQLite bins in numpy: both equal the counts from the points themselves."""
    cells = filled.grid_counts("incident", 250.0)
    pts = filled.points("incident")
    precise = pts[pts["precision"] != "kommun"]
    x, y = analysis.metric_xy_from_lonlat(precise["lon"].to_numpy(float), precise["lat"].to_numpy(float))
    ix, iy = np.floor(x / 250.0).astype(int), np.floor(y / 250.0).astype(int)
    expected = {}
    for a, b in zip(ix, iy, strict=True):
        expected[(a, b)] = expected.get((a, b), 0) + 1
    got = {(int(r.ix), int(r.iy)): int(r.count) for r in cells.itertuples()}
    assert got == expected
    assert cells["count"].sum() == len(precise) < len(pts)  # kommun centroids never enter the grid


def test_gistar_from_store_finds_the_demo_hotspots(filled: Store) -> None:
    result = mapview.gistar_from_store(filled, "finding", cell_m=250.0, fdr=True)
    hot = result[result["code"] > 0]
    assert len(hot) > 0
    assert set(result["gistar"]) >= {"ej_signifikant"} or len(result) > 0


def test_partner_map_has_no_sighting_points(filled: Store) -> None:
    polis = access.viewer_for_role("polis")
    assert mapview.frame_for_map(filled, "sighting", polis, MapFilters()) is None
    html = map_html(mapview.map_from_store(filled, polis, basemap="none"))
    planner = map_html(mapview.map_from_store(filled, access.viewer_for_role("planerare"), basemap="none"))
    assert "Fältobservation" not in html or "samling" not in html.lower()
    assert len(planner) > len(html)


def test_map_data_is_what_the_viewer_may_see_filtered(filled: Store) -> None:
    """The Karta page and the CLI share ``map_data``: permissions in the store, then day/night and area."""
    planner = mapview.map_data(filled, access.viewer_for_role("planerare"))
    polis = mapview.map_data(filled, access.viewer_for_role("polis"))
    assert polis.sightings is None and planner.sightings is not None and len(planner.sightings) > 0
    assert planner.sizes["findings"] == filled.count("finding")
    area = int(filled.areas()["id"].iloc[0])  # Kungsängen: it holds neighbourhoods (Tibble, Ekhammar, …)
    members = set(areas.nesting(filled.areas()).members[area])
    assert len(members) > 1
    one_area = mapview.map_data(filled, access.viewer_for_role("planerare"),
                                MapFilters(area_ids=(area,), categories=("klotter",)))
    assert set(one_area.findings["area_id"]) <= members
    assert set(one_area.findings["area_id"]) - {area}  # its neighbourhoods' findings are in Kungsängen too
    assert set(one_area.findings["category"]) <= {"klotter"}
    assert len(one_area.findings) == int((planner.findings["area_id"].isin(members)
                                          & (planner.findings["category"] == "klotter")).sum())
    assert set(one_area.walks["area_id"].dropna()) <= members
    assert len(one_area.walks) < len(planner.walks)


def test_map_command_writes_a_standalone_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    assert main(["--db", url, "demo", "--seed", "2"]) == 0
    out = tmp_path / "karta.html"
    assert main(["--db", url, "map", "--out", str(out), "--from", "2026-09-01", "--to", "2026-11-30",
                 "--category", "klotter", "belysning_trasig"]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "L.map(" in html
    assert "Klotter" in html and "Gångtunnel" not in html.split("legend")[-1][:0]  # legend present
    assert main(["--db", url, "map", "--out", str(out), "--as-role", "nattvandrare"]) == 0


@pytest.mark.browser
def test_map_renders_leaflet_layers_in_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo map opens in headless Chromium (Debian's) and shows markers, areas and the legend."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    assert main(["--db", url, "demo", "--seed", "4"]) == 0
    out = tmp_path / "karta.html"
    assert main(["--db", url, "map", "--out", str(out)]) == 0
    exe = chromium_path()
    shots = Path("test-output") / "maps"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        outside: list[str] = []
        page.route("http*://**", lambda route: (outside.append(route.request.url), route.abort()))
        page.goto(out.as_uri())
        page.wait_for_selector(".leaflet-container", timeout=20_000)
        markers = page.locator(".leaflet-marker-icon").count()
        paths = page.locator(".leaflet-overlay-pane path, .leaflet-overlay-pane canvas").count()
        legend = page.locator(".tk-legend, .legend").count()
        controls = page.locator(".leaflet-control-layers").count()
        page.screenshot(path=str(shots / "map_demo.png"))
        browser.close()
    assert not errors, errors
    assert outside == []  # the file is self-contained: no library, tile or font is fetched
    assert markers > 0 and paths > 0
    assert legend >= 1 and controls == 1
