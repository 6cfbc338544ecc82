"""The partners' weekly EST report (issue 12): submit by form or template import → review (approve, correct,
return with a reason) → only approved figures in the lägesbild; who has not reported; the EST meeting's decisions;
migration 0003. Store and service on both backends (``store`` fixture)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from trygghetskarta import access, actions, auth, est_reports, geography, lagesbild, schema
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, ValidationError
from trygghetskarta.store import open_store

WEEK = "2026-W49"  # Monday 30 November – Sunday 6 December 2026
PREVIOUS = "2026-W48"
PLANNER = access.Viewer("plan1", "planerare")
POLICE = access.viewer_for_role("polis", "pol1")
BROHUS = access.viewer_for_role("bostadsbolag", "bo1")
GUARDS = access.viewer_for_role("vaktare", "vakt1")
RESCUE = access.viewer_for_role("raddningstjanst", "rtj1")
HEADER = "vecka;område;kategori;antal;tidpunkt;plats;latitud;longitud;kommentar\n"


@pytest.fixture
def est(store):
    """A store with the project's shipped areas (Bro, Kungsängen, Brunna and their neighbourhoods)."""
    store.insert("area", geography.shipped_areas())
    return store


def _area(store, name: str) -> int:
    return store.area_id_by_name(name)


def _approved(store, week: str = WEEK, viewer=None) -> pd.DataFrame:
    start, end = est_reports.week_bounds(week)
    return store.partner_reports(viewer, start, end, statuses=["godkand"])


