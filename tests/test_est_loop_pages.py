"""The loop from walk to verified fix (issue 12) through the pages, with Streamlit's AppTest: the planner
assigns findings one after another, the follow-up checklist at the next walk (every finding, its place,
photo and text; "inte åtgärdat" on a planned finding; participants answering on the phone), and the
protocol download rendered from the current state."""

from __future__ import annotations

import datetime as dt
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the pages import app_pages as the running app does
    sys.path.insert(0, str(ROOT))

from app_pages import _ui  # noqa: E402
from trygghetskarta import access, actions, demo  # noqa: E402
from trygghetskarta.store import open_store  # noqa: E402

PLANNER = access.Viewer("test_planerare", "planerare")


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A demo database of its own per test (the tests write to it)."""
    url = f"sqlite:///{tmp_path / 'loop.sqlite'}"
    store = open_store(url)
    store.init()
    demo.fill(store)
    store.dispose()
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")  # never a tile request in tests
    yield url


def _page(key: str, user: str, role: str, organisation: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{key}.py"), default_timeout=180)
    at.session_state["tk_user"] = {"username": user, "role": role, "organisation": organisation}
    at.session_state["tk_last_seen"] = dt.datetime.now(dt.UTC)
    at.session_state["tk_lang"] = "sv"
    return at.run()


def _texts(elements: object) -> list[str]:
    return [str(e.value) for e in elements]  # type: ignore[attr-defined]


def _no_error(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not _texts(at.error), _texts(at.error)


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 40, 200)).save(buf, format="JPEG")
    return buf.getvalue()


def _picker(at: AppTest):
    return next(m for m in at.multiselect if m.label == _ui.text("findings_to_assign"))


def _create(at: AppTest, what: str) -> None:
    next(t for t in at.text_input if t.label == _ui.text("what")).input(what)
    next(b for b in at.button if b.label == _ui.text("create_action")).click().run()


# --- Åtgärder ----------------------------------------------------------------------------------------


def test_planner_assigns_findings_one_after_another(app_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the browser keeps a multiselect's chips after an action is created (and another planner may
    assign a chosen finding meanwhile), so the picker sent a finding that was no longer among its options and
    the page ended in "Något gick fel" (its format_func gave None for the stale label)."""
    from streamlit.testing.v1.element_tree import Multiselect

    store = open_store(app_db)
    at = _page("atgarder", "test_planerare", "planerare")
    _no_error(at)
    first, second, third = (int(o.split(" ")[1]) for o in _picker(at).options[:3])
    stale, fresh = (next(o for o in _picker(at).options if o.startswith(f"nr {i} ")) for i in (first, second))
    _picker(at).select(first).run()
    # another planner (another session) assigns the first finding meanwhile
    other = _page("atgarder", "test_planerare2", "planerare")
    _picker(other).select(first).run()
    _create(other, "Byt armatur")
    _no_error(other)
    at.run()  # this planner's page runs again: the first finding is no longer among the options
    _no_error(at)
    notes = _texts(at.warning)
    # but the browser still shows the first finding's chip and the planner adds the second: it sends both labels
    original = inspect.getattr_static(Multiselect, "values")  # the property itself, to call and to put back
    monkeypatch.setattr(Multiselect, "values", property(
        lambda self: [stale, fresh] if self.label == _ui.text("findings_to_assign") else original.fget(self)))
    at.run()
    monkeypatch.setattr(Multiselect, "values", original)
    _no_error(at)
    assert _picker(at).value == [second]  # the stale one is dropped
    assert any(f"nr {first}" in w for w in notes), notes  # and the planner was told
    _create(at, "Klipp häcken")
    _no_error(at)
    assert any(s.startswith("Åtgärd nr ") for s in _texts(at.success))
    assert _picker(at).value == []  # a fresh picker for the next action
    # and straight on to the next one, without reloading
    _picker(at).select(third).run()
    _no_error(at)
    _create(at, "Laga bänken")
    _no_error(at)
    linked = store.action_finding_ids()
    assert {first, second, third} <= set(linked["finding_id"])
    assert all(store.get("finding", f)["status"] == "tilldelad" for f in (second, third))
    store.dispose()


