"""Issue 11: the pages that refresh themselves (Vandringar every 20 s, Rapportera every 30 s) kept showing new
data after the session had expired. A fragment's own rerun skips the session check in ``app.py``; the
fragments now check the session (idle timeout, account still active) before every refresh.

The refresh is driven the way Streamlit's timer drives it: an automatic rerun of the page's fragments only
(``fragment_id_queue`` with ``is_auto_rerun``), through AppTest's local script runner."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from streamlit.testing.v1 import AppTest, local_script_runner

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the pages import app_pages as the running app does
    sys.path.insert(0, str(ROOT))

from app_pages import _ui  # noqa: E402
from trygghetskarta import auth, capture, sessions  # noqa: E402
from trygghetskarta.access import Viewer  # noqa: E402
from trygghetskarta.store import Store, open_store  # noqa: E402

PASSWORD = "Kvällsvandring-i-Bro-2026"
PLANNER = Viewer("planner_live", "planerare")


@pytest.fixture
def live_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, int]]:
    """A database with a planner, a walk tonight and one finding on it."""
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    store = open_store(url)
    store.init()
    auth.create_user(store, PLANNER.username, PLANNER.role, PASSWORD)
    walk_id = store.insert("walk", gpd.GeoDataFrame([{
        "title": "Kvällsvandring idag", "started_at": dt.datetime.now(dt.UTC), "audience": "publik",
        "geometry": None}], geometry="geometry", crs="EPSG:4326")).ids[0]
    _add_finding(store, walk_id, "första fyndet")
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    yield store, walk_id
    store.dispose()


def _add_finding(store: Store, walk_id: int, description: str) -> None:
    capture.submit_finding(store, PLANNER, category="klotter", description=description, lon=17.6366, lat=59.5115,
                           walk_id=walk_id, client_id=f"live-{uuid.uuid4().hex}", find_duplicates=False)


def _logged_in(at: AppTest, store: Store) -> int:
    """Log the planner in as the login page does: a server-side session for this connection (issue #14)."""
    sid, _ticket = sessions.start(store, PLANNER)
    at.session_state["tk_user"] = {"username": PLANNER.username, "role": PLANNER.role, "organisation": None}
    at.session_state["tk_session_id"] = sid
    return sid


def _last_seen(store: Store, sid: int) -> dt.datetime:
    row = store.session_row(session_id=sid)
    assert row is not None
    return row["last_seen_at"]


def _open(page: str, store: Store) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{page}.py"), default_timeout=120)
    _logged_in(at, store)
    at.session_state["tk_lang"] = "sv"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _auto_refresh(at: AppTest, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """Rerun only the page's fragments, as their ``run_every`` timer does in the browser."""
    fragment_ids = list(at._fragment_storage._fragments)  # AppTest has no public fragment rerun
    assert fragment_ids, "the page registered no refreshing fragment"
    original = local_script_runner.RerunData

    def auto_rerun(**kwargs: Any) -> Any:
        return original(**kwargs, fragment_id_queue=list(fragment_ids), is_auto_rerun=True)

    with monkeypatch.context() as m:
        m.setattr(local_script_runner, "RerunData", auto_rerun)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _counts(at: AppTest) -> list[str]:
    title = _ui.text("walk_findings")
    return [s.value for s in at.subheader if str(s.value).startswith(title)]


PAGES = ["vandringar", "rapportera"]


@pytest.mark.parametrize("page", PAGES)
def test_refresh_shows_new_findings_while_the_session_is_valid(live_db: tuple[Store, int], page: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the driven refresh really reruns the fragment and shows new data."""
    store, walk_id = live_db
    at = _open(page, store)
    assert _counts(at) == [f"{_ui.text('walk_findings')} (1)"]
    sid = at.session_state["tk_session_id"]
    store.touch_session(sid, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    seen = _last_seen(store, sid)
    _add_finding(store, walk_id, "andra fyndet")
    _auto_refresh(at, monkeypatch)
    assert f"{_ui.text('walk_findings')} (2)" in _counts(at)
    assert _last_seen(store, sid) == seen  # a refresh is no activity: it does not extend the session


@pytest.mark.parametrize("page", PAGES)
def test_refresh_after_idle_timeout_shows_the_login_not_data(live_db: tuple[Store, int], page: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store, walk_id = live_db
    at = _open(page, store)
    sid = at.session_state["tk_session_id"]
    store.touch_session(sid, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=61))
    _add_finding(store, walk_id, "nytt efter utloggning")
    _auto_refresh(at, monkeypatch)
    assert "tk_user" not in at.session_state
    assert store.session_row(session_id=sid) is None  # ended on the server
    assert at.session_state["tk_flash"] == "session_expired"
    assert not any("(2)" in c for c in _counts(at)), _counts(at)
    assert not at.dataframe
    assert [w.value for w in at.warning] == [_ui.text("not_logged_in")]


@pytest.mark.parametrize("page", PAGES)
def test_refresh_after_the_account_was_deactivated_shows_the_login(live_db: tuple[Store, int], page: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store, walk_id = live_db
    at = _open(page, store)
    store.update_user(PLANNER.username, active=False)
    _add_finding(store, walk_id, "nytt efter avstängning")
    _auto_refresh(at, monkeypatch)
    assert "tk_user" not in at.session_state
    assert not any("(2)" in c for c in _counts(at)), _counts(at)
    assert not at.dataframe


def test_app_shows_the_login_when_the_account_was_deactivated(live_db: tuple[Store, int]) -> None:
    """The full run's gate in ``app.py`` checks the account too, not only the idle time."""
    store, _walk_id = live_db
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    sid = _logged_in(at, store)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["tk_user"]["username"] == PLANNER.username  # the control: logged in
    store.update_user(PLANNER.username, active=False)
    at.run()
    assert store.session_row(session_id=sid) is None
    assert not at.exception, [e.value for e in at.exception]
    assert "tk_user" not in at.session_state
    assert [t.label for t in at.text_input] == [_ui.text("username"), _ui.text("password")]
    assert not at.dataframe
