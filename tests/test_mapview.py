"""The planners' map from the store: role-aware layers, SQL grid push-down, the `map` command, a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import chromium_path
from trygghetskarta import access, analysis, areas, demo, geography, mapview
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
    expected: dict[tuple[int, int], int] = {}
    for a, b in zip(ix, iy, strict=True):
        expected[(a, b)] = expected.get((a, b), 0) + 1
    got = {(int(r.ix), int(r.iy)): int(r.count) for r in cells.itertuples()}
    assert got == expected
    assert cells["count"].sum() == len(precise) < len(pts)  # kommun centroids never enter the grid


def _cell_of(grid: analysis.Grid, lon: float, lat: float) -> tuple[int, int]:
    x, y = geography.metric_from_lonlat(np.array([lon]), np.array([lat]))
    row, col = divmod(int(grid.cell_index(x, y)[0]), grid.nx)
    return row, col


def test_gistar_from_store_finds_the_demo_hotspots(filled: Store) -> None:
    """The Gi* push-down (grid counts in SQL on PostGIS, numpy on SQLite) puts the hot spots where the demo
    planted its clusters, and equals Gi* computed from every point pulled out of the store."""
    result = mapview.gistar_from_store(filled, "finding", cell_m=250.0, fdr=True)
    grid = analysis.grid_from_boundary(geography.municipality(), 250.0)
    pulled = analysis.gistar_from_records(filled.points("finding"), grid, fdr=True)
    pd.testing.assert_frame_equal(result, pulled)
    by_cell = result.set_index(["row", "col"])
    # every heavily weighted planted cluster (Bro and Kungsängen stations and centres, the tunnels, …) is a
    # 99 % hot spot, and the hottest cell of all is one of them or its neighbour (Gi* sums the 3 x 3 block)
    heavy = [h for h in demo.HOTSPOTS if h[5] >= 1.5]
    assert len(heavy) == 8
    for name, _loc, lat, lon, *_ in heavy:
        assert by_cell.loc[_cell_of(grid, lon, lat), "gistar"] == "het_99", name
    row, col = by_cell["z"].idxmax()
    assert min(max(abs(row - r), abs(col - c)) for r, c in (_cell_of(grid, h[3], h[2]) for h in heavy)) <= 1
    # and no hot spot lies away from the clusters: a hot cell's 3 x 3 neighbourhood holds clustered points,
    # so its centre is within 1.5 cells' diagonal (530 m) plus three spreads (<= 180 m) of a planted centre
    hot = result[result["code"] > 0]
    xs, ys = grid.centres()
    hx, hy = geography.metric_from_lonlat(np.array([h[3] for h in demo.HOTSPOTS]),
                                          np.array([h[2] for h in demo.HOTSPOTS]))
    cx, cy = xs[hot["row"], hot["col"]], ys[hot["row"], hot["col"]]
    nearest = np.hypot(cx[:, None] - hx[None, :], cy[:, None] - hy[None, :]).min(axis=1)
    assert nearest.max() < 750.0
    assert (result["code"] < 0).sum() == 0  # clusters on an empty kommun make no cold spot


def test_partner_map_has_no_sighting_points(filled: Store) -> None:
    polis = access.viewer_for_role("polis")
    assert mapview.frame_for_map(filled, "sighting", polis, MapFilters()) is None
    html = map_html(mapview.map_from_store(filled, polis, basemap="none"))
    planner = map_html(mapview.map_from_store(filled, access.viewer_for_role("planerare"), basemap="none"))
    # no sightings layer and no sighting popup (only sightings have a group size) for a partner; a planner has both
    assert "Fältobservationer" not in html and "Gruppstorlek" not in html
    assert "Fältobservationer" in planner and "Gruppstorlek" in planner


def test_map_data_is_what_the_viewer_may_see_filtered(filled: Store) -> None:
    """The Karta page and the CLI share ``map_data``: permissions in the store, then day/night and area."""
    planner = mapview.map_data(filled, access.viewer_for_role("planerare"))
    polis = mapview.map_data(filled, access.viewer_for_role("polis"))
    assert polis.sightings is None and planner.sightings is not None and len(planner.sightings) > 0
    assert planner.sizes["findings"] == filled.count("finding")
    assert planner.findings is not None and planner.walks is not None
    area = int(filled.areas()["id"].iloc[0])  # Kungsängen: it holds neighbourhoods (Tibble, Ekhammar, …)
    members = set(areas.nesting(filled.areas()).members[area])
    assert len(members) > 1
    one_area = mapview.map_data(filled, access.viewer_for_role("planerare"),
                                MapFilters(area_ids=(area,), categories=("klotter",)))
    assert one_area.findings is not None and one_area.walks is not None
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
        def refuse(route: Any) -> None:
            outside.append(route.request.url)
            route.abort()

        page.route("http*://**", refuse)
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
