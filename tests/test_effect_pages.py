"""#17 where users reach it: the effect on the Åtgärder page, the map's accuracy beside Karta, the
trygghetsmätning beside events on Översikt (Streamlit AppTest on one demo database); and the follow-up share."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from trygghetskarta import actions, demo, effect_service, perceived  # noqa: E402
from trygghetskarta.store import open_store  # noqa: E402


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("effectpages")
    url = f"sqlite:///{folder / 'demo.sqlite'}"
    store = open_store(url)
    store.init()
    demo.fill(store)
    survey = folder / "tm.csv"
    survey.write_text("år;område;fråga;problemindex\n2026;Bro centrum;Nedskräpning;3,9\n"
                      "2026;Bro centrum;Otrygg ute sent;2,5\n2026;Kungsängen centrum;Nedskräpning;1,1\n",
                      encoding="utf-8")
    assert perceived.import_file(store, survey).summary_line() == "accepted 3, rejected 0, already present 0"
    store.dispose()
    yield url


@pytest.fixture
def app_env(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TRYGGHETSKARTA_DB", demo_db)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    return demo_db


def _page(key: str, role: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{key}.py"), default_timeout=120)
    at.session_state["tk_user"] = {"username": f"test_{role}", "role": role, "organisation": None}
    at.session_state["tk_lang"] = "sv"
    return at.run()


def test_atgarder_page_shows_the_effect_of_the_planted_action(app_env: str) -> None:
    at = _page("atgarder", "planerare")
    assert not at.exception
    [picker] = [s for s in at.selectbox if s.label == "Åtgärd"]
    shown = next(o for o in picker.options if demo.EFFECT_ACTION in o)  # "nr 42 – Ny belysning ..."
    picker.set_value(int(shown.split(" ")[1]))
    store = open_store(app_env)
    control_id = int(store.area_id_by_name(demo.EFFECT_CONTROL))
    store.dispose()
    [control] = [m for m in at.multiselect if m.label.startswith("Kontrollområde")]
    control.set_value([control_id])
    [kinds] = [m for m in at.multiselect if m.label == "Vad räknas"]
    kinds.unselect("finding")
    [run] = [b for b in at.button if b.label == "Hjälpte det? Effekt mot ett kontrollområde"]
    run.click()
    at.run()
    assert not at.exception
    verdicts = [str(i.value).replace("\\", "") for i in at.info]  # the page escapes text for Markdown
    assert any(v.startswith("Färre händelser än i kontrollområdet") for v in verdicts), verdicts
    assert any("WDD" in str(df.value) for df in at.dataframe)


def test_karta_shows_how_far_the_hot_spots_can_be_trusted(app_env: str) -> None:
    at = _page("karta", "planerare")
    assert not at.exception
    shown = [str(i.value).replace("\\", "") for i in at.info]  # the page escapes text for Markdown
    assert any("av nästa månads händelser på 5 % av ytan; PAI" in text for text in shown), shown


def test_oversikt_shows_the_trygghetsmatning_beside_events(app_env: str) -> None:
    at = _page("oversikt", "planerare")
    assert not at.exception
    assert any(h.value == "Upplevd trygghet bredvid anmälda händelser" for h in at.subheader)
    frames = [df.value for df in at.dataframe if "Problemindex (medel)" in df.value.columns]
    assert frames and frames[0].iloc[0]["Problemindex (medel)"] == pytest.approx(3.2)


def test_share_feeling_safer_before_and_after(app_env: str) -> None:
    store = open_store(app_env)
    try:
        walks = store.read("walk")
        found = store.points("finding", None, walk_id=int(walks["id"].iloc[0]))
        ids = found["id"].astype(int).tolist()[:3]
        for fid, safer in zip(ids, (True, True, False), strict=True):
            actions.record_followup(store, fid, int(walks["id"].iloc[0]), True, safer)
        points = found[found["id"].isin(ids)]
        import shapely

        target = shapely.MultiPoint(list(zip(points["lon"], points["lat"], strict=True))).buffer(0.0005)
        zones = effect_service.zones_for(target, None, 0)
        after = effect_service.safer_shares(store, None, zones, dt.date(2020, 1, 1))
        before = effect_service.safer_shares(store, None, zones, dt.date(2100, 1, 1))
        assert after["after"] == {"yes": 2, "answered": 3, "share": 0.667}
        assert after["before"]["answered"] == 0 and before["before"]["answered"] == 3
    finally:
        store.dispose()


def test_import_page_imports_the_trygghetsmatning(app_env: str, tmp_path: Path) -> None:
    at = _page("import_export", "planerare")
    assert not at.exception
    assert any(h.value == "Polisens trygghetsmätning" for h in at.subheader)
