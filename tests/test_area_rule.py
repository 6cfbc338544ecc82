"""Issue 12: one meaning of "in this area". The map filter, the choropleth, Översikt's area table (the
lägesbild's area figures), the lägesbild itself and its export give the same count for an area that holds
other areas (Kungsängen ⊃ Tibble, Ekhammar), and a total over nested areas never counts a record twice."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from trygghetskarta import access, geography, mapview
from trygghetskarta.lagesbild import build_lagesbild, export_lagesbild, period_from_bounds
from trygghetskarta.maps import MapFilters
from trygghetskarta.store import Store

DAY = dt.date(2026, 10, 14)


@pytest.fixture
def nested(store: Store) -> dict[str, int]:
    store.insert("area", geography.shipped_areas())
    areas = store.areas()
    ids = dict(zip(areas["name"], areas["id"].astype(int), strict=True))
    metric = areas.set_index("name").to_crs(3006).geometry
    rows = []
    # 2 findings in Kungsängen outside its neighbourhoods, 3 in Tibble, 1 in Ekhammar, 4 in Bro
    outside_hoods = metric["Kungsängen"].difference(shapely.union_all(
        [metric[n] for n in ("Kungsängen centrum", "Tibble", "Gröna dalen", "Ekhammar")]))
    for _area, n, polygon in (("Kungsängen", 2, outside_hoods), ("Tibble", 3, metric["Tibble"]),
                              ("Ekhammar", 1, metric["Ekhammar"]), ("Bro", 4, metric["Bro centrum"])):
        point = polygon.representative_point()
        rows += [{"category": "klotter", "reported_at": pd.Timestamp(f"{DAY}T19:00Z"),
                  "geometry": shapely.Point(point.x + i, point.y)} for i in range(n)]
    store.insert("finding", gpd.GeoDataFrame(rows, geometry="geometry", crs=3006).to_crs(4326))
    return ids


def test_one_count_for_an_area_everywhere(store: Store, nested: dict[str, int], tmp_path: Path) -> None:
    kungsangen = nested["Kungsängen"]
    planner = access.viewer_for_role("planerare")
    period = period_from_bounds(DAY - dt.timedelta(days=6), DAY)

    # the map filter
    data = mapview.map_data(store, planner, MapFilters(area_ids=(kungsangen,)))
    assert data.findings is not None, "a planner sees the findings' positions"
    assert len(data.findings) == 6

    # the choropleth's tooltip
    html = mapview.map_for(data, store.areas(), basemap="none", layers=("findings", "choropleth")).get_root().render()
    assert re.search(r"Kungs(?:ä|\\u00e4)ngen: 6\b", html), "Kungsängen's choropleth count"  # JSON may escape ä
    assert re.search(r"Tibble: 3\b", html)

    # the lägesbild's (and Översikt's) area figures
    report = build_lagesbild(store, period, today=DAY)
    figures = report.area_figures.set_index(["area_id", "kind"])
    assert int(figures.loc[(kungsangen, "finding"), "count"]) == 6
    assert int(figures.loc[(nested["Tibble"], "finding"), "count"]) == 3

    # a lägesbild of nested areas counts each record once
    both = build_lagesbild(store, period, area_ids=[kungsangen, nested["Tibble"]], today=DAY)
    assert int(both.kind_totals.set_index("kind").loc["finding", "count"]) == 6
    everything = build_lagesbild(store, period, today=DAY)
    assert int(everything.kind_totals.set_index("kind").loc["finding", "count"]) == 10

    # the export of the lägesbild
    out = export_lagesbild(report, tmp_path / "lagesbild.gpkg")
    [written] = out  # one GeoPackage
    layer = pyogrio.read_dataframe(written, layer="omraden").set_index("area_id")
    assert int(layer.loc[kungsangen, "finding_count"]) == 6
    assert int(layer.loc[nested["Bro"], "finding_count"]) == 4
