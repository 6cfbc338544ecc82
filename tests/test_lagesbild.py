"""Lägesbild over the demo season: periods, figures equal to the store's counts, both audiences as HTML and
PDF (rendered with pdftoppm, read back with pdftotext), partner suppression and the data exports."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pytest
from PIL import Image

from trygghetskarta import actions, demo, est_reports, lagesbild
from trygghetskarta.errors import ValidationError
from trygghetskarta.lagesbild import Period, period_from_bounds, period_from_date
from trygghetskarta.store import open_store

MONTH = period_from_bounds("2026-10-01", "2026-10-31")
TODAY = dt.date(2026, 11, 1)
K = 5


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    """One demo season on SQLite shared by the rendering tests (building it is the slow part)."""
    path = tmp_path_factory.mktemp("lagesbild") / "store.sqlite"
    store = open_store(f"sqlite:///{path}")
    store.init()
    demo.fill(store, seed=11)
    fid = int(store.read("finding", statuses=["ny"])["id"].iloc[0])
    actions.create_action(store, [fid], "<script>alert(1)</script> =SUM(A1)", "kommun_gata_park", None,
                        planned_date=dt.date(2026, 10, 15))
    week = {"period_start": dt.date(2026, 10, 5), "period_end": dt.date(2026, 10, 11)}
    est_reports.save_partner_reports(store, pd.DataFrame([
        {"organisation": "upplands_brohus", "area_id": None, "type": "klotter", "count": 12, **week},
        {"organisation": "polis", "area_id": None, "type": "narkotika", "count": 2, **week}]))
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def reports(season):
    return {aud: lagesbild.build_lagesbild(season, MONTH, audience=aud, today=TODAY) for aud in ("intern", "partner")}


def _store_totals(store, period: Period) -> dict[str, int]:
    f = {"start": period.start, "end": period.end}
    return {
        "finding": int(store.count_by("finding", ["category"], **f)["count"].sum()),
        "incident": int(store.count_by("incident", ["type"], **f)["count"].sum()),
        "sighting": int(store.count_by("sighting", ["type"], **f)["count"].sum()),
        "nightwalk": int(store.count_by("nightwalk", ["organisation"], **f)["count"].sum()),
        "partner_report": int(store.partner_reports(None, period.start, period.end)["count"].sum()),
    }


def test_periods_previous_and_last_year():
    assert MONTH.kind == "month" and MONTH.previous() == Period("month", dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    assert MONTH.last_year() == Period("month", dt.date(2025, 10, 1), dt.date(2025, 10, 31))
    q = period_from_date("quarter", "2026-11-20")
    assert (q.start, q.end, q.previous().start) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31), dt.date(2026, 7, 1))
    t = period_from_date("tertial", dt.date(2026, 3, 3))
    assert (t.start, t.end, t.previous().start) == (dt.date(2026, 1, 1), dt.date(2026, 4, 30), dt.date(2025, 9, 1))
    w = period_from_date("week", dt.date(2026, 10, 14))
    assert w.start.isoweekday() == 1 and w.days == 7 and w.last_year().start.isocalendar().week == 42
    custom = period_from_bounds("2026-10-03", "2026-10-12")
    assert custom.kind == "custom" and custom.previous() == Period("custom", dt.date(2026, 9, 23),
                                                                   dt.date(2026, 10, 2))
    assert period_from_bounds("2026-10-01", "2026-12-31").kind == "quarter"
    with pytest.raises(ValidationError, match="before"):
        period_from_bounds("2026-10-02", "2026-10-01")


def test_key_figures_equal_the_store_counts_on_both_backends(store):
    demo.fill(store, seed=3)
    report = lagesbild.build_lagesbild(store, MONTH, today=TODAY)
    expected = _store_totals(store, MONTH)
    got = dict(zip(report.kind_totals["kind"], report.kind_totals["count"].astype(int), strict=True))
    assert got == expected
    previous = _store_totals(store, MONTH.previous())
    assert dict(zip(report.kind_totals["kind"], report.kind_totals["previous"].astype(int), strict=True)) == previous
    incidents = store.count_by("incident", ["source", "type"], start=MONTH.start, end=MONTH.end)
    mine = report.key_figures[report.key_figures["kind"] == "incident"]
    assert sorted(mine["count"].astype(int)[mine["count"] > 0]) == sorted(incidents["count"].astype(int))


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def _assert_pdf_not_blank(path: Path, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm (poppler-utils) is required")
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "2", str(path), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    for page in pages:
        pixels = np.asarray(Image.open(page).convert("L"), dtype=float)
        assert pixels.std() > 10, f"{page.name} looks blank"


def _total_row(text: str, label: str) -> list[str]:
    cell = r"(\d+|<\d+|\.\.)"
    m = re.search(rf"^{re.escape(label)}\s+{cell}\s+{cell}\s+{cell}", text, flags=re.MULTILINE)
    assert m, f"no row {label!r} in the PDF text"
    return list(m.groups())


def test_intern_month_pdf_and_html_show_the_store_counts(season, reports, tmp_path):
    report = reports["intern"]
    pdf = lagesbild.lagesbild_pdf(report, tmp_path / "intern.pdf")
    _assert_pdf_not_blank(pdf, tmp_path)
    text = _pdf_text(pdf)
    now, prev, year = _store_totals(season, MONTH), _store_totals(season, MONTH.previous()), \
        _store_totals(season, MONTH.last_year())
    labels = {"finding": "Fynd (trygghetsvandring och app)", "incident": "Partnerhändelser",
              "sighting": "Fältobservationer", "nightwalk": "Nattvandringsrapporter",
              "partner_report": "EST-rapporter från partner"}
    for kind, label in labels.items():
        assert _total_row(text, label) == [str(now[kind]), str(prev[kind]), str(year[kind])]
    page = lagesbild.lagesbild_html(report)
    for kind, label in labels.items():
        assert f'<td>{label}</td><td class="n">{now[kind]}</td><td class="n">{prev[kind]}</td>' in page
    assert "oktober 2026" in text and "Områdesstatus" in text
    # User text is escaped, and nothing is loaded from outside the file.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count("data:image/png;base64,") == 2


def test_partner_month_hides_small_counts_and_sighting_detail(season, reports, tmp_path):
    report = reports["partner"]
    intern = reports["intern"]
    assert report.sightings is None
    sight = report.key_figures[report.key_figures["kind"] == "sighting"]
    assert sight["group"].tolist() == ["total"]  # no breakdown by type
    for frame in (report.kind_totals, report.key_figures, report.area_figures, report.trends, report.top_places):
        for col in ("count", "previous", "last_year"):
            if col not in frame:
                continue
            values = pd.to_numeric(frame[col], errors="coerce").dropna()
            assert (values >= K).all(), f"{col} shows a count under {K}"
            small = pd.to_numeric(frame[col], errors="coerce").isna()
            assert frame.loc[small, f"{col}_display"].isin([f"<{K}", ".."]).all()
    # Shown partner figures equal the intern ones (the partner view hides, it does not change), except field
    # sightings: partners get sums of published cells over whole ISO weeks (issue 11; test_disclosure.py).
    merged = report.kind_totals.merge(intern.kind_totals, on="kind", suffixes=("_p", "_i"))
    merged = merged[merged["kind"] != "sighting"]
    shown = merged["count_p"].notna()
    assert (merged.loc[shown, "count_p"].astype(int) == merged.loc[shown, "count_i"].astype(int)).all()
    pdf = lagesbild.lagesbild_pdf(report, tmp_path / "partner.pdf")
    _assert_pdf_not_blank(pdf, tmp_path)
    text = _pdf_text(pdf)
    for row in report.kind_totals.to_dict("records"):
        label = {"finding": "Fynd (trygghetsvandring och app)", "incident": "Partnerhändelser",
                 "sighting": "Fältobservationer", "nightwalk": "Nattvandringsrapporter",
                 "partner_report": "EST-rapporter från partner"}[row["kind"]]
        assert _total_row(text, label) == [row["count_display"], row["previous_display"], row["last_year_display"]]
    assert "Partner (polis och bostadsbolag)" in text
    page = lagesbild.lagesbild_html(report)
    assert "Fältobservationer redovisas bara som summor per område." in page
    assert "Samling av unga" not in page  # no sighting type anywhere


def test_html_and_pdf_show_the_same_figures_from_one_document(reports: dict[str, lagesbild.Lagesbild], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Both formats are rendered from one Document (issue 13): every table of the HTML page equals the model's
    rows, area rows carry their level as a mark (whatever the title's language), and every figure of the
    model is in the PDF's text."""
    from collections import Counter

    from report_support import ReportPage

    from trygghetskarta.lagesbild import document, render

    pixel = io.BytesIO()
    Image.new("RGB", (4, 2), "white").save(pixel, format="PNG")
    monkeypatch.setattr(render, "chart_png", lambda _r: pixel.getvalue())  # the images are not what is tested
    monkeypatch.setattr(render, "map_png", lambda _r: pixel.getvalue())
    made: list[document.Document] = []
    real = render.lagesbild_document

    def recorded(*args: Any) -> document.Document:
        made.append(real(*args))
        return made[-1]

    monkeypatch.setattr(render, "lagesbild_document", recorded)
    for audience, report in reports.items():
        page = ReportPage(lagesbild.lagesbild_html(report))
        text = _pdf_text(lagesbild.lagesbild_pdf(report, tmp_path / f"{audience}.pdf"))
        html_doc, pdf_doc = made[-2:]
        assert html_doc.sections == pdf_doc.sections and html_doc.meta == pdf_doc.meta
        assert [s.kind for s in html_doc.sections] == list(document.LAGESBILD_SECTIONS)
        tables = {s.kind: s.table for s in html_doc.sections if s.table is not None}
        for kind, table in tables.items():
            assert page.rows[kind] == [list(r) for r in table.rows], kind
        assert page.marks["area_status"] == report.area_status["level"].tolist()
        figures = Counter(word for table in tables.values() for row in table.rows
                          for cell, col in zip(row, table.columns, strict=True) if col.numeric
                          for word in cell.split())
        assert sum(figures.values()) > 200
        assert not figures - Counter(text.split()), f"{audience}: figures of the model missing in the PDF"
        shown = tables["kind_totals"].rows
        assert [list(r[1:4]) for r in shown] == report.kind_totals[
            ["count_display", "previous_display", "last_year_display"]].astype(str).values.tolist()
        for row in shown:
            assert _total_row(text, row[0]) == list(row[1:4])


