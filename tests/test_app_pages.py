"""Every page, for every role, through Streamlit's AppTest: it runs without an exception for the roles that may
see it, and refuses the others at its top (refusal shown, no data). Also the login gate, the navigation per
role, the language switch, the error display and the report page's save path."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the pages import app_pages as the running app does
    sys.path.insert(0, str(ROOT))

from session_support import log_in  # noqa: E402

from app_pages import _ui  # noqa: E402
from trygghetskarta import access, auth, demo, schema  # noqa: E402
from trygghetskarta import areas as areas_rule  # noqa: E402
from trygghetskarta.access import Viewer  # noqa: E402
from trygghetskarta.store import Store, open_store  # noqa: E402

ROLES = schema.keys("role")
ORG = dict(schema.DEFAULT_ORGANISATION)  # each partner role reports for its organisation
PASSWORD = "Kvällsvandring-i-Bro-2026"
ALLOWED = [(p.key, r) for p in _ui.PAGES for r in ROLES if r in p.roles]
REFUSED = [(p.key, r) for p in _ui.PAGES for r in ROLES if r not in p.roles]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One demo database for the module (filling it per test would dominate the run time)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('apppages') / 'demo.sqlite'}"
    store = open_store(url)
    store.init()
    demo.fill(store)
    # a walk tonight with no findings yet: the report page selects it first and must cope with an empty walk
    store.insert("walk", gpd.GeoDataFrame([{"title": "Kvällsvandring idag", "started_at": dt.datetime.now(dt.UTC),
                                            "audience": "publik", "geometry": None}], geometry="geometry",
                                          crs="EPSG:4326"))
    # this week's reports (the demo season ended earlier), so the weekly figures the pages show are not all 0:
    # seconds old, so they are today's and this ISO week's whenever the test runs
    now = dt.datetime.now(dt.UTC)
    store.insert("finding", gpd.GeoDataFrame({
        "category": "klotter", "status": "ny", "audience": "publik", "reported_by": "app", "source": "test",
        "reported_at": [now - dt.timedelta(seconds=i) for i in range(1, 10)]},
        geometry=shapely.points(np.full(9, 17.7480), np.full(9, 59.4800)), crs="EPSG:4326"))
    store.insert("incident", gpd.GeoDataFrame({
        "source": "polis", "type": "skadegorelse", "precision": "gata", "owner_org": "polis", "audience": "partner",
        "title": "Skadegörelse", "reported_by": "polis",
        "occurred_at": [now - dt.timedelta(seconds=i) for i in range(1, 8)]},
        geometry=shapely.points(np.full(7, 17.7500), np.full(7, 59.4790)), crs="EPSG:4326"))
    for role in ROLES:
        auth.create_user(store, f"test_{role}", role, PASSWORD, organisation=ORG.get(role))
    store.dispose()
    yield url


@pytest.fixture
def app_env(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TRYGGHETSKARTA_DB", demo_db)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")  # never a tile request in tests
    return demo_db


def _page(key: str, role: str | None, lang: str = "sv") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{key}.py"), default_timeout=120)
    if role is not None:
        at.session_state["tk_user"] = {"username": f"test_{role}", "role": role, "organisation": ORG.get(role)}
    at.session_state["tk_lang"] = lang
    return at.run()


def _app(role: str | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if role is not None:
        log_in(at, Viewer(f"test_{role}", role, ORG.get(role)))
    return at.run()


def _texts(elements: object) -> list[str]:
    return [str(e.value) for e in elements]  # type: ignore[attr-defined]


# --- what the pages show, computed from the store independently of the pages' code ----------------------

LOCAL = ZoneInfo("Europe/Stockholm")
K = 5  # TRYGGHETSKARTA_PRIVACY_K's default: partners see a count below it as "<5"


def _local_dates(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times, utc=True).dt.tz_convert(LOCAL).dt.date


def _overdue_actions(store: Store, viewer: Viewer, today: dt.date) -> pd.DataFrame:
    """The viewer's actions not done whose deadline (else planned date) is before today."""
    a = pd.DataFrame(store.read("action", viewer).drop(columns="geometry"))
    due = pd.Series([d if d is not None and not pd.isna(d) else p
                     for d, p in zip(a["deadline"], a["planned_date"], strict=True)], index=a.index, dtype=object)
    late = pd.Series([d is not None and not pd.isna(d) and d < today for d in due], index=a.index, dtype=bool)
    return a[late & ~a["status"].isin(schema.ACTION_DONE_STATUSES)]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _check_area_table(at: AppTest, store: Store, viewer: Viewer, today: dt.date) -> None:
    """The lägesbild's table (Översikt shows it too): one row per area, and the overdue actions each row
    names are the store's (an area counts the areas inside it; partners: not judged below k)."""
    [table] = [t.value for t in at.table if "Områden" in t.value.columns]
    areas = store.areas()
    assert sorted(table["Områden"]) == sorted(areas["name"])
    members = areas_rule.nesting(areas).members
    per_area = _overdue_actions(store, viewer, today)["area_id"].value_counts()
    partner = viewer.role in schema.PARTNER_ROLES
    named = 0
    for name, why in zip(table["Områden"], table["Varför"], strict=True):
        aid = int(areas.loc[areas["name"] == name, "id"].iloc[0])
        n = int(sum(per_area.get(m, 0) for m in members[aid]))
        found = re.search(r"(\d+) försenade? åtgärd(?:er)? i dag", why)
        if n >= (K if partner else 1):
            assert found is not None and int(found.group(1)) == n, (name, why, n)
            named += 1
        else:
            assert found is None, (name, why, n)
    if viewer.role in ("planerare", "admin"):
        assert named > 0  # the demo has overdue actions: the check above compared real numbers


