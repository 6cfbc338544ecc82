"""Issue 15: several app instances over one database. The data version lives in the database and every write
transaction advances it (so no write path can forget to), and every view of restricted rows is audited, also
through ``points()`` and through a cache (``deferred_view_audit``). On both backends."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely.geometry import Point

from trygghetskarta.access import Viewer
from trygghetskarta.errors import StoreError, ValidationError
from trygghetskarta.store import RestrictedView, Store, deferred_view_audit, open_store
from trygghetskarta.store import tables as t

PLANNER = Viewer("planner_dv", "planerare")
FIELD = Viewer("falt_dv", "faltgrupp")


def _findings(store: Store, audiences: list[str]) -> list[int]:
    now = dt.datetime.now(dt.UTC)
    rows = [{"category": "klotter", "severity": 2, "description": f"fynd {i}", "reported_at": now,
             "audience": audience, "external_id": f"dv-{audience}-{i}"} for i, audience in enumerate(audiences)]
    frame = gpd.GeoDataFrame(rows, geometry=[Point(17.63 + i / 1000, 59.51) for i in range(len(rows))],
                             crs="EPSG:4326")
    return store.insert("finding", frame).ids


def _version(store: Store) -> tuple[str, int]:
    epoch, number = store.data_version().split(":")
    return epoch, int(number)


def _restricted_events(store: Store) -> list[dict]:
    log = store.audit_log()
    rows = log[log["action"] == "view_restricted"]
    return [{"username": r.username, "kind": r.kind, **json.loads(r.detail)} for r in rows.itertuples()]


def test_every_write_transaction_advances_the_version_and_nothing_else_does(store: Store) -> None:
    epoch, before = _version(store)
    _findings(store, ["publik"])
    assert _version(store) == (epoch, before + 1)  # one insert, one transaction, one step
    store.set_meta("dv_test", "1")
    assert _version(store) == (epoch, before + 2)
    with store.write() as conn:  # a service's own transaction, with no word about caches
        conn.execute(sa.update(t.findings).values(description="ändrad"))
    assert _version(store) == (epoch, before + 3)
    store.audit("noted", PLANNER)  # the append-only audit log is never cached
    store.data_version()
    assert _version(store) == (epoch, before + 3)
    with pytest.raises(ValidationError), store.write() as conn:  # a write that fails leaves the version alone
        conn.execute(sa.update(t.findings).values(description="rullas tillbaka"))
        raise ValidationError("stop")
    assert _version(store) == (epoch, before + 3)
    with pytest.raises(StoreError):
        _findings(store, ["publik"])  # the same external id again is skipped, not an error…
        with store.write() as conn:  # …but a refused write rolls back with its version step
            conn.execute(sa.insert(t.meta).values(key="dv_test", value="dubblett"))
    assert _version(store)[1] == before + 4  # only the skipped insert's (empty) transaction counted


def test_a_write_through_another_engine_is_seen_at_the_next_read(store: Store) -> None:
    """Another process (an app instance, the CLI) has its own engine and connection pool."""
    other = open_store(store.url)
    try:
        seen = store.data_version()
        _findings(other, ["publik"])
        assert store.data_version() != seen
        assert other.data_version() == store.data_version()
    finally:
        other.dispose()


def test_the_areas_kept_by_a_store_follow_another_process_s_area_import(store: Store) -> None:
    other = open_store(store.url)
    try:
        assert store.areas().empty
        other.insert("area", gpd.GeoDataFrame([{"name": "Nytt område", "source": "import"}], geometry=[
            Point(17.6, 59.5).buffer(0.01)], crs="EPSG:4326"))
        assert store.areas()["name"].tolist() == ["Nytt område"]
    finally:
        other.dispose()


def test_a_database_made_again_has_another_epoch(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'again.sqlite'}"
    first = open_store(url)
    first.init()
    old = first.data_version()
    first.dispose()
    (tmp_path / "again.sqlite").unlink()
    second = open_store(url)
    second.init()
    try:
        assert second.data_version().split(":")[0] != old.split(":")[0]
    finally:
        second.dispose()


def test_points_and_read_audit_restricted_rows_once_per_read(store: Store) -> None:
    _findings(store, ["begransad", "begransad", "publik"])
    version = store.data_version()
    pts = store.points("finding", PLANNER, columns=["category"])
    assert "audience" not in pts  # looked at to find restricted rows, not handed out unasked
    assert _restricted_events(store) == [{"username": PLANNER.username, "kind": "finding", "rows": 2}]
    store.read("finding", PLANNER)
    assert len(_restricted_events(store)) == 2
    store.points("finding", PLANNER, audiences=["publik"])
    store.points("finding", None)  # the local administrator (CLI) is not audited per read
    assert len(_restricted_events(store)) == 2
    assert store.data_version() == version  # auditing a view does not empty every cache


def test_a_cache_collects_the_views_to_audit_each_use(store: Store) -> None:
    _findings(store, ["begransad", "publik"])
    with deferred_view_audit() as views:
        store.points("finding", PLANNER)
        store.read("finding", PLANNER)
    restricted = store.points("finding", None, audiences=["begransad"])["id"].tolist()
    assert views == [RestrictedView("finding", frozenset(restricted))] * 2
    assert _restricted_events(store) == []
    store.audit_views(PLANNER, views, context="page:karta")
    # the same row read twice is one row shown
    assert _restricted_events(store) == [{"username": PLANNER.username, "kind": "finding", "rows": 1,
                                          "context": "page:karta"}]
