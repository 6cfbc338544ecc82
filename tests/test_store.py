"""The store on SQLite and on a real PostGIS server: round trips, atomic batches, idempotence, migrations."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from geopandas.testing import assert_geoseries_equal

from trygghetskarta.errors import StoreError, ValidationError
from trygghetskarta.store import Store, open_store

T0 = pd.Timestamp("2026-10-12 19:30", tz="Europe/Stockholm")


def findings_frame(n: int, start: int = 0, **overrides: object) -> gpd.GeoDataFrame:
    lon = 17.63 + (pd.RangeIndex(n) % 50) * 0.0004
    lat = 59.51 + (pd.RangeIndex(n) // 50) * 0.0002
    data = {
        "category": ["belysning_trasig"] * n,
        "description": [f"lampa {i}" for i in range(start, start + n)],
        "severity": [2] * n,
        "reported_at": [T0 + pd.Timedelta(minutes=i) for i in range(n)],
        "external_id": [f"t:{i}" for i in range(start, start + n)],
    }
    data.update(overrides)
    return gpd.GeoDataFrame(data, geometry=shapely.points(lon, lat), crs="EPSG:4326")


def test_round_trip_points_and_lines(store: Store) -> None:
    frame = findings_frame(2)
    frame.loc[1, "geometry"] = shapely.LineString([(17.63, 59.51), (17.632, 59.511)])
    res = store.insert("finding", frame)
    assert res.inserted == 2
    back = store.read("finding")
    assert isinstance(back, gpd.GeoDataFrame)
    assert back.crs.to_epsg() == 4326
    assert_geoseries_equal(back.geometry.reset_index(drop=True), frame.geometry.reset_index(drop=True),
                           check_less_precise=True)
    assert back["reported_at"].dt.tz is not None
    assert back["reported_at"].iloc[0] == T0
    assert list(back["status"]) == ["ny", "ny"]


def test_reads_reproject_input_crs(store: Store) -> None:
    frame = findings_frame(1).to_crs(3006)
    store.insert("finding", frame)
    back = store.read("finding")
    assert back.geometry.iloc[0].x == pytest.approx(17.63, abs=1e-7)


def test_failed_batch_half_way_leaves_database_as_before(store: Store) -> None:
    store.insert("finding", findings_frame(10, start=10_000))
    before = store.read("finding")
    bad = findings_frame(1000)
    bad.loc[499, "category"] = "inte_en_kategori"  # row 500
    with pytest.raises(ValidationError, match=r"row 500: unknown category 'inte_en_kategori'"):
        store.insert("finding", bad)
    after = store.read("finding")
    pd.testing.assert_frame_equal(pd.DataFrame(before.drop(columns="geometry")),
                                  pd.DataFrame(after.drop(columns="geometry")))


def test_database_error_mid_batch_rolls_back(store: Store) -> None:
    """A row the database itself refuses (a walk that does not exist) undoes rows already sent."""
    frame = findings_frame(1000)
    walk = pd.array([None] * 1000, dtype="Int64")
    walk[700] = 999_999
    frame["walk_id"] = walk
    with pytest.raises(StoreError, match="nothing was saved"):
        store.insert("finding", frame)
    assert store.count("finding") == 0


def test_batches_larger_than_one_slice_are_one_transaction(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from trygghetskarta.store import core

    monkeypatch.setattr(core, "_BATCH", 100)
    bad = findings_frame(350)
    bad.loc[320, "severity"] = 7
    with pytest.raises(ValidationError, match="row 321: severity"):
        store.insert("finding", bad)
    assert store.count("finding") == 0
    assert store.insert("finding", findings_frame(350)).inserted == 350


def test_same_external_ids_twice_add_nothing(store: Store) -> None:
    first = store.insert("finding", findings_frame(20))
    second = store.insert("finding", findings_frame(25))
    assert (first.inserted, second.inserted, second.already_present) == (20, 5, 20)
    assert store.count("finding") == 25


def test_text_is_scrubbed_on_save(store: Store) -> None:
    frame = findings_frame(1, description=["Ring 070-123 45 67 eller mejla a.b@example.se"])
    res = store.insert("finding", frame)
    assert res.masked == 2
    text = store.read("finding")["description"].iloc[0]
    assert "070" not in text and "@" not in text


def test_naive_times_are_refused(store: Store) -> None:
    frame = findings_frame(2, reported_at=[dt.datetime(2026, 10, 1, 20), dt.datetime(2026, 10, 1, 21)])
    with pytest.raises(ValidationError, match="row 1: reported_at has no time zone"):
        store.insert("finding", frame)


def test_wrong_geometry_type_is_named(store: Store) -> None:
    frame = findings_frame(3)
    frame.loc[2, "geometry"] = shapely.box(17.6, 59.5, 17.61, 59.51)
    with pytest.raises(ValidationError, match="row 3: geometry must be Point or LineString"):
        store.insert("finding", frame)


def test_period_filter_dates_are_inclusive(store: Store) -> None:
    store.insert("finding", findings_frame(3, reported_at=[
        pd.Timestamp("2026-09-30 23:59", tz="Europe/Stockholm"),
        pd.Timestamp("2026-10-01 00:00", tz="Europe/Stockholm"),
        pd.Timestamp("2026-10-31 23:59", tz="Europe/Stockholm")]))
    got = store.read("finding", start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
    assert len(got) == 2
    assert len(store.points("finding", start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))) == 2


def test_bbox_and_external_id_filters_run_in_the_store(store: Store) -> None:
    store.insert("finding", findings_frame(100))  # lon 17.63 + 0.0004·(i % 50), lat 59.51 + 0.0002·(i // 50)
    box = store.points("finding", bbox=(17.6299, 59.5099, 17.6321, 59.5101))
    assert sorted(box["id"]) == sorted(store.points("finding", ids=list(range(1, 7)))["id"])
    assert store.read("finding", bbox=(17.6299, 59.5099, 17.6321, 59.5101))["description"].tolist() == [
        f"lampa {i}" for i in range(6)]
    hit = store.points("finding", columns=("external_id",), external_ids=["t:7", "t:99", "nej"])
    assert sorted(hit["external_id"]) == ["t:7", "t:99"]
    for bad in ((17.7, 59.5, 17.6, 59.6), ("a", 1, 2, 3), (1, 2, 3), (float("nan"), 59.5, 17.7, 59.6)):
        with pytest.raises(ValidationError, match="bbox must be"):
            store.points("finding", bbox=bad)


def test_postgis_has_real_geometry_and_spatial_index(pg_url: str) -> None:
    s = open_store(pg_url)
    s.init()
    with s.engine.connect() as conn:
        typ = conn.execute(sa.text(
            "SELECT type, srid FROM geometry_columns WHERE f_table_name = 'findings'")).one()
        idx = conn.execute(sa.text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'findings' AND indexname = 'ix_findings_geom'"
        )).scalar()
    s.dispose()
    assert typ == ("GEOMETRY", 4326)
    assert idx is not None, "no index ix_findings_geom"
    assert "gist" in idx.lower()


def test_init_upgrades_first_migration_and_keeps_rows(store: Store) -> None:
    # Start over from migration 0001 on an empty database of the same backend.
    with store.engine.begin() as conn:
        tables = sa.inspect(conn).get_table_names()
    assert "routing" in tables
    s = store
    if s.backend == "sqlite":
        path = Path(s.url.removeprefix("sqlite:///"))
        s.dispose()
        for p in path.parent.glob(path.name + "*"):
            p.unlink()
        s = open_store(f"sqlite:///{path}")
    else:
        with s.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public; CREATE EXTENSION postgis")
    assert s.init("0001") == "0001"
    with s.engine.begin() as conn:
        assert "routing" not in sa.inspect(conn).get_table_names()
    # A row written by the old schema (no `supporters` column yet).
    geom = shapely.Point(17.63, 59.51)
    wkb = shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True) if s.backend != "sqlite" \
        else shapely.to_wkb(geom)
    now = dt.datetime(2026, 10, 1, 18, tzinfo=dt.UTC)
    from trygghetskarta.store import tables as t

    cols = [c for c in t.findings.columns if c.name != "supporters"]
    with s.engine.begin() as conn:
        conn.execute(sa.insert(sa.table("findings", *[sa.column(c.name, c.type) for c in cols])).values(
            id=1, category="klotter", description="gammal rad", severity=2, positive=False, status="ny",
            reported_at=now, audience="publik", source="test", created_at=now, updated_at=now,
            lon=17.63, lat=59.51, geom=wkb))
    assert s.init() == "0007"  # the head
    back = s.read("finding")
    assert list(back["description"]) == ["gammal rad"]
    assert int(back["supporters"].iloc[0]) == 0
    assert back.geometry.iloc[0].equals(geom)


_WRITER = """
import sys
import geopandas as gpd, pandas as pd, shapely
from trygghetskarta.store import open_store
url, worker = sys.argv[1], int(sys.argv[2])
s = open_store(url)
t0 = pd.Timestamp("2026-10-12 19:30", tz="Europe/Stockholm")
for i in range(500):
    n = worker * 1000 + i
    s.insert("finding", gpd.GeoDataFrame(
        {"category": ["klotter"], "reported_at": [t0], "external_id": [f"p:{n}"]},
        geometry=[shapely.Point(17.63 + i * 1e-5, 59.51)], crs="EPSG:4326"))