def _check_oversikt(at: AppTest, store: Store, viewer: Viewer) -> None:
    today = dt.datetime.now(LOCAL).date()
    week = (today - dt.timedelta(days=6), today)
    shown = _metrics(at)
    findings = store.read("finding", viewer)
    assert shown.pop("Öppna fynd") == str(int(findings["status"].isin(schema.OPEN_STATUSES).sum()))
    recent = _local_dates(findings["reported_at"]).between(*week)
    assert int(recent.sum()) >= 9  # the fixture's reports of today
    assert shown.pop("Nya fynd senaste 7 dagarna") == str(int(recent.sum()))
    if access.policy(viewer, "action").mode != "none":
        assert shown.pop("Försenade åtgärder") == str(len(_overdue_actions(store, viewer, today)))
    if access.policy(viewer, "incident").mode != "none":
        incidents = store.read("incident", viewer)
        assert shown.pop("Partnerhändelser senaste 7 dagarna") == str(
            int(_local_dates(incidents["occurred_at"]).between(*week).sum()))
    assert shown == {}, shown  # no figure left unchecked
    _check_area_table(at, store, viewer, today)


def _check_lagesbild(at: AppTest, store: Store, viewer: Viewer) -> None:
    """This ISO week's totals per kind (partners: "<5" below k) and the area table, against the store."""
    today = dt.datetime.now(LOCAL).date()
    monday = today - dt.timedelta(days=today.weekday())
    week = (monday, monday + dt.timedelta(days=6))
    partner = viewer.role in schema.PARTNER_ROLES
    shown = _metrics(at)

    def display(n: int) -> str:
        return f"<{K}" if partner and n < K else str(n)

    findings = store.read("finding", viewer)
    assert shown["Fynd (trygghetsvandring och app)"] == display(
        int(_local_dates(findings["reported_at"]).between(*week).sum()))
    if access.policy(viewer, "incident").mode != "none":
        incidents = store.read("incident", viewer)
        assert shown["Partnerhändelser"] == display(int(_local_dates(incidents["occurred_at"]).between(*week).sum()))
    _check_area_table(at, store, viewer, today)


SHOWN: dict[str, Callable[[AppTest, Store, Viewer], None]] = {"oversikt": _check_oversikt,
                                                             "lagesbild": _check_lagesbild}


@pytest.mark.parametrize(("page", "role"), ALLOWED)
def test_page_runs_for_allowed_role(app_env: str, page: str, role: str) -> None:
    at = _page(page, role)
    assert not at.exception, [e.value for e in at.exception]
    errors = _texts(at.error)
    assert not any("fel-id" in e or "har inte tillgång" in e for e in errors), errors
    assert at.title and at.title[0].value == _ui.text(f"page_{page}")
    if page in SHOWN:
        store = open_store(app_env)
        try:
            SHOWN[page](at, store, Viewer(f"test_{role}", role, ORG.get(role)))
        finally:
            store.dispose()


