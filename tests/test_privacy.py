"""Small-count suppression (incl. recovering a cell by subtraction) and retention (gallra) on both backends."""

from __future__ import annotations

import datetime as dt
import itertools

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import Point, Polygon

from trygghetskarta import privacy
from trygghetskarta.access import Viewer
from trygghetskarta.errors import PermissionDeniedError, ValidationError
from trygghetskarta.store import Store

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
POLIS = Viewer("pol1", "polis", "polis")


def _recoverable(cells: pd.DataFrame, k: int, group: str | None) -> list[int]:
    """Rows whose exact value follows from a shown total minus shown cells (the attack the issue names)."""
    found = []
    groups = [cells.index] if group is None else list(cells.groupby(group).groups.values())
    for idx in groups:
        part = cells.loc[idx]
        hidden = part[part["suppressed"]]
        if len(hidden) == 1 and not part["suppressed"].all():
            found.append(int(hidden.index[0]))
    if group is not None:  # group totals against the kommun total
        margins = privacy.margin_totals(cells, group, k=k)
        if margins["suppressed"].sum() == 1 and not margins["suppressed"].all():
            found.append(-1)
    return found


def test_primary_suppression_shows_less_than_k() -> None:
    df = pd.DataFrame({"area": ["A", "B", "C", "D"], "count": [0, 3, 12, 20]})
    out = privacy.suppress_counts(df, k=5)
    assert out["count_display"].tolist()[:2] == ["<5", "<5"]
    assert out.loc[out["count"] >= 5, "count_display"].isin(["12", "20", privacy.SECONDARY]).all()
    assert out.loc[~out["suppressed"], "count_display"].astype(int).ge(5).all()


def test_single_small_area_is_not_recoverable_from_the_kommun_total() -> None:
    df = pd.DataFrame({"area": ["A", "B", "C", "D"], "count": [3, 10, 12, 20]})
    out = privacy.suppress_counts(df, k=5)
    # without secondary suppression: total 45 - 10 - 12 - 20 = 3
    assert out["suppressed"].tolist() == [True, True, False, False]
    assert out["count_display"].tolist() == ["<5", privacy.SECONDARY, "12", "20"]
    assert privacy.total_display(out, k=5) == "45"
    hidden = out.loc[out["suppressed"], "count"]
    assert len(hidden) >= 2 and hidden.sum() >= 5


def test_type_cell_is_not_recoverable_from_the_area_total() -> None:
    df = pd.DataFrame({"area": ["A", "A", "A", "B", "B"], "type": ["x", "y", "z", "x", "y"],
                       "count": [2, 8, 9, 30, 40]})
    out = privacy.suppress_counts(df, k=5, total_cols=("area",))
    a = out[out["area"] == "A"]
    assert a["suppressed"].sum() == 2  # the 2 and the next smallest (8)
    assert _recoverable(out, 5, "area") == []
    margins = privacy.margin_totals(out, "area", k=5).set_index("area")
    assert margins.loc["A", "count_display"] == "19"


def test_small_area_hidden_together_with_another_area() -> None:
    df = pd.DataFrame({"area": ["A", "A", "B", "B", "C", "C"], "type": ["x", "y"] * 3,
                       "count": [1, 2, 7, 8, 30, 40]})
    out = privacy.suppress_counts(df, k=5)
    margins = privacy.margin_totals(out, "area", k=5).set_index("area")
    # A's total (3) would otherwise follow from the kommun total minus B and C
    assert margins.loc["A", "count_display"] == "<5"
    assert margins.loc["B", "suppressed"]
    assert not margins.loc["C", "suppressed"]
    assert _recoverable(out, 5, "area") == []


@pytest.mark.parametrize("k", [3, 5])
def test_no_suppressed_cell_is_ever_recoverable(k: int) -> None:
    """Exhaustive over small tables: one level and two levels."""
    for values in itertools.product([0, 1, 4, 6, 11], repeat=4):
        flat = privacy.suppress_counts(pd.DataFrame({"area": list("ABCD"), "count": values}), k=k)
        assert _recoverable(flat, k, "area") == [], values
        assert (flat["count"] < k).le(flat["suppressed"]).all()
        two = privacy.suppress_counts(pd.DataFrame({"area": list("AABB"), "type": list("xyxy"),
                                                    "count": values}), k=k)
        assert _recoverable(two, k, "area") == [], values
        # and against the type totals when those are shown too
        both = privacy.suppress_counts(pd.DataFrame({"area": list("AABB"), "type": list("xyxy"),
                                                     "count": values}), k=k, total_cols=("area", "type"))
        assert _recoverable(both, k, "area") == [] and _recoverable(both, k, "type") == [], values


def test_suppress_counts_rejects_bad_input() -> None:
    with pytest.raises(ValidationError):
        privacy.suppress_counts(pd.DataFrame({"area": ["A"], "count": [-1]}))
    with pytest.raises(ValidationError):
        privacy.suppress_counts(pd.DataFrame({"area": ["A"]}))