def _csv(tmp_path: Path, body: str, name: str = "brohus.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


# --- vocabulary and roles ----------------------------------------------------------------------------------


def test_partner_roles_and_organisations_are_defined_once():
    assert {"vaktare", "raddningstjanst"} <= set(schema.ROLE)
    assert frozenset(schema.PARTNER_ORGANISATIONS) == schema.PARTNER_ROLES
    for role, orgs in schema.PARTNER_ORGANISATIONS.items():
        assert all(o in schema.PARTY for o in orgs), role
        assert access.viewer_for_role(role).organisation == orgs[0]
    assert set(schema.EST_CATEGORY_OF_TYPE) == set(schema.INCIDENT_TYPE)
    assert set(schema.EST_CATEGORY_OF_TYPE.values()) == set(schema.EST_CATEGORY)
    assert set(schema.EST_REPORT_TRANSITIONS) == set(schema.EST_REPORT_STATUS)


@pytest.mark.parametrize(("written", "category", "typ"), [
    ("skadegorelse", "skadegorelse", "skadegorelse"),
    ("Skadegörelse (inkl. klotter och brand)", "skadegorelse", "skadegorelse"),
    ("Skadegörelse", "skadegorelse", "skadegorelse"),
    ("klotter", "skadegorelse", "klotter"),
    ("Brand", "skadegorelse", "anlagd_brand"),
    ("Otrygghetsskapande samling av personer", "otrygg_samling", "otrygg_samling"),
    ("Annat ordningsstörande", "ordningsstorande", "ovrigt"),
    ("narkotikahantering", "ordningsstorande", "narkotika"),
    ("bråk", "ordningsstorande", "vald"),
    ("Buskörning", "ordningsstorande", "buskorning"),
    ("OTRYGG PLATS", "otrygg_plats", "otrygg_plats"),
    ("Arrangemang", "arrangemang", "arrangemang"),
])
def test_categories_by_key_swedish_label_or_detail(written, category, typ):
    assert est_reports.est_file.resolve_category(written) == (category, typ)


def test_unknown_category_lists_the_allowed_ones():
    with pytest.raises(ValidationError, match=r"unknown category 'snöskottning'; allowed: skadegorelse"):
        est_reports.est_file.resolve_category("snöskottning")


@pytest.mark.parametrize(("text", "week"), [("2026-W49", WEEK), ("2026W49", WEEK), ("2026-49", WEEK),
                                            ("v49 2026", WEEK), ("vecka 49 2026", WEEK), ("2026-12-03", WEEK),
                                            ("2020-W53", "2020-W53")])
def test_weeks(text, week):
    assert est_reports.parse_week(text) == week


@pytest.mark.parametrize("text", ["2025-W53", "vecka 49", "49", "2026-W00"])
def test_bad_weeks_are_refused(text):
    with pytest.raises(ValidationError, match="week|ISO week"):
        est_reports.parse_week(text)


# --- submit, review, lägesbild ----------------------------------------------------------------------------


def test_form_report_enters_the_lagesbild_only_when_approved(est):
    store = est
    rid = est_reports.submit(store, POLICE, WEEK, [
        {"category": "Skadegörelse", "area": "Bro centrum", "count": 3},
        {"category": "narkotika", "area_id": _area(store, "Råby"), "count": 1,
         "occurred_at": dt.datetime(2026, 12, 2, 21, 30), "place": "Gångtunneln", "lon": 17.6330, "lat": 59.5110,
         "comment": "ring 070-123 45 67"}])
    listed = est_reports.list_reports(store, PLANNER, WEEK)
    assert listed[["id", "organisation", "status", "lines", "total", "source"]].values.tolist() == [
        [rid, "polis", "inskickad", 2, 4, "formular"]]
    lines = est_reports.report_lines(store, PLANNER, [rid])
    assert lines["category"].tolist() == ["skadegorelse", "ordningsstorande"]
    assert lines["type"].tolist() == ["skadegorelse", "narkotika"]
    assert "070" not in lines["comment"].iloc[1]  # personal details are masked on the way in
    assert lines["occurred_at"].iloc[1] == pd.Timestamp("2026-12-02 20:30", tz="UTC")  # 21:30 Swedish time
    assert (lines["lon"].iloc[1], lines["lat"].iloc[1]) == (17.6330, 59.5110)
    assert _approved(store).empty  # nothing enters the lägesbild before the review

    est_reports.approve(store, PLANNER, rid)
    got = _approved(store)
    assert sorted(got["count"].tolist()) == [1, 3] and set(got["report_id"]) == {rid}
    row = est_reports.list_reports(store, PLANNER, WEEK).iloc[0]
    assert (row["status"], row["reviewed_by"]) == ("godkand", "plan1")

    est_reports.return_report(store, PLANNER, rid, "Fel område på raden med narkotika")
    assert _approved(store).empty  # a returned report leaves the lägesbild
    history = store.est_report_events(rid)
    assert history["to_status"].tolist() == ["inskickad", "godkand", "returnerad"]
    assert history["from_status"].tolist()[1:] == ["inskickad", "godkand"]
    assert history["comment"].iloc[-1] == "Fel område på raden med narkotika"


def test_transitions_and_reasons_are_checked(est):
    store = est
    rid = est_reports.submit(store, BROHUS, WEEK, [{"category": "klotter", "count": 2}])
    with pytest.raises(ValidationError, match="needs a reason"):
        est_reports.return_report(store, PLANNER, rid, "  ")
    est_reports.return_report(store, PLANNER, rid, "Ange område")
    with pytest.raises(ValidationError, match=f"report {rid} is Returnerad; it cannot become Godkänd"):
        est_reports.approve(store, PLANNER, rid)
    with pytest.raises(NotFoundError, match="no EST report with id 999"):
        est_reports.approve(store, PLANNER, 999)


def test_planner_corrects_before_approving_and_partner_resubmits_a_returned_report(est):
    store = est
    rid = est_reports.submit(store, BROHUS, WEEK, [{"category": "klotter", "area": "Bro centrum", "count": 20}])
    est_reports.correct(store, PLANNER, rid, [{"category": "klotter", "area": "Bro centrum", "count": 2},
                                              {"category": "Otrygg plats", "area": "Finnsta", "count": 1}])
    lines = est_reports.report_lines(store, PLANNER, [rid])
    assert lines[["category", "count"]].values.tolist() == [["skadegorelse", 2], ["otrygg_plats", 1]]
    assert lines["type"].iloc[0] == "klotter"
    audit = store.audit_log()
    corrected = audit[audit["action"] == "est_report_correct"]
    assert len(corrected) == 1 and '"count": 20' in corrected["detail"].iloc[0]  # the old lines are kept
    est_reports.approve(store, PLANNER, rid)
    with pytest.raises(ValidationError, match="only a Inskickad report can be changed"):
        est_reports.correct(store, PLANNER, rid, [{"category": "klotter", "count": 1}])

    other = est_reports.submit(store, BROHUS, WEEK, [{"category": "arrangemang", "count": 1}])
    est_reports.return_report(store, PLANNER, other, "Vilket område?")
    with pytest.raises(PermissionDeniedError, match="may not file"):
        est_reports.resubmit(store, access.Viewer("d1", "deltagare"), other, [])
    with pytest.raises(NotFoundError):  # the police do not see Upplands-Brohus' reports
        est_reports.resubmit(store, POLICE, other, [{"category": "arrangemang", "count": 1}])
    est_reports.resubmit(store, BROHUS, other, [{"category": "arrangemang", "area": "Kungsängen", "count": 1}])
    row = est_reports.list_reports(store, BROHUS, WEEK).set_index("id").loc[other]
    assert row["status"] == "inskickad"


def test_who_may_do_what(est):
    store = est
    with pytest.raises(PermissionDeniedError, match="may not file EST reports"):
        est_reports.submit(store, access.Viewer("f1", "faltgrupp"), WEEK, [])
    with pytest.raises(PermissionDeniedError, match="reports for polis, not upplands_brohus"):
        est_reports.submit(store, POLICE, WEEK, [], organisation="upplands_brohus")
    with pytest.raises(PermissionDeniedError, match="has no organisation"):
        est_reports.submit(store, access.Viewer("v0", "vaktare"), WEEK, [])
    with pytest.raises(ValidationError, match="which organisation"):
        est_reports.submit(store, PLANNER, WEEK, [])
    ids = {v.role: est_reports.submit(store, v, WEEK, [{"category": "skadegorelse", "count": 1}])
           for v in (POLICE, BROHUS, GUARDS, RESCUE)}
    for v in (POLICE, BROHUS, GUARDS, RESCUE):
        assert est_reports.list_reports(store, v, WEEK)["id"].tolist() == [ids[v.role]]  # only their own
        with pytest.raises(PermissionDeniedError, match="may not review"):
            est_reports.approve(store, v, ids[v.role])
        with pytest.raises(PermissionDeniedError, match="may not review"):
            est_reports.missing_reporters(store, v, WEEK)
    for role in ("deltagare", "nattvandrare", "faltgrupp"):
        with pytest.raises(PermissionDeniedError, match="may not read the weekly EST reports"):
            est_reports.list_reports(store, access.viewer_for_role(role), WEEK)
    assert len(est_reports.list_reports(store, PLANNER, WEEK)) == 4


def test_partners_see_other_organisations_figures_without_their_comments(est):
    store = est
    a = est_reports.submit(store, POLICE, WEEK, [{"category": "skadegorelse", "count": 5, "comment": "polisens"}])
    b = est_reports.submit(store, BROHUS, WEEK, [{"category": "skadegorelse", "count": 6, "comment": "husets"}])
    for rid in (a, b):
        est_reports.approve(store, PLANNER, rid)
    seen = _approved(store, viewer=BROHUS).set_index("organisation")
    assert seen.loc["polis", "comment"] == "" and pd.isna(seen.loc["polis", "reported_by"])
    assert seen.loc["upplands_brohus", "comment"] == "husets"
    assert _approved(store, viewer=PLANNER).set_index("organisation").loc["polis", "comment"] == "polisens"


def test_a_double_submit_with_the_same_client_id_stores_one_report(est):
    store = est
    lines = [{"category": "skadegorelse", "area": "Bro", "count": 1}]
    first = est_reports.submit(store, POLICE, WEEK, lines, client_id="c-1")
    assert est_reports.submit(store, POLICE, WEEK, lines, client_id="c-1") == first
    assert len(est_reports.list_reports(store, PLANNER, WEEK)) == 1


def test_a_line_is_refused_with_what_and_where(est):
    store = est
    cases: list[tuple[dict[str, Any], str]] = [
        ({"category": "skadegorelse", "count": 0}, "line 1: count must be a whole number"),
        ({"category": "skadegorelse", "count": "2.5"}, "line 1: count must be a whole number"),
        ({"category": "skadegorelse", "area": "Atlantis"}, "line 1: unknown area 'Atlantis'"),
        ({"category": "skadegorelse", "occurred_at": dt.datetime(2026, 12, 8, 1, 0)},
         "line 1: the time 2026-12-08 01:00 does not lie in week 2026-W49"),
        ({"category": "skadegorelse", "lon": 18.07, "lat": 59.33}, "line 1: the place 59.33000, 18.07000 lies outside"),
        ({"category": "skadegorelse", "lon": 17.6}, "line 1: give both latitud and longitud"),
    ]
    for line, message in cases:
        with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(".", r"\.")):
            est_reports.submit(store, POLICE, WEEK, [line])
    assert store.est_reports(PLANNER).empty  # nothing half-written