def test_partner_export_has_no_sighting_points_and_no_small_counts(reports, tmp_path):
    out = tmp_path / "partner.gpkg"
    lagesbild.export_lagesbild(reports["partner"], out)
    layers = dict(pyogrio.list_layers(out))
    assert "faltobservationer" not in layers
    for name in layers:
        frame = pyogrio.read_dataframe(out, layer=name)
        assert "observed_at" not in frame and "age_band" not in frame
        count_cols = [c for c in frame.columns if c in ("count", "previous", "last_year", "incidents", "sightings",
                                                         "findings", "overdue_actions")
                      or re.fullmatch(r"(finding|incident|sighting)_(count|previous|last_year)", c)]
        for col in count_cols:
            values = pd.to_numeric(frame[col], errors="coerce").dropna()
            assert (values >= K).all(), f"layer {name}, column {col} has a count under {K}"


def test_intern_export_geopackage_geojson_and_csv(season, reports, tmp_path):
    report = reports["intern"]
    out = tmp_path / "intern.gpkg"
    lagesbild.export_lagesbild(report, out)
    info = {name: pyogrio.read_info(out, layer=name) for name, _ in pyogrio.list_layers(out)}
    assert {"omraden", "nyckeltal", "topplatser", "fynd", "handelser", "atgarder", "faltobservationer"} <= set(info)
    n_sightings = int(season.count_by("sighting", ["type"], start=MONTH.start, end=MONTH.end)["count"].sum())
    n_findings = int(season.count_by("finding", ["category"], start=MONTH.start, end=MONTH.end)["count"].sum())
    assert info["faltobservationer"]["features"] == n_sightings
    assert info["fynd"]["features"] == n_findings
    assert info["omraden"]["features"] == len(season.areas())
    assert info["omraden"]["crs"] == "EPSG:4326"
    metric = tmp_path / "intern3006.gpkg"
    lagesbild.export_lagesbild(report, metric, srid=3006)
    assert pyogrio.read_info(metric, layer="fynd")["crs"] == "EPSG:3006"
    files = lagesbild.export_lagesbild(report, tmp_path / "data.geojson")
    assert {p.name for p in files} >= {"data_omraden.geojson", "data_fynd.geojson"}
    assert pyogrio.read_info(tmp_path / "data_fynd.geojson")["features"] == n_findings
    lagesbild.export_lagesbild(report, tmp_path / "data.csv")
    cells = pd.read_csv(tmp_path / "data_atgarder.csv", dtype=str)["what"]
    assert not cells.str.match(r"^[=+\-@]").any()
    with pytest.raises(ValidationError, match="crs"):
        lagesbild.export_lagesbild(report, tmp_path / "x.gpkg", srid=3857)


