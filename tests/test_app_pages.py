"""Every page, for every role, through Streamlit's AppTest: it runs without an exception for the roles that may
see it, and refuses the others at its top (refusal shown, no data). Also the login gate, the navigation per
role, the language switch, the error display and the report page's save path."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the pages import app_pages as the running app does
    sys.path.insert(0, str(ROOT))

from app_pages import _ui  # noqa: E402
from trygghetskarta import auth, demo, schema  # noqa: E402
from trygghetskarta.store import open_store  # noqa: E402

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
        at.session_state["tk_user"] = {"username": f"test_{role}", "role": role, "organisation": ORG.get(role)}
        at.session_state["tk_last_seen"] = dt.datetime.now(dt.UTC)
    return at.run()


def _texts(elements: object) -> list[str]:
    return [str(e.value) for e in elements]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("page", "role"), ALLOWED)
def test_page_runs_for_allowed_role(app_env: str, page: str, role: str) -> None:
    at = _page(page, role)
    assert not at.exception, [e.value for e in at.exception]
    errors = _texts(at.error)
    assert not any("fel-id" in e or "har inte tillgång" in e for e in errors), errors
    assert at.title and at.title[0].value == _ui.text(f"page_{page}")


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
    assert any("login failed" in e for e in _texts(at.error))
    assert "tk_user" not in at.session_state
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["tk_user"]["role"] == "planerare"
    assert at.title[0].value == "Översikt"


def test_expired_session_goes_back_to_login(app_env: str) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["tk_user"] = {"username": "test_planerare", "role": "planerare", "organisation": None}
    at.session_state["tk_last_seen"] = dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)
    at.run()
    assert "tk_user" not in at.session_state
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
    store = open_store(app_env)
    before = store.count("finding")
    at = _page("rapportera", "deltagare")
    at.session_state["rap_cat_0"] = "gangtunnel"
    at.session_state["rap_finding_tap"] = (17.6366, 59.5115)
    at.text_area[0].input("Mörk gångtunnel under järnvägen")
    at.run()
    save = next(b for b in at.button if b.label == _ui.text("save"))
    save.click().run()
    assert not at.exception, [e.value for e in at.exception]
    dup_new = [b for b in at.button if b.label == _ui.text("dup_new")]
    if dup_new:  # the demo season may have an open underpass finding within the radius
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
