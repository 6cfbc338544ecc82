"""The EST report pages through Streamlit's AppTest (issue 12): a partner files the weekly report by the form and
corrects a returned one; the planner approves and returns on Granskning, sees who has not reported and records
a decision; the Lägesbild page shows the approved figures. (Every page × role is checked in test_app_pages.)"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app_pages import _ui  # noqa: E402
from trygghetskarta import access, auth, est_reports, geography, schema  # noqa: E402
from trygghetskarta.store import open_store  # noqa: E402

PASSWORD = "Kvällsvandring-i-Bro-2026"
USERS = {"pol1": ("polis", "polis"), "bo1": ("bostadsbolag", "upplands_brohus"), "vakt1": ("vaktare", "vaktarbolag"),
         "rtj1": ("raddningstjanst", "raddningstjanst"), "plan1": ("planerare", None), "adm1": ("admin", None)}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'est.sqlite'}"
    store = open_store(url)
    store.init()
    store.insert("area", geography.shipped_areas())
    for name, (role, org) in USERS.items():
        auth.create_user(store, name, role, PASSWORD, organisation=org)
    store.dispose()
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    _ui._store_for.clear()  # a fresh database per test
    yield url


def _page(key: str, username: str) -> AppTest:
    role, org = USERS[username]
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{key}.py"), default_timeout=120)
    at.session_state["tk_user"] = {"username": username, "role": role, "organisation": org}
    at.session_state["tk_lang"] = "sv"
    return at.run()


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not any("fel-id" in e.value for e in at.error), [e.value for e in at.error]


def test_police_file_the_weekly_report_by_the_form(db: str) -> None:
    store = open_store(db)
    bro = store.area_id_by_name("Bro centrum")
    at = _page("est_rapport", "pol1")
    _ok(at)
    assert any("Polisen" in i.value for i in at.info)
    assert _button(at, _ui.text("est_submit")).disabled  # nothing yet: no empty report by mistake
    at.selectbox(key="est_f_category").set_value("skadegorelse")
    at.selectbox(key="est_f_area").set_value(bro)
    at.number_input(key="est_f_count").set_value(3)
    _button(at, _ui.text("est_add_line")).click().run()
    _ok(at)
    at.selectbox(key="est_f_category").set_value("ordningsstorande")
    at.text_input(key="est_f_place").set_value("Gångtunneln vid stationen")
    _button(at, _ui.text("est_add_line")).click().run()
    assert len(at.session_state["est_lines"]) == 2
    at.button(key="est_submit_btn").click().run()
    _ok(at)
    assert any("är inskickad" in s.value for s in at.success)
    reports = store.est_reports(None)
    assert reports[["organisation", "status", "source", "lines", "total"]].values.tolist() == [
        ["polis", "inskickad", "formular", 2, 4]]
    assert reports["week"].iloc[0] == est_reports.current_week()
    lines = store.est_report_lines(None)
    assert lines["place"].fillna("").tolist() == ["", "Gångtunneln vid stationen"]
    assert at.session_state["est_lines"] == []  # the form is ready for the next report
    store.dispose()


def test_a_bad_line_is_refused_at_once_and_the_form_keeps_working(db: str) -> None:
    at = _page("est_rapport", "vakt1")
    at.date_input(key="est_f_date").set_value(dt.date(2020, 1, 1))  # not in the chosen week
    _button(at, _ui.text("est_add_line")).click().run()
    _ok(at)
    assert any("does not lie in week" in e.value for e in at.error)
    assert at.session_state["est_lines"] == []
    assert at.button(key="est_submit_btn").disabled


def test_nothing_to_report_is_a_report(db: str) -> None:
    at = _page("est_rapport", "rtj1")
    at.checkbox(key="est_nothing").check().run()
    at.button(key="est_submit_btn").click().run()
    _ok(at)
    store = open_store(db)
    assert store.est_reports(None)[["organisation", "lines"]].values.tolist() == [["raddningstjanst", 0]]
    store.dispose()


def test_a_returned_report_is_corrected_and_sent_in_again(db: str) -> None:
    store = open_store(db)
    week = est_reports.current_week()
    viewer = access.Viewer("bo1", "bostadsbolag", "upplands_brohus")
    rid = est_reports.submit(store, viewer, week, [{"category": "klotter", "count": 2}])
    est_reports.return_report(store, access.Viewer("plan1", "planerare"), rid, "Ange område")
    at = _page("est_rapport", "bo1")
    _ok(at)
    assert any("Ange område" in w.value for w in at.warning)
    at.button(key=f"est_fix_{rid}").click().run()
    _ok(at)
    assert at.session_state["est_resubmit"] == rid and len(at.session_state["est_lines"]) == 1
    at.selectbox(key="est_f_category").set_value("skadegorelse")
    at.selectbox(key="est_f_area").set_value(store.area_id_by_name("Råby"))
    _button(at, _ui.text("est_add_line")).click().run()
    at.button(key="est_submit_btn").click().run()
    _ok(at)
    row = store.est_reports(None).set_index("id").loc[rid]
    assert (row["status"], row["lines"], row["total"]) == ("inskickad", 2, 3)
    store.dispose()


def test_planner_reviews_sees_who_is_missing_and_decides(db: str) -> None:
    store = open_store(db)
    week = est_reports.current_week()
    police = est_reports.submit(store, access.viewer_for_role("polis", "pol1"), week,
                                [{"category": "skadegorelse", "area": "Bro centrum", "count": 6}])
    guards = est_reports.submit(store, access.viewer_for_role("vaktare", "vakt1"), week,
                                [{"category": "otrygg_samling", "count": 1}])
    at = _page("granskning", "plan1")
    _ok(at)
    missing = at.dataframe[0].value
    assert sorted(missing.iloc[:, 0]) == sorted([schema.label("party", "upplands_brohus"),
                                                 schema.label("party", "raddningstjanst")])
    at.button(key=f"gr_approve_{police}").click().run()
    _ok(at)
    at.text_input(key=f"gr_reason_{guards}").set_value("Vilket område gäller det?")
    at.run()
    at.button(key=f"gr_return_{guards}").click().run()
    _ok(at)
    statuses = store.est_reports(None).set_index("id")["status"]
    assert (statuses[police], statuses[guards]) == ("godkand", "returnerad")
    assert any(schema.label("party", "vaktarbolag") in str(v) for v in at.dataframe[0].value.iloc[:, 0])

    at.text_input(key="gr_d_text").set_value("Förstärkt bevakning i Bro centrum fredag kväll")
    at.text_input(key="gr_d_owner").set_value("Polisen")
    _button(at, _ui.text("est_add_decision")).click().run()
    _ok(at)
    coming = est_reports.week_of(est_reports.week_bounds(week)[0] + dt.timedelta(days=7))
    decided = store.est_decisions(None, weeks=[coming])
    assert decided[["priority", "owner", "status"]].values.tolist() == [[1, "Polisen", "beslutad"]]

    lb = _page("lagesbild", "plan1")
    _ok(lb)
    (figures,) = [t.value for t in lb.table if "Kategori" in t.value.columns]  # the approved partner figures
    assert figures.index.tolist() == ["Bro centrum"]
    assert figures.iloc[0]["Kategori"] == schema.label("est_category", "skadegorelse")
    assert str(figures.iloc[0]["Period"]) == "6" and figures.iloc[0]["±"] == "+6"
    store.dispose()


def test_admin_sets_who_is_expected_to_report(db: str) -> None:
    at = _page("granskning", "plan1")
    assert not [m for m in at.multiselect if m.key == "gr_expected"]  # the planner does not change the list
    at = _page("granskning", "adm1")
    _ok(at)
    assert sorted(at.multiselect(key="gr_expected").value) == sorted(
        ["polis", "upplands_brohus", "vaktarbolag", "raddningstjanst"])
    at.multiselect(key="gr_expected").set_value(["polis", "trafikverket"])
    at.button(key="gr_expected_save").click().run()
    _ok(at)
    store = open_store(db)
    assert est_reports.missing_reporters(store, None, est_reports.current_week())["organisation"].tolist() == [
        "trafikverket", "polis"]
    store.dispose()