def test_an_action_gets_a_deadline_and_the_list_shows_what_is_overdue(app_db: str) -> None:
    store = open_store(app_db)
    at = _page("atgarder", "test_planerare", "planerare")
    late_before = next((w for w in _texts(at.warning) if "passerat sitt senast-datum" in w), "0 ")
    fid = int(_picker(at).options[0].split(" ")[1])
    _picker(at).select(fid).run()
    next(d for d in at.date_input if d.label == _ui.text("deadline")).set_value(dt.date(2026, 1, 15))
    next(d for d in at.date_input if d.label == _ui.text("planned_date")).set_value(dt.date(2026, 1, 10))
    _create(at, "Röj slyet vid gångvägen")
    _no_error(at)
    action_id = int(store.action_finding_ids().query("finding_id == @fid")["action_id"].max())
    action = store.get("action", action_id)
    assert (action["planned_date"], action["deadline"]) == (dt.date(2026, 1, 10), dt.date(2026, 1, 15))
    late = next(w for w in _texts(at.warning) if "passerat sitt senast-datum" in w)
    assert int(late.split(" ")[0]) == int(late_before.split(" ")[0]) + 1
    next(g for g in at.button_group if g.label == _ui.text("action_view")).set_value(False).run()
    _no_error(at)
    [table] = at.dataframe
    shown = table.value
    assert _ui.text("deadline") in shown.columns
    first = shown.iloc[0]
    assert int(first["nr"]) in set(store.read("action")["id"]) and int(first[_ui.text("days_overdue")]) > 0
    days = shown[_ui.text("days_overdue")].astype(int)
    late_rows = (days > 0).tolist()
    assert late_rows == sorted(late_rows, reverse=True)  # overdue first
    assert days[days > 0].is_monotonic_decreasing  # by deadline: the longest overdue first
    store.dispose()


# --- the follow-up at the next walk ------------------------------------------------------------------------


def _last_walk(store) -> dict:
    return store.read("walk").sort_values("started_at").iloc[-1].to_dict()


