"""Issue 15, in the pages' own layer (AppTest): the cached reads are keyed on the database's data version, read
once per run; a write through another store (another instance, the CLI) is shown at the next run without any
page announcing it; every view of restricted rows is audited, a cache hit as much as the first read; a user
demoted through another instance must log in again at their next interaction."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the pages import app_pages as the running app does
    sys.path.insert(0, str(ROOT))

from session_support import log_in  # noqa: E402

from trygghetskarta import auth  # noqa: E402
from trygghetskarta.access import Viewer  # noqa: E402
from trygghetskarta.store import Store, open_store  # noqa: E402

PASSWORD = "Kvällsvandring-i-Bro-2026"
PLANNER = "planner_pages_dv"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'dv.sqlite'}"
    store = open_store(url)
    store.init()
    auth.create_user(store, PLANNER, "planerare", PASSWORD)
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    yield store
    store.dispose()


def _add(store: Store, n: int, audience: str) -> None:
    now = dt.datetime.now(dt.UTC)
    start = store.count("finding")
    rows = [{"category": "klotter", "severity": 2, "reported_at": now, "audience": audience,
             "external_id": f"pages-dv-{start + i}"} for i in range(n)]
    store.insert("finding", gpd.GeoDataFrame(rows, geometry=[Point(17.63, 59.51)] * n, crs="EPSG:4326"))


def _script() -> None:
    import streamlit as st

    from app_pages import _ui
    from trygghetskarta.access import Viewer

    v = Viewer("planner_pages_dv", "planerare")
    frames = [_ui.points("finding", v), _ui.points("finding", v), _ui.read("finding", v)]
    st.write(f"rows={len(frames[0])},{len(frames[1])},{len(frames[2])}")


def _app() -> AppTest:
    at = AppTest.from_function(_script, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(at: AppTest) -> str:
    return next(m.value for m in at.markdown if str(m.value).startswith("rows="))


def _restricted(store: Store) -> list[dict]:
    log = store.audit_log()
    return [{"kind": r.kind, **json.loads(r.detail)} for r in log[log["action"] == "view_restricted"].itertuples()]


def test_a_write_through_another_store_is_shown_at_the_next_run(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _add(db, 2, "publik")
    reads: list[str] = []
    original = Store.data_version

    def counted(self: Store) -> str:
        reads.append(self.url)
        return original(self)

    monkeypatch.setattr(Store, "data_version", counted)
    at = _app()
    assert _shown(at) == "rows=2,2,2"
    assert len(reads) == 1  # three cached reads, one read of the data version in the run
    other = open_store(db.url)  # another process's store: no page of this one is told of the write
    try:
        _add(other, 1, "publik")
    finally:
        other.dispose()
    reads.clear()  # (the other store read it too, to place the finding in its area)
    at.run()
    assert _shown(at) == "rows=3,3,3"
    assert len(reads) == 1


def test_restricted_rows_are_audited_on_every_view_cache_hits_too(db: Store) -> None:
    _add(db, 2, "begransad")
    _add(db, 1, "publik")
    at = _app()
    first = _restricted(db)
    assert [e["rows"] for e in first] == [2]  # two reads of the same rows in the run: one event
    assert first[0]["context"].startswith("page:")
    at.run()  # the same page again: every read is a cache hit now, and the view is audited again
    at.run()
    events = _restricted(db)
    assert [e["kind"] for e in events] == ["finding"] * 3  # one event per view of the page, not one per read
    assert [e["rows"] for e in events] == [2, 2, 2]


def test_a_user_demoted_through_another_instance_logs_in_again(db: Store) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    log_in(at, Viewer(PLANNER, "planerare", None), db.url)
    at.session_state["tk_lang"] = "sv"
    other = open_store(db.url)
    try:
        other.update_user(PLANNER, role="deltagare")
    finally:
        other.dispose()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "tk_user" not in at.session_state
    assert [t.label for t in at.text_input] == ["Användarnamn", "Lösenord"]  # the login, not a page of the old role
    assert any("Sessionen har gått ut" in str(i.value) for i in at.info)
