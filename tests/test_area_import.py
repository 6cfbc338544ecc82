"""Issue 12: an area import shows what it will change and must be confirmed; a kommun boundary imported as
RegSO does not silently replace the areas with one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from trygghetskarta import area_import, geography
from trygghetskarta.cli import main
from trygghetskarta.ingest import municipality, read_file
from trygghetskarta.store import Store, open_store


def _season(store: Store) -> gpd.GeoDataFrame:
    areas = geography.shipped_areas()
    store.insert("area", areas)
    stored = store.areas()
    first = stored.iloc[0]
    point = first.geometry.representative_point()
    store.insert("finding", gpd.GeoDataFrame(
        {"category": ["klotter", "belysning_trasig"], "reported_at": [pd.Timestamp("2026-10-01T19:00Z")] * 2},
        geometry=[point, point], crs="EPSG:4326"))
    store.insert("walk", gpd.GeoDataFrame(
        {"title": ["Kvällsvandring Bro centrum"], "started_at": [pd.Timestamp("2026-10-01T18:00Z")],
         "area_id": [int(first["id"])]},
        geometry=[shapely.LineString(point.buffer(0.001).exterior.coords)], crs="EPSG:4326"))
    return stored


def _write_areas(path: Path, names: list[str], geoms: Sequence[object], source: str = "regso") -> Path:
    gpd.GeoDataFrame({"name": names, "source": [source] * len(names), "locality": ["bro"] * len(names),
                      "external_id": [f"regso:{n}" for n in names]},
                     geometry=geoms, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def test_impact_lists_added_removed_moved_and_walks(store: Store, tmp_path: Path) -> None:
    stored = _season(store)
    halves = [shapely.union_all(stored.geometry.iloc[: len(stored) // 2].to_numpy()),
              shapely.union_all(stored.geometry.iloc[len(stored) // 2:].to_numpy())]
    plan = read_file(_write_areas(tmp_path / "regso.geojson", ["Norra", "Södra"], halves), "area")
    impact = area_import.impact(store, plan, municipality().geom_3006)
    assert impact.added == ["Norra", "Södra"]
    assert sorted(impact.removed) == sorted(stored["name"].tolist())
    assert impact.moved["finding"] == 2  # from its neighbourhood to "Norra"
    assert impact.walks_losing_area == ["Kvällsvandring Bro centrum"]
    assert ("fewer_areas", {"removed": len(stored), "added": 2}) in impact.warnings
    assert impact.needs_confirmation
    text = "\n".join(impact.lines("sv"))
    assert f"områden som tas bort: {len(stored)}" in text
    assert "poster som byter område: 3 (fynd 2, vandringar 1)" in text
    assert "vandringar som förlorar sitt område: 1 (Kvällsvandring Bro centrum)" in text
    assert store.count("area") == len(stored)  # nothing written by looking


def test_kommun_boundary_as_regso_is_flagged(store: Store, tmp_path: Path) -> None:
    _season(store)
    kommun = municipality().geom_4326
    plan = read_file(_write_areas(tmp_path / "kommun.geojson", ["Upplands-Bro"], [kommun]), "area")
    impact = area_import.impact(store, plan, municipality().geom_3006)
    keys = [key for key, _ in impact.warnings]
    assert keys == ["covers_kommun", "fewer_areas"]
    share = impact.warnings[0][1]["share"]
    assert isinstance(share, float), share
    assert share > 0.95
    assert "täcker" in area_import.warning_text(*impact.warnings[0], "sv")


def test_cli_area_import_needs_yes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'tk.sqlite'}"
    assert main(["--db", db, "init"]) == 0
    store = open_store(db)
    stored = _season(store)
    before = store.count("area")
    kommun = municipality().geom_4326
    path = _write_areas(tmp_path / "kommun.geojson", ["Upplands-Bro"], [kommun])
    capsys.readouterr()
    assert main(["--db", db, "import", str(path), "--kind", "area"]) == 1
    out, err = capsys.readouterr()
    assert f"områden som tas bort: {len(stored)}" in out
    assert "täcker" in out
    assert "--yes" in err
    assert err.count("\n") == 1
    assert store.count("area") == before
    assert main(["--db", db, "import", str(path), "--kind", "area", "--dry-run"]) == 0
    assert store.count("area") == before
    assert main(["--db", db, "import", str(path), "--kind", "area", "--yes"]) == 0
    store.dispose()
    after = open_store(db)
    assert after.areas()["name"].tolist() == ["Upplands-Bro"]
    after.dispose()