def test_csv_cells_that_look_like_formulas_are_neutralised(season, tmp_path):
    fid = int(season.read("finding", start=MONTH.start, end=MONTH.end)["id"].iloc[0])
    actions.create_action(season, [fid], "=HYPERLINK(\"http://x\")", "polis", None, planned_date=dt.date(2026, 10, 20))
    report = lagesbild.build_lagesbild(season, MONTH, today=TODAY)
    lagesbild.export_lagesbild(report, tmp_path / "f.csv")
    cells = pd.read_csv(tmp_path / "f_atgarder.csv", dtype=str)["what"]
    assert "'=HYPERLINK(\"http://x\")" in cells.tolist()


def test_area_status_explains_its_colour_and_follows_admin_thresholds(season):
    base = lagesbild.build_lagesbild(season, MONTH, today=TODAY)
    assert set(base.area_status["level"]) <= {"gron", "gul", "orange", "rod"}
    assert base.area_status["reasons"].str.len().gt(0).all()
    green = base.area_status[base.area_status["level"] == "gron"]
    assert green["reasons"].eq("Grön: inget över gränserna.").all()
    for row in base.area_status[base.area_status["level"] != "gron"].to_dict("records"):
        assert row["reasons"].startswith(f"{row['level_label']}: "), row["reasons"]
    lagesbild.save_thresholds(season, {"overdue_actions": {"gul": 0, "orange": 0, "rod": 0}})
    try:
        strict = lagesbild.build_lagesbild(season, MONTH, today=TODAY)
        assert (strict.area_status["level"] == "rod").all()
        assert strict.area_status["reasons"].str.contains("försenade åtgärder i dag|försenad åtgärd i dag").all()
    finally:
        actions.set_app_setting(season, lagesbild.THRESHOLDS_KEY, {})
    with pytest.raises(ValidationError, match="gul <= orange <= rod"):
        lagesbild.validate_thresholds({"incidents_per_1000": {"gul": 9, "orange": 3}})
    with pytest.raises(ValidationError, match="unknown indicator"):
        lagesbild.validate_thresholds({"nope": {}})
    # an override saved for an indicator of an earlier version is ignored, not an error for every lägesbild
    actions.set_app_setting(season, lagesbild.THRESHOLDS_KEY, {"open_findings": {"gul": 0, "orange": 0, "rod": 0}})
    try:
        assert lagesbild.thresholds_from_store(season) == lagesbild.default_thresholds()
    finally:
        actions.set_app_setting(season, lagesbild.THRESHOLDS_KEY, {})
    assert lagesbild.level_from_value(10, {"gul": 5, "orange": 10, "rod": 20}) == "orange"
    assert lagesbild.level_from_value(10, {"gul": 5, "orange": 10, "rod": 20}, scale=2.0) == "gul"