def _areas_and_sightings(store: Store, per_area: dict[str, int], when: dt.datetime) -> dict[str, int]:
    names = list(per_area)
    polys = [Polygon([(17.5 + i * 0.1, 59.4), (17.58 + i * 0.1, 59.4), (17.58 + i * 0.1, 59.48),
                      (17.5 + i * 0.1, 59.48)]) for i in range(len(names))]
    ids = store.insert("area", gpd.GeoDataFrame({"name": names, "source": "approximate"}, geometry=polys,
                                                crs="EPSG:4326")).ids
    rows, geoms = [], []
    for i, (_name, n) in enumerate(per_area.items()):
        for j in range(n):
            rows.append({"type": "samling_unga" if j % 2 else "konflikt", "observed_at": when + dt.timedelta(hours=j),
                         "reported_by": "falt1", "area_id": ids[i]})
            geoms.append(Point(17.54 + i * 0.1, 59.44))
    if rows:
        store.insert("sighting", gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326"))
    return dict(zip(names, ids, strict=True))


def test_sighting_area_totals_for_partners(store: Store) -> None:
    _areas_and_sightings(store, {"Bro": 3, "Kungsängen": 10, "Brunna": 12, "Tom": 0}, NOW)
    out = privacy.sighting_area_totals(store, POLIS)
    assert list(out.columns) == ["area_id", "area", "count_display", "suppressed"]
    shown = dict(zip(out["area"], out["count_display"], strict=True))
    assert shown["Bro"] == "<5" and shown["Tom"] == "<5"
    assert shown[privacy.OUTSIDE_AREAS] == "<5"
    assert shown["Brunna"] == "12"
    # Published cells (area x ISO week x type) of at least k are shown as they are: Kungsängen's two cells of
    # 5 each. Bro's cells are left out of every sum, so no total minus shown areas can reveal them (issue 11).
    assert shown["Kungsängen"] == "10"
    assert "count" not in out
    log = store.audit_log()
    assert "view_aggregate" in set(log["action"])
    with pytest.raises(PermissionDeniedError):
        privacy.sighting_area_totals(store, Viewer("del1", "deltagare"))


def test_gallra_aggregates_then_deletes_and_is_idempotent(store: Store) -> None:
    old = dt.datetime(2024, 3, 15, 22, 30, tzinfo=dt.UTC)
    ids = _areas_and_sightings(store, {"Bro": 3, "Kungsängen": 2}, old)
    _areas_and_sightings_recent = gpd.GeoDataFrame(
        [{"type": "positiv", "observed_at": NOW - dt.timedelta(days=3), "area_id": ids["Bro"]}],
        geometry=[Point(17.54, 59.44)], crs="EPSG:4326")
    store.insert("sighting", _areas_and_sightings_recent)
    store.insert("nightwalk", pd.DataFrame([
        {"organisation": "Nattvandrarna", "walk_date": dt.date(2023, 1, 5)},
        {"organisation": "Nattvandrarna", "walk_date": dt.date(2026, 5, 1)}]))
    store.insert("incident", gpd.GeoDataFrame([
        {"source": "kommun", "type": "klotter", "occurred_at": dt.datetime(2022, 1, 1, tzinfo=dt.UTC)},
        {"source": "kommun", "type": "klotter", "occurred_at": NOW - dt.timedelta(days=10)}],
        geometry=[Point(17.54, 59.44)] * 2, crs="EPSG:4326"))
    before = store.count("sighting"), store.count("nightwalk"), store.count("incident")
    assert before == (6, 2, 2)

    dry = privacy.gallra(store, now=NOW, dry_run=True)
    assert dry["sighting"]["deleted"] == 5 and dry["sighting"]["aggregated_cells"] == 4
    assert (store.count("sighting"), store.count("nightwalk"), store.count("incident")) == before

    audit_before = len(store.audit_log(limit=100000))
    done = privacy.gallra(store, now=NOW)
    assert done["sighting"]["deleted"] == 5
    assert done["nightwalk"]["deleted"] == 1 and done["incident"]["deleted"] == 1
    assert (store.count("sighting"), store.count("nightwalk"), store.count("incident")) == (1, 1, 1)
    agg = store.sighting_aggregates()
    assert int(agg["count"].sum()) == 5
    assert set(agg["month"].astype(str)) == {"2024-03-01"}
    bro = agg[agg["area_id"] == ids["Bro"]]
    assert dict(zip(bro["type"], bro["count"], strict=True)) == {"konflikt": 2, "samling_unga": 1}
    log = store.audit_log(limit=100000)
    assert len(log) == audit_before + 1 and log.iloc[0]["action"] == "gallra"
    assert '"deleted": 5' in log.iloc[0]["detail"]
    assert store.get_meta("gallra") is None

    again = privacy.gallra(store, now=NOW)
    assert all(v["deleted"] == 0 for v in again.values())
    assert len(store.audit_log(limit=100000)) == audit_before + 1
    assert int(store.sighting_aggregates()["count"].sum()) == 5


def test_gallra_deletes_old_audit_events_only(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.audit("export", None, "finding", None, {"rows": 1})
    monkeypatch.setenv("TRYGGHETSKARTA_RETENTION_AUDIT_DAYS", "30")
    n = len(store.audit_log(limit=100000))
    assert n >= 1
    assert privacy.gallra(store, now=dt.datetime.now(dt.UTC))["audit"]["deleted"] == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    result = privacy.gallra(store, now=later)
    assert result["audit"]["deleted"] == n
    log = store.audit_log(limit=100000)
    assert log["action"].tolist() == ["gallra"]  # only the record of what gallra did is left


def test_audit_log_is_append_only(store: Store) -> None:
    store.audit("export", None, "finding", None, {"rows": 1})
    for stmt in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(sa.text(stmt))
    assert store.audit_log()["action"].tolist() == ["export"]


def test_cli_gallra_prints_one_line_per_kind(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert privacy.cli_gallra(store, dry_run=True) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == list(privacy.RETENTION_KINDS)
    assert all("would delete 0" in line for line in lines)
