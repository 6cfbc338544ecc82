"""Places to report at without the map (issue 14, trygghetskarta.places): the walk's first, searchable."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from trygghetskarta import places, schema


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    # a locality with two neighbourhoods inside it, and another locality
    return gpd.GeoDataFrame(
        {"id": [1, 2, 3, 4], "name": ["Kungsängen", "Tibble", "Gröna dalen", "Bro"],
         "locality": ["kungsangen", "kungsangen", "kungsangen", "bro"]},
        geometry=[shapely.box(17.70, 59.46, 17.80, 59.50), shapely.box(17.72, 59.47, 17.74, 59.48),
                  shapely.box(17.76, 59.47, 17.79, 59.49), shapely.box(17.60, 59.50, 17.66, 59.53)],
        crs=schema.CRS_STORE)


def test_the_walks_places_come_first(areas: gpd.GeoDataFrame) -> None:
    findings = pd.DataFrame({"id": [10, 11], "category": ["klotter", "gangtunnel"], "lon": [17.73, 17.731],
                             "lat": [59.475, 59.476], "description": ["  Elskåp ", None]})
    found = places.walk_places(areas, walk_area_id=1, findings=findings)
    assert [p.key for p in found] == ["area:1", "area:3", "area:2", "finding:11", "finding:10", "area:4"]
    assert [p.in_walk for p in found] == [True] * 5 + [False]
    first = found[0]
    assert shapely.Point(first.lon, first.lat).within(areas.geometry.iloc[0])  # inside the area, not its centroid
    size = areas.to_crs(schema.CRS_METRIC).area.iloc[0]
    assert first.accuracy_m == round(math.sqrt(size / math.pi))
    assert found[4].detail == "Elskåp" and found[3].detail == "" and found[3].accuracy_m is None
    assert (found[3].lon, found[3].lat) == (17.731, 59.476)
    # without a walk: every area by name
    assert [p.name for p in places.walk_places(areas)] == ["Bro", "Gröna dalen", "Kungsängen", "Tibble"]
    assert places.walk_places(None) == []


def test_search_ignores_case_and_diacritics(areas: gpd.GeoDataFrame) -> None:
    found = places.walk_places(areas)
    assert [p.name for p in places.search(found, "grona")] == ["Gröna dalen"]
    # a locality's name finds its areas too (the locality key)
    in_kungsangen = ["Gröna dalen", "Kungsängen", "Tibble"]
    assert [p.name for p in places.search(found, "KUNGSÄNGEN")] == in_kungsangen
    assert [p.name for p in places.search(found, "kungsangen")] == in_kungsangen
    # every word must match, in the name, the locality key or the page's label
    assert [p.name for p in places.search(found, "dalen grö")] == ["Gröna dalen"]
    assert [p.name for p in places.search(found, "tibble område", ["a", "b", "c", "Tibble (område)"])] == ["Tibble"]
    assert places.search(found, "  ") == found
    assert places.search(found, "Stockholm") == []
    with pytest.raises(ValueError, match="one per place"):
        places.search(found, "x", ["only one"])