def test_trends_open_actions_and_done_in_period(season, reports):
    report = reports["intern"]
    scores = report.trends.drop_duplicates("area_id")["area_score"].tolist()
    assert scores == sorted(scores, reverse=True)  # the worst trends first
    assert report.open_actions["overdue"].any()
    assert not report.open_actions["status"].isin(["klar", "stangd"]).any()
    events = season.events_between(dt.datetime(2026, 10, 1, tzinfo=dt.UTC) - dt.timedelta(hours=2),
                                   dt.datetime(2026, 11, 1, tzinfo=dt.UTC) - dt.timedelta(hours=1))
    fixed = events[(events["kind"] == "finding") & events["to_status"].isin(["atgardad", "verifierad"])]
    assert int(report.done_summary.loc[report.done_summary["kind"] == "finding", "count"].sum()) == len(fixed)


def test_area_scope_and_progress(season):
    seen: list[tuple[float, str]] = []
    bro = season.area_id_by_name("Bro")
    report = lagesbild.build_lagesbild(season, MONTH, area_ids=[bro], today=TODAY,
                                       progress=lambda f, m: seen.append((f, m)))
    assert report.scope_label == "Bro"
    assert set(report.area_status["area_name"]) >= {"Bro", "Bro centrum"}
    assert "Kungsängen" not in set(report.area_status["area_name"])
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] > 0.5
    with pytest.raises(ValidationError, match="audience"):
        lagesbild.build_lagesbild(season, MONTH, audience="publik")


def test_cli_lagesbild_writes_each_format(season, tmp_path, capsys):
    for name in ("l.html", "l.pdf", "l.gpkg"):
        assert lagesbild.cli_lagesbild(season, "2026-10-01", "2026-10-31", audience="partner",
                                       out=tmp_path / name) == 0
        assert (tmp_path / name).stat().st_size > 1000
    assert lagesbild.cli_lagesbild(season, "2026-10-01", "2026-10-31", area="Ingenstans", out=tmp_path / "x.html") == 1
    assert "no area named 'Ingenstans'" in capsys.readouterr().err
    assert lagesbild.cli_lagesbild(season, "2026-10-01", "2026-10-31", out=tmp_path / "x.docx") == 1