def test_missing_reporters_is_the_reminder_list(est):
    store = est
    for name, role, org in (("pol1", "polis", "polis"), ("bo1", "bostadsbolag", "upplands_brohus"),
                            ("bo2", "bostadsbolag", "privat_fastighetsagare"), ("vakt1", "vaktare", "vaktarbolag"),
                            ("rtj1", "raddningstjanst", "raddningstjanst"), ("del1", "deltagare", None)):
        store.add_user(name, role, auth.hash_password("Kvällsvandring-i-Bro-2026"), organisation=org)
    assert est_reports.missing_reporters(store, PLANNER, WEEK)["organisation"].tolist() == [
        "upplands_brohus", "privat_fastighetsagare", "polis", "vaktarbolag", "raddningstjanst"]
    est_reports.submit(store, POLICE, WEEK, [])  # nothing to report still counts as reported
    returned = est_reports.submit(store, GUARDS, WEEK, [{"category": "skadegorelse"}])
    est_reports.return_report(store, PLANNER, returned, "Ange område")
    est_reports.submit(store, BROHUS, PREVIOUS, [{"category": "skadegorelse"}])  # another week does not count
    missing = est_reports.missing_reporters(store, PLANNER, WEEK).set_index("organisation")
    assert list(missing.index) == ["upplands_brohus", "privat_fastighetsagare", "vaktarbolag", "raddningstjanst"]
    assert missing.loc["vaktarbolag", "state"] == "returnerad"
    assert missing.loc["upplands_brohus", "users"] == "bo1"
    actions.set_app_setting(store, est_reports.EXPECTED_SETTING, ["polis", "raddningstjanst"])
    assert est_reports.missing_reporters(store, PLANNER, WEEK)["organisation"].tolist() == ["raddningstjanst"]


