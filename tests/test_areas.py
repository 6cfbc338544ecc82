"""The one rule for "in this area": members, chains and totals that never count a record twice."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from trygghetskarta import areas, geography


def _shipped() -> gpd.GeoDataFrame:
    frame = geography.shipped_areas()
    frame["id"] = range(1, len(frame) + 1)
    return frame


def test_localities_hold_their_neighbourhoods() -> None:
    frame = _shipped()
    ids = dict(zip(frame["name"], frame["id"], strict=True))
    nest = areas.nesting(frame)
    assert set(nest.members[ids["Kungsängen"]]) == {ids[n] for n in ("Kungsängen", "Kungsängen centrum", "Tibble",
                                                                      "Gröna dalen", "Ekhammar")}
    assert nest.members[ids["Tibble"]] == (ids["Tibble"],)
    assert nest.chain[ids["Tibble"]] == (ids["Tibble"], ids["Kungsängen"])
    assert nest.chain[ids["Kungsängen"]] == (ids["Kungsängen"],)


def test_totals_count_each_record_once() -> None:
    frame = _shipped()
    ids = dict(zip(frame["name"], frame["id"], strict=True))
    nest = areas.nesting(frame)
    # records per smallest area: 3 directly in Kungsängen (outside its neighbourhoods), 2 in Tibble, 4 in Bro
    counts = pd.Series([3, 2, 4], index=[ids["Kungsängen"], ids["Tibble"], ids["Bro"]])
    rolled = nest.roll_up(counts)
    assert rolled[ids["Kungsängen"]] == 5
    assert rolled[ids["Tibble"]] == 2
    assert nest.total(counts, [ids["Kungsängen"], ids["Tibble"]]) == 5  # Tibble is inside Kungsängen
    assert nest.total(counts, [ids["Kungsängen"], ids["Bro"]]) == 9
    assert nest.total(counts) == 9


def test_equal_polygons_do_not_hold_each_other() -> None:
    square = shapely.box(17.70, 59.48, 17.72, 59.50)
    frame = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[square, square], crs="EPSG:4326")
    nest = areas.nesting(frame)
    assert nest.members[1] == (1, 2)
    assert nest.members[2] == (2,)
    assert nest.total(pd.Series([1, 1], index=[1, 2]), [1, 2]) == 2
