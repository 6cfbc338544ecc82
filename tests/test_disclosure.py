"""Disclosure control for partners (issue 11, "partners can recover counts below the privacy threshold").

Field sightings reach partners only as sums of published cells (smallest area x ISO week x type, each at least
k or left out) over whole ISO weeks. These tests build ~60 days of small counts in nested areas and run the
attacks of the issue against every partner path, on SQLite and PostGIS:

1. overlapping periods (a period one day longer, differenced),
2. differencing area selections ({A, B} minus {B}),
3. the area-level colour and its reason for a one-day period,
4. a parent area minus its children,

and assert that no count below k is recovered, that every published figure is exactly what the rule gives,
and that internal roles still get exact counts.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from trygghetskarta import export, lagesbild, mapview, privacy, settings
from trygghetskarta.access import Viewer
from trygghetskarta.cli import main
from trygghetskarta.errors import ValidationError
from trygghetskarta.lagesbild import period_from_bounds
from trygghetskarta.maps import MapFilters
from trygghetskarta.store import Store

K = 5
START = dt.date(2026, 8, 3)  # a Monday
DAYS = 60
TODAY = dt.date(2026, 10, 15)
POLIS = Viewer("pol1", "polis", "polis")
PLANNER = Viewer("plan1", "planerare")
OUTSIDE = "outside"
# Kungsängen holds Tibble (west) and Ekhammar (east); its middle belongs to no child. Bro lies apart.
AREAS = {
    "Kungsängen": box(17.700, 59.470, 17.760, 59.500),
    "Tibble": box(17.702, 59.474, 17.716, 59.496),
    "Ekhammar": box(17.744, 59.474, 17.758, 59.496),
    "Bro": box(17.610, 59.505, 17.660, 59.530),
}
PLACE = {"Tibble": (17.709, 59.485), "Ekhammar": (17.751, 59.485), "Kungsängen": (17.730, 59.497),
         "Bro": (17.635, 59.517), OUTSIDE: (17.680, 59.460)}
RATE = {"Tibble": 0.6, "Ekhammar": 0.9, "Kungsängen": 0.5, "Bro": 1.7, OUTSIDE: 0.3}  # sightings per day
TYPES = ("samling_unga", "konflikt")
ZONE = ZoneInfo("Europe/Stockholm")


# --- data and the truth -------------------------------------------------------------------------------


def _fill(store: Store) -> dict[str, int]:
    """Areas and ~4 sightings a day; returns area name -> id."""
    ids = store.insert("area", gpd.GeoDataFrame({"name": list(AREAS), "source": "approximate"},
                                                geometry=list(AREAS.values()), crs="EPSG:4326")).ids
    rng = np.random.default_rng(20261002)
    rows, geoms = [], []
    for day in range(DAYS):
        date = START + dt.timedelta(days=day)
        for name, rate in RATE.items():
            for j in range(int(rng.poisson(rate))):
                at = dt.datetime.combine(date, dt.time(18 + j % 5, 10 * (j % 6)), tzinfo=ZONE)
                rows.append({"type": TYPES[int(rng.integers(2))], "observed_at": at, "reported_by": "falt1",
                             "group_size": "1-4"})
                geoms.append(Point(*PLACE[name]))
    store.insert("sighting", gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326"))
    return dict(zip(AREAS, (int(i) for i in ids), strict=True))


class Truth:
    """Exact counts from the administrator's rows, and what the publication rule makes of them."""

    def __init__(self, store: Store, ids: dict[str, int]) -> None:
        pts = store.points("sighting", None, columns=["type", "area_id"])
        assert len(pts) > 150
        self.name_of = {v: k for k, v in ids.items()}
        self.ids = ids
        names = [self.name_of.get(int(a), OUTSIDE) if not pd.isna(a) else OUTSIDE for a in pts["area_id"]]
        assert set(names) == set(PLACE)  # every smallest area got its own sightings
        days = pts["observed_at"].dt.tz_convert(ZONE).dt.date
        self.rows = pd.DataFrame({"area": names, "day": days.to_numpy(), "type": pts["type"].to_numpy()})
        self.rows["week"] = [d - dt.timedelta(days=d.weekday()) for d in self.rows["day"]]
        cells = self.rows.groupby(["area", "week", "type"]).size()
        self.published = cells.where(cells >= K, 0)
        assert (cells < K).any() and (cells >= K).any()  # both kinds of cell occur

    def count(self, areas: set[str], start: dt.date, end: dt.date) -> int:
        r = self.rows
        return int(((r["day"] >= start) & (r["day"] <= end) & r["area"].isin(areas)).sum())

    def published_sum(self, areas: set[str], start: dt.date, end: dt.date) -> int:
        """The rule: whole ISO weeks covering start..end, only cells of at least k."""
        first, last = start - dt.timedelta(days=start.weekday()), end + dt.timedelta(days=6 - end.weekday())
        p = self.published.reset_index(name="n")
        keep = p["area"].isin(areas) & (p["week"] >= first) & (p["week"] <= last)
        return int(p.loc[keep, "n"].sum())