# --- import -----------------------------------------------------------------------------------------------


def test_import_accepts_valid_rows_refuses_bad_ones_and_adds_nothing_again(est, tmp_path):
    store = est
    path = _csv(tmp_path, (
        "2026-W49;Bro centrum;Skadegörelse;3;;;;;\n"
        "2026-W49;Atlantis;klotter;1;;;;;\n"                                     # row 3: unknown area
        "2026-W49;Kungsängen;Otrygghetsskapande samling av personer;4;;;;;\n"
        ";;Arrangemang;;2026-12-05 19:00;Torget;59.5110;17.6330;julmarknad\n"   # week from the time
        "2026-W49;Råby;bråk;två;;;;;\n"                                          # row 6: bad count
        "2026-W49;Bro;klotter;1;;;;;\n"
        "2026-W49;Bro;klotter;1;;;;;\n"))                                         # the same line twice: 2 events
    result = est_reports.import_file(store, path, organisation="Upplands-Brohus")
    assert result.summary_line() == "accepted 5, rejected 2, already present 0"
    assert result.rejections["source_row"].tolist() == [3, 6]
    assert result.rejections["reason"].tolist()[0].startswith("brohus.csv row 3: unknown area 'Atlantis'")
    assert "brohus.csv row 6: antal must be a whole number" in result.rejections["reason"].tolist()[1]
    (rid,) = result.report_ids
    report = est_reports.list_reports(store, PLANNER, WEEK).set_index("id").loc[rid]
    assert (report["organisation"], report["status"], report["source"], report["total"]) == (
        "upplands_brohus", "inskickad", "import", 10)
    lines = est_reports.report_lines(store, PLANNER, [rid])
    market = lines[lines["category"] == "arrangemang"].iloc[0]
    assert (market["place"], market["lon"], market["lat"]) == ("Torget", 17.633, 59.511)

    again = est_reports.import_file(store, path, organisation="upplands_brohus")
    assert again.summary_line() == "accepted 0, rejected 2, already present 5"
    assert again.report_ids == [] and len(store.est_reports(PLANNER)) == 1