print("wrote 500")
"""


def test_two_processes_write_500_each_into_sqlite(tmp_path: Path) -> None:
    """Two processes, each writing 500 findings one transaction at a time into the same SQLite file."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    open_store(url).init()
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, url, str(w)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for w in (0, 1)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert "wrote 500" in out
        assert "locked" not in err
    s = open_store(url)
    back = s.points("finding", columns=["id", "external_id"])
    assert len(back) == 1000
    assert back["id"].is_unique and back["external_id"].is_unique


def test_repr_hides_password() -> None:
    s = open_store("postgresql://user:hemligt@127.0.0.1:1/none")
    assert "hemligt" not in repr(s)
    assert "***" in repr(s)


def test_area_with_a_taken_name_is_named_not_a_database_error(store: Store) -> None:
    from trygghetskarta.geography import shipped_areas

    store.insert("area", shipped_areas())
    again = shipped_areas().iloc[[0]].copy()
    again["external_id"] = "regso:x"
    with pytest.raises(ValidationError, match="area row 1: an area named 'Kungsängen' already exists"):
        store.insert("area", again)
    assert store.count("area") == 12


def test_official_areas_replace_the_approximate_ones(store: Store) -> None:
    from trygghetskarta import demo
    from trygghetskarta.geography import shipped_areas

    demo.fill(store, seed=9)
    approx = shipped_areas()
    official = approx[approx["name"].isin(["Bro", "Kungsängen"])].copy()
    official["source"] = "regso"
    official["name"] = ["RegSO Kungsängen", "RegSO Bro"]
    official["external_id"] = ["regso:1", "regso:2"]
    store.insert("area", official)
    areas = store.areas()
    assert set(areas["source"]) == {"regso"} and len(areas) == 2
    findings = store.read("finding")
    placed = findings["area_id"].dropna().astype(int)
    assert set(placed) <= set(areas["id"]) and len(placed) > 0
    # A failing official import leaves the stored areas as they were.
    bad = official.copy()
    bad["external_id"] = ["regso:3", "regso:4"]
    bad["name"] = ["X", "X"]
    with pytest.raises(ValidationError, match="already exists"):
        store.insert("area", bad)
    assert len(store.areas()) == 2