def _shown(display: object) -> int | None:
    """A shown number, or None for "<k", ".." or an empty cell."""
    if display is None or (isinstance(display, float) and np.isnan(display)) or display is pd.NA:
        return None
    text = str(display).strip()
    return int(float(text)) if text.replace(".", "", 1).isdigit() and text != ".." else None


def _display_of(value: int) -> str:
    return str(value) if value >= K else f"<{K}"


def _same(wrong: list[tuple[str, object, object]], what: str, got: object, want: object) -> None:
    """Collect a published figure that is not what the rule gives (asserted after the attack itself)."""
    if got != want:
        wrong.append((what, got, want))


def _assert_nothing_recovered(recovered: list[tuple[str, int, int]]) -> None:
    """``recovered``: (what, value obtained by differencing, true count). No true count in 1..k-1 may come out."""
    assert recovered, "the attack produced no differences to check"
    leaks = [r for r in recovered if 0 < r[2] < K and r[1] == r[2]]
    assert not leaks, f"{len(leaks)} counts below k recovered, e.g. {leaks[:5]}"


@pytest.fixture
def filled(store: Store, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, Truth]:
    monkeypatch.setenv("TRYGGHETSKARTA_PRIVACY_K", str(K))
    assert settings.get("privacy_k") == K
    return store, Truth(store, _fill(store))


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., int]]:
    """``main`` as the command line runs it, with the stores it opens closed afterwards (a process would)."""
    import trygghetskarta.store as store_module

    opened: list[Store] = []
    real = store_module.open_store

    def tracking(*args: Any, **kwargs: Any) -> Store:
        opened.append(real(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(store_module, "open_store", tracking)
    yield lambda *argv: main([str(a) for a in argv])
    for s in opened:
        s.dispose()


def _ends(first: int, n: int) -> list[dt.date]:
    return [START + dt.timedelta(days=d) for d in range(first, first + n)]


# --- attack 1 (overlapping periods) over the store, the export, the map data and the Karta table ------------


def _per_area(frame: pd.DataFrame, truth: Truth) -> dict[str, str]:
    return {OUTSIDE if pd.isna(a) else truth.name_of[int(a)]: str(d)
            for a, d in zip(frame["area_id"], frame["count_display"], strict=True)}


def _check_period_series(series: dict[dt.date, dict[str, str]], truth: Truth, path: str) -> None:
    """Consecutive end days differenced per area; then every shown figure must be the rule's."""
    recovered = []
    ends = sorted(series)
    for before, after in itertools.pairwise(ends):
        for area in PLACE:
            a, b = _shown(series[after][area]), _shown(series[before][area])
            recovered.append((f"{path} {area} {after}", (a or 0) - (b or 0), truth.count({area}, after, after)))
    _assert_nothing_recovered(recovered)
    for end in ends:
        for area, shown in series[end].items():
            assert shown == _display_of(truth.published_sum({area}, START, end)), (path, area, end, shown)


def test_partner_reads_over_overlapping_periods(filled: tuple[Store, Truth], cli: Callable[..., int],
                                                tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, truth = filled
    # the store's own read path: a partner's count_by is sums of published cells, whatever the range
    recovered: list[tuple[str, int, int]] = []
    wrong: list[tuple[str, object, object]] = []
    for end in _ends(20, 4):
        day = end + dt.timedelta(days=1)
        got, more = ({OUTSIDE if pd.isna(a) else truth.name_of[int(a)]: int(c)
                      for a, c in zip(f["area_id"], f["count"], strict=True)}
                     for f in (store.count_by("sighting", ["area_id"], POLIS, start=START, end=e) for e in (end, day)))
        recovered += [(f"count_by {a} {day}", more.get(a, 0) - got.get(a, 0), truth.count({a}, day, day))
                      for a in PLACE]
        for area in PLACE:
            _same(wrong, f"{area} {end}", got.get(area, 0), truth.published_sum({area}, START, end))
        by_type = store.count_by("sighting", ["type"], POLIS, start=START, end=end, area_ids=[truth.ids["Bro"]])
        _same(wrong, f"types {end}", int(by_type["count"].sum()), truth.published_sum({"Bro"}, START, end))
    _assert_nothing_recovered(recovered)
    assert not wrong, wrong[:5]
    # export --as-role (in process for 10 end days, and through the command line as the issue ran it)
    series = {}
    for end in _ends(3, 10):
        frame = export.frame_for_export(store, "sighting", POLIS, start=START, end=end)
        assert "count" not in frame and "observed_at" not in frame
        series[end] = _per_area(frame, truth)
    _check_period_series(series, truth, "export")
    cli_series = {}
    for end in _ends(12, 3):
        out = tmp_path / f"s{end}.csv"
        assert cli("--db", store.url, "export", "--kind", "sighting", "--format", "csv", "--as-role", "polis",
                   "--from", START, "--to", end, "--out", out) == 0
        with out.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        cli_series[end] = {r["area"] if r["area_id"] else OUTSIDE: r["count_display"] for r in rows}
        assert {r["published_from"] for r in rows} == {START.isoformat()}
        assert {r["published_to"] for r in rows} == {(end + dt.timedelta(days=6 - end.weekday())).isoformat()}
    _check_period_series(cli_series, truth, "export CLI")
    said = capsys.readouterr().out
    assert "hela ISO-veckor" in said and "vidgats till v. 32 2026 – v. 34 2026 (2026-08-03 – 2026-08-23)" in said
    # the Karta page's data (mapview.map_data) and its table
    series_map, series_table = {}, {}
    for end in _ends(5, 4):
        data = mapview.map_data(store, POLIS, MapFilters(start=START, end=end))
        assert data.sightings is None  # never a point
        series_map[end] = _per_area(data.sighting_areas, truth)
        if end.weekday() != 6:  # a range that does not end on a Sunday is widened, and the page says so
            assert any("hela ISO-veckor" in n for n in data.notes("sv")), data.notes("sv")
        series_table[end] = _per_area(privacy.sighting_area_totals(store, POLIS, start=START, end=end), truth)
    _check_period_series(series_map, truth, "map_data")
    _check_period_series(series_table, truth, "sighting_area_totals")


# --- the lägesbild: attacks 1-4 over the build, its HTML and GeoPackage, and the command line ---------------


def _sighting_total(report: lagesbild.Lagesbild) -> int:
    row = report.kind_totals[report.kind_totals["kind"] == "sighting"].iloc[0]
    shown = _shown(row["count_display"])
    assert (shown is None) == pd.isna(row["count"])
    return shown or 0


def _sighting_by_area(report: lagesbild.Lagesbild, truth: Truth) -> dict[str, int]:
    figs = report.area_figures[report.area_figures["kind"] == "sighting"]
    return {truth.name_of[int(a)]: _shown(d) or 0 for a, d in zip(figs["area_id"], figs["count_display"],
                                                                   strict=True)}


def _build(store: Store, start: dt.date, end: dt.date, areas: list[int] | None = None) -> lagesbild.Lagesbild:
    return lagesbild.build_lagesbild(store, period_from_bounds(start, end), audience="partner", area_ids=areas,
                                     today=TODAY)


def test_lagesbild_attacks(filled: tuple[Store, Truth], tmp_path: Path) -> None:
    store, truth = filled
    first = START + dt.timedelta(days=22)
    e0, e1 = START + dt.timedelta(days=26), START + dt.timedelta(days=27)
    reports = {e0: _build(store, first, e0), e1: _build(store, first, e1)}
    recovered: list[tuple[str, int, int]] = []
    wrong: list[tuple[str, object, object]] = []
    # attack 1: the same report one day longer
    a, b = _sighting_by_area(reports[e1], truth), _sighting_by_area(reports[e0], truth)
    recovered += [(f"period {area}", a[area] - b[area], truth.count({area}, e1, e1))
                  for area in ("Tibble", "Ekhammar", "Bro")]
    recovered.append(("period kommun", _sighting_total(reports[e1]) - _sighting_total(reports[e0]),
                      truth.count(set(PLACE), e1, e1)))
    # attack 2: {Tibble, Ekhammar} minus {Ekhammar}; attack 4: {Kungsängen} (the parent) minus its children
    s0, s1 = START + dt.timedelta(days=8), START + dt.timedelta(days=11)
    scope = {name: _sighting_total(_build(store, s0, s1, [truth.ids[n] for n in name.split("+")]))
             for name in ("Kungsängen", "Tibble+Ekhammar", "Ekhammar")}
    recovered.append(("{Tibble,Ekhammar}-{Ekhammar}", scope["Tibble+Ekhammar"] - scope["Ekhammar"],
                      truth.count({"Tibble"}, s0, s1)))
    recovered.append(("{Kungsängen}-{Tibble,Ekhammar}", scope["Kungsängen"] - scope["Tibble+Ekhammar"],
                      truth.count({"Kungsängen"}, s0, s1)))
    _same(wrong, "scope parent", scope["Kungsängen"], truth.published_sum({"Kungsängen", "Tibble", "Ekhammar"}, s0, s1))
    _same(wrong, "scope children", scope["Tibble+Ekhammar"], truth.published_sum({"Tibble", "Ekhammar"}, s0, s1))
    _same(wrong, "scope Ekhammar", scope["Ekhammar"], truth.published_sum({"Ekhammar"}, s0, s1))
    for end, report in reports.items():
        by_area = _sighting_by_area(report, truth)
        kommun = _sighting_total(report)
        # attack 4: the parent minus its children; and the kommun minus every area (what lies outside)
        recovered.append((f"nested {end}", by_area["Kungsängen"] - by_area["Tibble"] - by_area["Ekhammar"],
                          truth.count({"Kungsängen"}, first, end)))
        recovered.append((f"outside {end}", kommun - by_area["Kungsängen"] - by_area["Bro"],
                          truth.count({OUTSIDE}, first, end)))
        _same(wrong, f"kommun {end}", kommun, truth.published_sum(set(PLACE), first, end))
        for area in ("Tibble", "Ekhammar", "Bro"):
            _same(wrong, f"{area} {end}", by_area[area], truth.published_sum({area}, first, end))
        _same(wrong, f"parent {end}", by_area["Kungsängen"],
              truth.published_sum({"Kungsängen", "Tibble", "Ekhammar"}, first, end))
        _same(wrong, "note weeks", any("hela ISO-veckor" in n for n in report.notes), True)
        _same(wrong, "note k", any(f"minst {K}" in n for n in report.notes), True)
    _assert_nothing_recovered(recovered)
    assert not wrong, wrong[:5]
    # the GeoPackage of both, differenced the same way
    layers = {end: pyogrio.read_dataframe(lagesbild.export_lagesbild(r, tmp_path / f"p{end}.gpkg")[0],
                                          layer="omraden").set_index("area_name") for end, r in reports.items()}
    for area in ("Tibble", "Ekhammar", "Bro", "Kungsängen"):
        v0, v1 = (_shown(layers[e].loc[area, "sighting_count_display"]) or 0 for e in (e0, e1))
        members = {area} | ({"Tibble", "Ekhammar"} if area == "Kungsängen" else set())
        _same(wrong, f"gpkg {area}", v1, truth.published_sum(members, first, e1))
        _same(wrong, f"gpkg {area} number", np.nan_to_num(layers[e1].loc[area, "sighting_count"]), v1)
        recovered.append((f"gpkg {area}", v1 - v0, truth.count({area}, e1, e1)))
    _assert_nothing_recovered(recovered)
    assert not wrong, wrong[:5]

    # attack 3: a one-day period may not tell a partner that a sighting happened that day
    day = next(START + dt.timedelta(days=d) for d in range(10, DAYS)
               if 0 < truth.count({"Tibble"}, START + dt.timedelta(days=d), START + dt.timedelta(days=d)) < K
               and truth.published_sum({"Tibble"}, START + dt.timedelta(days=d), START + dt.timedelta(days=d)) == 0)
    report = _build(store, day, day)
    week_start = day - dt.timedelta(days=day.weekday())
    # These areas have no population: the level is the change of the published week against the mean of the
    # 6 published weeks before it (issue 12), every figure a sum of published cells.
    thresholds = lagesbild.default_thresholds()["sightings_vs_baseline"]
    for row in report.area_status.to_dict("records"):
        assert f"<{K}" not in row["reasons"]
        assert not re.search(rf"(?<![\d,])[1-{K - 1}] fältobservation", row["reasons"]), row["reasons"]
        members = {"Kungsängen": {"Kungsängen", "Tibble", "Ekhammar"}}.get(row["area_name"], {row["area_name"]})
        published = truth.published_sum(members, week_start, week_start + dt.timedelta(days=6))
        base = float(np.mean([truth.published_sum(members, week_start - dt.timedelta(weeks=w),
                                                  week_start - dt.timedelta(weeks=w) + dt.timedelta(days=6))
                              for w in range(1, lagesbild.BASELINE_PERIODS + 1)]))
        assert row["sightings_baseline"] == pytest.approx(base)
        level = lagesbild.level_from_value(lagesbild.change_against_baseline(published, base), thresholds)
        assert row["sightings_level"] == level
        if published:
            assert row["sightings"] == published
            if level != "gron":
                assert f"{published} fältobservationer på 7 dagar mot i snitt " in row["reasons"]
        else:
            assert pd.isna(row["sightings"]) and row["sightings_level"] == "gron"
    tibble = report.area_status[report.area_status["area_name"] == "Tibble"].iloc[0]
    assert tibble["level"] == "gron" and "fältobservationer" not in tibble["reasons"]
    page = lagesbild.lagesbild_html(report)
    assert f"&lt;{K} fältobservationer" not in page
    assert f"{week_start} – {week_start + dt.timedelta(days=6)}" in page


def test_cli_lagesbild_partner_attacks(filled: tuple[Store, Truth], cli: Callable[..., int], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """``trygghetskarta lagesbild --audience partner``: periods one day apart, and --area for a parent."""
    store, truth = filled
    first = START + dt.timedelta(days=8)
    e0, e1 = START + dt.timedelta(days=30), START + dt.timedelta(days=31)
    layers, kommun = {}, {}
    for end in (e0, e1):
        out = tmp_path / f"l{end}.gpkg"
        assert cli("--db", store.url, "lagesbild", "--from", first, "--to", end, "--audience", "partner",
                   "--out", out) == 0
        layers[end] = pyogrio.read_dataframe(out, layer="omraden").set_index("area_name")
        key = pyogrio.read_dataframe(out, layer="nyckeltal")
        kommun[end] = _shown(key.loc[(key["kind"] == "sighting") & (key["group"] == ""), "count_display"].iloc[0]) or 0
    said = capsys.readouterr().out
    l0, l1 = layers[e0], layers[e1]
    recovered = [("cli kommun", kommun[e1] - kommun[e0], truth.count(set(PLACE), e1, e1))]
    wrong: list[tuple[str, object, object]] = []
    _same(wrong, "kommun", kommun[e1], truth.published_sum(set(PLACE), first, e1))
    for area in ("Tibble", "Ekhammar", "Bro"):
        _same(wrong, area, l1.loc[area, "sighting_count_display"],
              _display_of(truth.published_sum({area}, first, e1)))
        recovered.append((f"cli {area}", (_shown(l1.loc[area, "sighting_count_display"]) or 0)
                          - (_shown(l0.loc[area, "sighting_count_display"]) or 0), truth.count({area}, e1, e1)))
    out = tmp_path / "parent.gpkg"
    assert cli("--db", store.url, "lagesbild", "--from", first, "--to", e1, "--area", "Kungsängen",
               "--audience", "partner", "--out", out) == 0
    key = pyogrio.read_dataframe(out, layer="nyckeltal")
    parent = _shown(key.loc[(key["kind"] == "sighting") & (key["group"] == ""), "count_display"].iloc[0]) or 0
    children = sum(_shown(l1.loc[a, "sighting_count_display"]) or 0 for a in ("Tibble", "Ekhammar"))
    recovered.append(("cli nested", parent - children, truth.count({"Kungsängen"}, first, e1)))
    _same(wrong, "parent", parent, truth.published_sum({"Kungsängen", "Tibble", "Ekhammar"}, first, e1))
    _assert_nothing_recovered(recovered)
    assert not wrong, wrong[:5]
    assert "hela ISO-veckor" in said  # the command says (in Swedish) which weeks the figures cover


# --- internal roles keep exact figures ----------------------------------------------------------------------


def test_internal_roles_keep_exact_counts(filled: tuple[Store, Truth]) -> None:
    store, truth = filled
    start, end = START + dt.timedelta(days=3), START + dt.timedelta(days=4)
    exact = truth.count(set(PLACE), start, end)
    assert exact > 0
    for viewer in (PLANNER, None):
        counts = store.count_by("sighting", ["area_id"], viewer, start=start, end=end)
        assert int(counts["count"].sum()) == exact
        by_area = Counter({OUTSIDE if pd.isna(a) else truth.name_of[int(a)]: int(c)
                           for a, c in zip(counts["area_id"], counts["count"], strict=True)})
        assert by_area == Counter({a: truth.count({a}, start, end) for a in PLACE if truth.count({a}, start, end)})
        assert len(export.frame_for_export(store, "sighting", viewer, start=start, end=end)) == exact
    intern = lagesbild.build_lagesbild(store, period_from_bounds(start, end), audience="intern", today=TODAY)
    row = intern.kind_totals[intern.kind_totals["kind"] == "sighting"].iloc[0]
    assert int(row["count"]) == exact and row["count_display"] == str(exact)
    assert not any("ISO-veck" in n for n in intern.notes)
    data = mapview.map_data(store, PLANNER, MapFilters(start=start, end=end))
    assert data.sightings is not None, "a planner sees the sightings' positions"
    assert len(data.sightings) == exact and data.sighting_areas is None and data.notes() == []


def test_publication_periods() -> None:
    w = privacy.publication_periods(dt.date(2026, 10, 1), dt.date(2026, 10, 2))
    assert (w.start, w.end, w.snapped) == (dt.date(2026, 9, 28), dt.date(2026, 10, 4), True)
    assert w.weeks == (dt.date(2026, 9, 28),)
    note = w.note("sv")
    assert note is not None, "a snapped period says so"
    assert "hela ISO-veckor" in note
    # A calendar month: the ISO weeks whose Thursday falls in it (November 2026 starts on a Sunday).
    nov = privacy.publication_periods(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert (nov.start, nov.end) == (dt.date(2026, 11, 2), dt.date(2026, 11, 29))
    year = privacy.publication_periods(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert (year.start, year.end, len(year.weeks)) == (dt.date(2025, 12, 29), dt.date(2027, 1, 3), 53)
    week = privacy.publication_periods(dt.date(2026, 10, 5), dt.date(2026, 10, 11))
    assert not week.snapped and week.note("sv") is None
    open_ended = privacy.publication_periods(None, dt.date(2026, 10, 7))
    assert (open_ended.start, open_ended.end) == (None, dt.date(2026, 10, 11))
    stockholm = dt.timezone(dt.timedelta(hours=2))
    exclusive = privacy.publication_periods(dt.datetime(2026, 10, 5, tzinfo=stockholm),
                                            dt.datetime(2026, 10, 12, tzinfo=stockholm))
    assert (exclusive.start, exclusive.end, exclusive.snapped) == (dt.date(2026, 10, 5), dt.date(2026, 10, 11), False)
    with pytest.raises(ValidationError, match="ends"):
        privacy.publication_periods(dt.date(2026, 10, 5), dt.date(2026, 10, 1))
    cells = pd.DataFrame({"area_id": [1, 1, 2, None], "week": [dt.date(2026, 9, 28)] * 4,
                          "type": ["a", "b", "a", "a"], "count": [5, 4, 9, 1]})
    pub = privacy.published_cells(cells, k=5)
    assert "count" not in pub  # the exact count never leaves the rule
    assert pub["published"].isna().tolist() == [False, True, False, True]
    assert pub["count_display"].tolist() == ["5", "<5", "9", "<5"]
    assert privacy.published_total(pub) == 14
    by_area = privacy.published_total(pub, by=["area_id"])
    assert by_area["count"].tolist() == [5, 9, 0] and pd.isna(by_area["area_id"].iloc[2])