@pytest.mark.parametrize(("page", "role"), REFUSED)
def test_page_refuses_role(app_env: str, page: str, role: str) -> None:
    at = _page(page, role)
    assert not at.exception
    assert any("har inte tillgång till sidan" in e for e in _texts(at.error))
    # nothing after the check ran: no tables, figures, inputs or map
    assert not at.dataframe and not at.metric and not at.selectbox and not at.button
    assert not at.get("bidi_component") and not at.get("component_instance")


@pytest.mark.parametrize("page", [p.key for p in _ui.PAGES])
def test_page_refuses_anonymous(app_env: str, page: str) -> None:
    at = _page(page, None)
    assert not at.exception
    assert _texts(at.warning) == [_ui.text("not_logged_in")]
    assert not at.dataframe and not at.metric


@pytest.mark.parametrize("role", ROLES)
def test_navigation_shows_each_role_only_its_pages(app_env: str, role: str) -> None:
    at = _app(role)
    assert not at.exception
    allowed = {p.key for p in _ui.pages_for(role)}
    home = _ui.HOME.get(role, "oversikt") if _ui.HOME.get(role, "oversikt") in allowed else _ui.pages_for(role)[0].key
    assert at.title[0].value == _ui.text(f"page_{home}")
    for p in _ui.PAGES:
        if p.key in allowed:
            at.switch_page(p.path).run()
            assert not at.exception
            assert at.title[0].value == _ui.text(f"page_{p.key}")
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(p.path)


def test_login_gate_and_local_login(app_env: str) -> None:
    at = _app(None)
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Användarnamn", "Lösenord"]
    assert not at.dataframe and not at.metric
    at.text_input[0].input("test_planerare")
    at.text_input[1].input("fel-lösenord-som-är-långt")
    at.button[0].click().run()
    assert any("Inloggningen misslyckades" in e for e in _texts(at.error))
    assert "tk_user" not in at.session_state
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["tk_user"]["role"] == "planerare"
    # the browser is sent to the session route with a one-time ticket (it sets the HttpOnly cookie, issue #14)
    [handover] = [h.proto.body for h in at.get("html") if "/auth/session?ticket=" in h.proto.body]
    assert "next=%2F" in handover and not at.title
    at.run()  # back from the route: the planner's home page
    assert not at.exception
    assert at.title[0].value == "Översikt"


def test_expired_session_goes_back_to_login(app_env: str) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    sid = log_in(at, Viewer("test_planerare", "planerare", None), idle=dt.timedelta(hours=5))
    at.run()
    assert "tk_user" not in at.session_state
    store = open_store(app_env)
    try:
        assert store.session_row(session_id=sid) is None  # ended on the server, not only in this connection
    finally:
        store.dispose()
    assert _texts(at.info) == [_ui.text("session_expired")]


def test_language_switch_to_english(app_env: str) -> None:
    at = _page("karta", "planerare", lang="en")
    assert not at.exception
    assert at.title[0].value == "Map"
    assert at.caption[0].value.startswith("Shown:")


def test_map_page_has_no_base_map_when_none(app_env: str) -> None:
    at = _page("karta", "planerare")
    [frame] = at.get("iframe")
    document = frame.proto.srcdoc
    assert "L.map(" in document and "Bro" in document
    assert "{z}/{x}/{y}" not in document and "L.tileLayer(" not in document  # no base-map tiles at all
    # Leaflet and its plugins come from the app (its component file route), never from a CDN
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', document)
    assert re.search(r'<script src="/component/app_pages\._assets\.map_libraries/[0-9a-f]{20}\.js">', document)


def test_unexpected_error_is_logged_with_an_id(app_env: str, tmp_path: Path) -> None:
    at = AppTest.from_string(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom app_pages import _ui as ui\n"
        "with ui.guard():\n    raise RuntimeError('internal detail that must not be shown')\n", default_timeout=60)
    at.run()
    assert not at.exception
    [message] = _texts(at.error)
    assert message.startswith("Något gick fel (fel-id ") and "internal detail" not in message
    error_id = message.split("fel-id ")[1].split(")")[0]
    log = (tmp_path / "data" / "logs" / "app.log").read_text(encoding="utf-8")
    assert error_id in log and "internal detail that must not be shown" in log and "Traceback" in log


def test_project_error_is_shown_as_its_message(app_env: str) -> None:
    at = AppTest.from_string(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom app_pages import _ui as ui\n"
        "from trygghetskarta.errors import ValidationError\n"
        "with ui.guard():\n    raise ValidationError('row 3: unknown category x')\n", default_timeout=60).run()
    # shown as plain text: the message quotes inputs, so its punctuation is escaped for Markdown
    assert _texts(at.error) == ["row 3\\: unknown category x"]