def _with_findings_before(store, walk: dict, n: int, text: str) -> None:
    """``n`` open findings with the same text in the walk's area, reported before it, a few metres apart."""
    area = store.areas().set_index("id").loc[int(walk["area_id"]), "geometry"].representative_point()
    rows = [{"category": "klotter", "description": text, "status": "ny", "source": "app",
             "reported_at": pd.Timestamp(walk["started_at"]) - pd.Timedelta(days=2),
             "geometry": shapely.Point(area.x + i * 2e-4, area.y)} for i in range(n)]
    store.insert("finding", gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326"))


def _cards(at: AppTest) -> list[str]:
    """The follow-up cards' headings ("**Kategori** · Status · nr N")."""
    return [m for m in _texts(at.markdown) if " · nr " in m]


def _card_ids(at: AppTest) -> list[int]:
    return [int(m.rsplit("nr ", 1)[1]) for m in _cards(at)]


def test_followup_checklist_holds_every_finding_with_place_photo_and_text(app_db: str) -> None:
    """Regression: the checklist stopped at 30 cards with no sign; cards with the same text could not be told
    apart (no place, no photo)."""
    from trygghetskarta import photos

    store = open_store(app_db)
    walk = _last_walk(store)
    _with_findings_before(store, walk, 35, "Klotter på elskåpet")
    expected = actions.followup_checklist(store, int(walk["area_id"]), int(walk["id"]))
    assert len(expected) > 30
    with_photo = int(expected["id"].iloc[0])
    stored = photos.photo_from_bytes(_jpeg(), "skap.jpg")
    store.add_photo(with_photo, str(stored.path), str(stored.thumb_path), stored.sha256, stored.width,
                    stored.height)
    at = _page("vandringar", "test_planerare", "planerare")
    _no_error(at)
    assert any(f"{len(expected)} tidigare fynd i området att kontrollera" in c for c in _texts(at.caption))
    seen = _card_ids(at)
    assert len(at.image) >= 1  # the photo of the first card
    pager = next(g for g in at.button_group if g.label == _ui.text("followup_page"))
    for page in pager.options[1:]:
        pager.set_value(int(page)).run()
        _no_error(at)
        seen += _card_ids(at)
        pager = next(g for g in at.button_group if g.label == _ui.text("followup_page"))
    assert sorted(seen) == sorted(expected["id"].astype(int))  # every finding, none cut, none twice
    # the same text, told apart by the place shown on each card
    places = [c for c in _texts(at.caption) if c.startswith(":material/location_on:")]
    assert len(places) == len(_cards(at)) and len(set(places)) == len(places)
    store.dispose()


def test_not_fixed_on_a_planned_finding_keeps_the_checklist(app_db: str) -> None:
    """Regression: "inte åtgärdat" on a planned finding gave an English error and the checklist disappeared."""
    store = open_store(app_db)
    walk = _last_walk(store)
    checklist = actions.followup_checklist(store, int(walk["area_id"]), int(walk["id"]))
    planned = int(checklist.loc[checklist["status"] == "planerad", "id"].iloc[0])
    at = _page("vandringar", "test_planerare", "planerare")
    pager = [g for g in at.button_group if g.label == _ui.text("followup_page")]
    while planned not in _card_ids(at):  # the card's page
        current = pager[0].value
        assert not isinstance(current, list), "the pager is a single choice"
        page = next(int(p) for p in pager[0].options if int(p) > (current or 1))
        pager[0].set_value(page).run()
        pager = [g for g in at.button_group if g.label == _ui.text("followup_page")]
    at.button_group(key=f"fu_fixed_{walk['id']}_{planned}").set_value(False)
    at.button_group(key=f"fu_safer_{walk['id']}_{planned}").set_value(False)
    at.text_input(key=f"fu_comment_{walk['id']}_{planned}").input("Fortfarande mörkt")
    at.run()
    at.button(key=f"fu_save_{walk['id']}_{planned}").click().run()
    _no_error(at)
    assert _ui.text("followup_saved") in _texts(at.success)
    assert len(_cards(at)) > 1  # the checklist is still there
    assert store.get("finding", planned)["status"] == "planerad"
    answer = store.followups([planned], walk_id=int(walk["id"])).iloc[-1]
    assert (answer["fixed"], answer["feels_safer"], answer["by"]) == (False, False, "test_planerare")
    store.dispose()


def test_participants_answer_the_followup_on_their_phones(app_db: str) -> None:
    store = open_store(app_db)
    walk = _last_walk(store)
    walk_id = int(walk["id"])
    outsider = _page("vandringar", "test_deltagare2", "deltagare")
    _no_error(outsider)
    assert not _cards(outsider)  # not on this walk: no checklist
    store.add_participant(walk_id, "test_deltagare")
    at = _page("vandringar", "test_deltagare", "deltagare")
    _no_error(at)
    ids = _card_ids(at)
    assert ids
    fid = ids[0]
    at.button_group(key=f"fu_fixed_{walk_id}_{fid}").set_value(True)
    at.button_group(key=f"fu_safer_{walk_id}_{fid}").set_value(True)
    at.run()
    at.button(key=f"fu_save_{walk_id}_{fid}").click().run()
    _no_error(at)
    answer = store.followups([fid], walk_id=walk_id).iloc[-1]
    assert (answer["fixed"], answer["feels_safer"], answer["by"]) == (True, True, "test_deltagare")
    assert store.get("finding", fid)["status"] == "verifierad"
    assert any("åtgärdat Ja, tryggare Ja" in s for s in _texts(at.success))  # the card shows the answer
    store.dispose()


def test_protocol_download_is_rendered_from_the_current_state(app_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the PDF made by an earlier click stayed downloadable after the walk's follow-up changed."""
    import subprocess

    from streamlit.runtime.media_file_manager import MediaFileManager

    made: dict[str, object] = {}  # file name -> the callable the download button runs when clicked
    original = MediaFileManager.add_deferred

    def record(self, data_callable, *args, **kwargs):
        made[str(kwargs.get("file_name"))] = data_callable
        return original(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    store = open_store(app_db)
    walk = _last_walk(store)
    walk_id = int(walk["id"])
    at = _page("vandringar", "test_planerare", "planerare")
    _no_error(at)
    [pdf_button] = [b for b in at.get("download_button") if b.proto.label == _ui.text("download_pdf")]
    assert pdf_button.proto.deferred_file_id  # made when clicked, not cached from an earlier run
    assert "walk_pdf" not in at.session_state
    fid = int(actions.followup_checklist(store, int(walk["area_id"]), walk_id)["id"].iloc[0])
    actions.record_followup(store, fid, walk_id, fixed=True, feels_safer=True, actor=PLANNER,
                            comment="ny armatur uppsatt")
    # a click after the change (no rerun of the page in between) gets the change
    data = made[f"protokoll_{walk_id}.pdf"]()  # type: ignore[operator]
    assert data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    text = " ".join(text.split())  # table cells wrap
    assert "Uppföljning av tidigare fynd" in text and "ny armatur uppsatt" in text
    page = made[f"protokoll_{walk_id}.html"]()  # type: ignore[operator]
    assert "ny armatur uppsatt" in page
    store.dispose()


# --- duplicates ------------------------------------------------------------------------------------------


def test_report_added_to_an_existing_finding_keeps_its_text_and_photo(app_db: str) -> None:
    """Regression: "Lägg till på befintligt" only counted a supporter; the new text and photo were lost."""
    store = open_store(app_db)
    target = store.read("finding", statuses=["ny"]).sort_values("id").iloc[-1]
    fid = int(target["id"])
    photos_before = len(store.photos([fid]))
    at = AppTest.from_file(str(ROOT / "app_pages" / "rapportera.py"), default_timeout=180)
    at.session_state["tk_user"] = {"username": "test_planerare", "role": "planerare", "organisation": None}
    at.session_state["tk_last_seen"] = dt.datetime.now(dt.UTC)
    at.session_state["tk_lang"] = "sv"
    at.session_state["rap_cat_0"] = str(target["category"])
    at.session_state["rap_finding_tap"] = (float(target["lon"]), float(target["lat"]))
    at.run()
    at.text_area(key="rap_desc_0").input("Samma sak, nu är även lampan vid trappan sönder")
    at.run()
    at.button(key="rap_save").click().run()
    _no_error(at)
    at.button(key=f"rap_dup_{fid}").click().run()
    _no_error(at)
    assert any(s.startswith(f"Tillagt på fynd nr {fid}") for s in _texts(at.success)), _texts(at.success)
    reports = store.finding_reports([fid])
    assert reports["description"].tolist() == ["Samma sak, nu är även lampan vid trappan sönder"]
    assert len(store.photos([fid])) == photos_before  # no photo in this report
    store.dispose()


# --- line findings -----------------------------------------------------------------------------------------


def test_a_dark_stretch_is_drawn_on_the_report_page(app_db: str) -> None:
    store = open_store(app_db)
    path = [(17.6350, 59.5110), (17.6362, 59.5114), (17.6375, 59.5116)]
    at = AppTest.from_file(str(ROOT / "app_pages" / "rapportera.py"), default_timeout=180)
    at.session_state["tk_user"] = {"username": "test_deltagare", "role": "deltagare", "organisation": None}
    at.session_state["tk_last_seen"] = dt.datetime.now(dt.UTC)
    at.session_state["tk_lang"] = "sv"
    at.session_state["rap_cat_0"] = "belysning_otillracklig"
    at.run()
    at.toggle(key="rap_line_0").set_value(True).run()
    _no_error(at)
    assert _ui.text("line_missing", n=0) in _texts(at.info)
    at.session_state["rap_finding_line"] = path[:2]  # two taps on the map
    at.run()
    at.session_state["rap_finding_line"] = path  # and a third
    at.run()
    assert _ui.text("line_chosen", n=3) in _texts(at.success)
    at.text_area(key="rap_desc_0").input("Mörk gångväg bakom skolan")
    at.run()
    before = store.count("finding")
    at.button(key="rap_save").click().run()
    _no_error(at)
    dup_new = [b for b in at.button if b.label == _ui.text("dup_new")]
    if dup_new:  # the demo season may have an open finding of the category near the stretch
        dup_new[0].click().run()
    assert store.count("finding") == before + 1
    stored = store.read("finding").sort_values("id").iloc[-1]
    assert stored["description"] == "Mörk gångväg bakom skolan"
    assert stored.geometry.geom_type == "LineString" and len(stored.geometry.coords) == 3
    assert "rap_finding_line" not in at.session_state  # the next report starts without the old stretch
    store.dispose()