def test_import_dry_run_and_report_write_nothing_but_the_report(est, tmp_path):
    store = est
    path = _csv(tmp_path, "2026-W49;Bro;klotter;1;;;;;\n2026-W49;Bro;snö;1;;;;;\n")
    out = tmp_path / "avvisade.csv"
    result = est_reports.import_file(store, path, organisation="polis", dry_run=True, report=out)
    assert result.summary_line() == "accepted 1, rejected 1, already present 0"
    assert store.est_reports(PLANNER).empty
    assert "unknown category 'snö'" in out.read_text(encoding="utf-8-sig")


def test_a_partner_imports_only_for_its_own_organisation(est, tmp_path):
    store = est
    body = ("vecka;område;kategori;antal;organisation\n2026-W49;Bro;klotter;1;polis\n"
            "2026-W49;Bro;klotter;2;Upplands-Brohus\n")
    path = tmp_path / "blandat.csv"
    path.write_text(body, encoding="utf-8")
    result = est_reports.import_file(store, path, actor=BROHUS)
    assert result.summary_line() == "accepted 1, rejected 1, already present 0"
    assert "row 2: the row is for polis, the import for upplands_brohus" in result.rejections["reason"].iloc[0]
    as_admin = est_reports.import_file(store, path)  # the file's organisation column decides
    assert as_admin.summary_line() == "accepted 1, rejected 0, already present 1"
    assert sorted(store.est_reports(PLANNER)["organisation"]) == ["polis", "upplands_brohus"]
    with pytest.raises(ValidationError, match="say which organisation"):
        no_org = _csv(tmp_path, "2026-W49;Bro;klotter;1;;;;;\n", "utan.csv")
        est_reports.import_file(store, no_org)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_template_round_trip(est, tmp_path, suffix):
    store = est
    template = est_reports.write_template(tmp_path / f"mall{suffix}", store)
    rows = [["2026-W49", "Bro centrum", "Skadegörelse (inkl. klotter och brand)", 2, "", "", "", "", ""],
            ["2026-W49", "Tibble", "Annat ordningsstörande", 1, "2026-12-01 22:10", "Skolan", "", "", "buskörning"]]
    if suffix == ".csv":
        header = template.read_text(encoding="utf-8-sig").strip()
        assert header == "vecka;område;kategori;antal;tidpunkt;plats;latitud;longitud;kommentar"
        with template.open("a", encoding="utf-8") as fh:
            fh.writelines(";".join(map(str, r)) + "\n" for r in rows)
    else:
        import openpyxl

        book = openpyxl.load_workbook(template)
        assert book.sheetnames == ["EST-rapport", "Förklaring"]
        sheet = book["EST-rapport"]
        assert [c.value for c in sheet[1]] == ["vecka", "område", "kategori", "antal", "tidpunkt", "plats",
                                               "latitud", "longitud", "kommentar"]
        explained = [c.value for c in book["Förklaring"]["A"]]
        assert "Bro centrum" in explained and "Otrygg plats" in explained
        for r in rows:
            sheet.append([v if v != "" else None for v in r])
        book.save(template)
    result = est_reports.import_file(store, template, organisation="polis")
    assert result.summary_line() == "accepted 2, rejected 0, already present 0"
    lines = est_reports.report_lines(store, PLANNER, result.report_ids)
    assert lines["category"].tolist() == ["skadegorelse", "ordningsstorande"]
    assert lines["area_name"].tolist() == ["Bro centrum", "Tibble"]


# --- the lägesbild and the EST meeting's decisions ------------------------------------------------------------


def test_lagesbild_shows_approved_figures_by_area_and_category_with_change(est):
    store = est
    bro = _area(store, "Bro centrum")
    before = est_reports.submit(store, POLICE, PREVIOUS, [{"category": "skadegorelse", "area_id": bro, "count": 2}])
    now = est_reports.submit(store, POLICE, WEEK, [{"category": "skadegorelse", "area_id": bro, "count": 7},
                                                   {"category": "otrygg_plats", "count": 1}])
    pending = est_reports.submit(store, BROHUS, WEEK, [{"category": "skadegorelse", "area_id": bro, "count": 50}])
    for rid in (before, now):
        est_reports.approve(store, PLANNER, rid)
    period = lagesbild.period_from_date("week", dt.date(2026, 12, 2))
    report = lagesbild.build_lagesbild(store, period, audience="intern", lang="sv", today=dt.date(2026, 12, 7))
    fig = report.partner_figures.set_index(["area_name", "category"])
    assert fig.loc[("Bro centrum", "skadegorelse"), "count"] == 7  # the unapproved 50 are not there
    assert fig.loc[("Bro centrum", "skadegorelse"), "previous"] == 2
    assert fig.loc[("Bro centrum", "skadegorelse"), "change_previous"] == 5
    assert fig.loc[("Hela kommunen", "otrygg_plats"), "count"] == 1
    key = report.key_figures[report.key_figures["kind"] == "partner_report"].set_index("group")
    assert key.loc["polis:skadegorelse", "count"] == 7
    assert "upplands_brohus:skadegorelse" not in key.index
    html = lagesbild.lagesbild_html(report)
    assert "EST-rapporter från partner (granskade) per område" in html
    assert pending not in set(_approved(store)["report_id"])