def test_report_page_saves_a_finding_once(app_env: str) -> None:
    from trygghetskarta import capture
    from trygghetskarta.access import Viewer

    store = open_store(app_env)
    before = store.count("finding")
    # whether the page must ask about a duplicate: an open underpass finding the reporter sees within the radius
    asks = bool(capture.duplicate_candidates(store, "gangtunnel", 17.6366, 59.5115,
                                             viewer=Viewer("test_deltagare", "deltagare")))
    at = _page("rapportera", "deltagare")
    at.session_state["rap_cat_0"] = "gangtunnel"
    at.session_state["rap_finding_tap"] = (17.6366, 59.5115)
    at.text_area[0].input("Mörk gångtunnel under järnvägen")
    at.run()
    save = next(b for b in at.button if b.label == _ui.text("save"))
    save.click().run()
    assert not at.exception, [e.value for e in at.exception]
    dup_new = [b for b in at.button if b.label == _ui.text("dup_new")]
    assert bool(dup_new) == asks  # the duplicate question comes exactly when a candidate is near
    if asks:
        dup_new[0].click().run()
    assert any(s.startswith("Sparat (nr ") for s in _texts(at.success)), _texts(at.success)
    assert store.count("finding") == before + 1
    stored = store.read("finding", None).iloc[-1]
    assert stored["category"] == "gangtunnel" and stored["reported_by"] == "test_deltagare"
    assert stored["description"] == "Mörk gångtunnel under järnvägen"
    assert stored["walk_id"] == at.session_state["rap_walk"]  # today's walk was offered first
    at.run()  # a rerun after the save must not store it again
    assert store.count("finding") == before + 1
    store.dispose()


def test_report_page_confirms_a_save_whose_run_was_cut_off(app_env: str) -> None:
    """A save committed by a run that Streamlit stopped (its session-state writes dropped) leaves the client
    id pending; the next run finds the stored report, confirms it and opens a fresh form."""
    from trygghetskarta import capture
    from trygghetskarta.access import Viewer

    store = open_store(app_env)
    client_id = "cut-off-run-0001"
    res = capture.submit_finding(store, Viewer("test_deltagare", "deltagare"), category="klotter",
                                 lon=17.6366, lat=59.5115, client_id=client_id)
    at = AppTest.from_file(str(ROOT / "app_pages" / "rapportera.py"), default_timeout=120)
    at.session_state["tk_user"] = {"username": "test_deltagare", "role": "deltagare", "organisation": None}
    at.session_state["tk_lang"] = "sv"
    at.session_state["rap_finding_client"] = client_id
    at.session_state["rap_finding_tap"] = (17.6366, 59.5115)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"Sparat (nr {res.id})." in _texts(at.success)
    assert "rap_finding_client" not in at.session_state and at.session_state["rap_finding_n"] == 1
    assert "rap_finding_tap" not in at.session_state  # the next report starts without the old position
    # A pending client id that is not stored (the save failed) keeps the filled form for another try.
    at.session_state["rap_finding_client"] = "never-stored-0002"
    at.run()
    assert at.session_state["rap_finding_client"] == "never-stored-0002"
    store.dispose()


def test_streamlit_config_keeps_runs_whole() -> None:
    """Fast reruns drop a stopped run's session state (a save's confirmation with it); the post-run full GC
    dominated the server under load. Both stay off (see .streamlit/config.toml)."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"] == {"postScriptGC": False, "fastReruns": False}



def test_admin_fills_demo_data_with_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'training.sqlite'}"
    store = open_store(url)
    store.init()
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    at = _page("admin", "admin")
    fill = next(b for b in at.button if b.label == _ui.text("demo_fill"))
    fill.click().run()
    assert not at.exception, [e.value for e in at.exception]
    [done] = [s for s in _texts(at.success) if "poster skrivna" in s]
    written = int(done.split(" ")[0])
    counts = sum(store.count(kind) for kind in ("walk", "finding", "incident", "sighting", "nightwalk", "action"))
    assert written > 100 and counts >= written - store.count("area")
    assert store.get_meta("demo")
    next(b for b in at.button if b.label == _ui.text("demo_fill")).click().run()  # the same seed again
    assert any(s.startswith("0 poster skrivna") for s in _texts(at.success)), _texts(at.success)
    store.dispose()