def test_decisions_are_stored_followed_up_and_shown_in_the_lagesbild(est):
    store = est
    kungs = _area(store, "Kungsängen centrum")
    first = est_reports.add_decision(store, PLANNER, "2026-W50", "Förstärkt bevakning vid stationen", "Polisen",
                                     due_date=dt.date(2026, 12, 11), area_id=kungs, place="Stationen")
    second = est_reports.add_decision(store, PLANNER, "2026-W50", "Klotter saneras i gångtunneln", "Kommunen (gata)")
    top = est_reports.add_decision(store, PLANNER, "2026-W50", "Fältgruppen i centrum fredag kväll", "Fältgruppen",
                                   priority=1)
    with pytest.raises(PermissionDeniedError):
        est_reports.add_decision(store, POLICE, "2026-W50", "x", "y")
    with pytest.raises(ValidationError, match="needs what is to be done and who owns it"):
        est_reports.add_decision(store, PLANNER, "2026-W50", "", "Polisen")
    listed = est_reports.decisions(store, POLICE, ["2026-W50"])  # partners read the meeting's decisions
    assert listed["id"].tolist() == [top, first, second]  # a new first priority moves the others down
    assert listed["priority"].tolist() == [1, 2, 3]
    est_reports.follow_up_decision(store, PLANNER, first, "genomford", "Två patruller fredag och lördag")
    with pytest.raises(ValidationError, match="unknown decision status"):
        est_reports.follow_up_decision(store, PLANNER, second, "klart")
    period = lagesbild.period_from_date("week", dt.date(2026, 12, 2))  # the meeting of week 49 decides for week 50
    report = lagesbild.build_lagesbild(store, period, audience="partner", lang="sv", today=dt.date(2026, 12, 7))
    shown = report.decisions.set_index("id")
    assert set(shown.index) == {first, second, top}
    assert shown.loc[first, "status"] == "genomford" and shown.loc[first, "area_name"] == "Kungsängen centrum"
    assert "Förstärkt bevakning vid stationen" in lagesbild.lagesbild_html(report)


# --- migration 0003 -------------------------------------------------------------------------------------------


def _legacy_rows_survive(url: str) -> None:
    store = open_store(url)
    try:
        assert store.init("0002") == "0002"
        with store.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO partner_reports (organisation, area_id, period_start, period_end, type, count, comment, "
                "created_at) VALUES ('polis', NULL, '2026-10-05', '2026-10-11', 'klotter', 3, '', "
                "'2026-10-12 00:00:00'), ('polis', NULL, '2026-10-05', '2026-10-11', 'narkotika', 2, '', "
                "'2026-10-12 00:00:00')"))
        assert store.init("0003") == "0003"
        reports = store.est_reports(None)
        assert reports[["organisation", "week", "status", "lines", "total"]].values.tolist() == [
            ["polis", "2026-W41", "godkand", 2, 5]]
        lines = store.partner_reports(None, dt.date(2026, 10, 5), dt.date(2026, 10, 11), statuses=["godkand"])
        assert sorted(lines["category"]) == ["ordningsstorande", "skadegorelse"]
        with store.engine.connect() as conn:  # the other helper's column for åtgärder (senast)
            assert conn.execute(sa.text("SELECT count(deadline) FROM actions")).scalar() == 0
    finally:
        store.dispose()


def test_migration_0003_keeps_earlier_reports_as_approved_sqlite(tmp_path):
    _legacy_rows_survive(f"sqlite:///{tmp_path / 'legacy.sqlite'}")


@pytest.mark.postgis
def test_migration_0003_keeps_earlier_reports_as_approved_postgis(pg_url):
    _legacy_rows_survive(pg_url)
