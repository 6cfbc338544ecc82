"""Issue 12: the four-level area status says something. It is computed for the chosen period only, from rates
per 1,000 inhabitants where the area has a population and from the change against the area's own baseline
otherwise, and every area's reason says in plain Swedish why it got its colour. Old open findings outside the
period never raise the level; the partner audience's reasons never show a count under k."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from trygghetskarta import actions, geography, lagesbild, settings
from trygghetskarta.lagesbild import period_from_bounds, period_from_date
from trygghetskarta.store import Store

ZONE = ZoneInfo("Europe/Stockholm")
K = 5
WEEK49 = period_from_date("week", dt.date(2026, 12, 2))  # 2026-11-30 .. 2026-12-06
TODAY = dt.date(2026, 12, 7)


@pytest.fixture
def areas(store: Store) -> dict[str, shapely.Point]:
    """The shipped Upplands-Bro areas (Kungsängen, Bro and Brunna have populations, their neighbourhoods not);
    returns a point inside each area's own part (for a neighbourhood: inside it), in EPSG:3006."""
    store.insert("area", geography.shipped_areas())
    metric = store.areas().set_index("name").to_crs(3006).geometry
    hoods = {"Kungsängen": ("Kungsängen centrum", "Tibble", "Gröna dalen", "Ekhammar"),
             "Bro": ("Bro centrum", "Råby", "Finnsta", "Trädgårdsstaden"), "Brunna": ("Brunna/Norrboda",)}
    points = {}
    for name, polygon in metric.items():
        own = polygon.difference(shapely.union_all([metric[h] for h in hoods.get(str(name), ())])) \
            if name in hoods else polygon
        points[str(name)] = own.representative_point()
    return points


def _at(day: dt.date, i: int) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime.combine(day, dt.time(12 + i % 8, i % 60), tzinfo=ZONE))


def _findings(store: Store, point: shapely.Point, n: int, day: dt.date) -> None:
    rows = [{"category": "klotter", "reported_at": _at(day, i), "geometry": shapely.Point(point.x + i, point.y)}
            for i in range(n)]
    store.insert("finding", gpd.GeoDataFrame(rows, geometry="geometry", crs=3006).to_crs(4326))


def _incidents(store: Store, point: shapely.Point, n: int, day: dt.date) -> None:
    rows = [{"source": "upplands_brohus", "type": "klotter", "occurred_at": _at(day, i), "precision": "exakt",
             "geometry": shapely.Point(point.x + i, point.y)} for i in range(n)]
    store.insert("incident", gpd.GeoDataFrame(rows, geometry="geometry", crs=3006).to_crs(4326))


def _sightings(store: Store, point: shapely.Point, n: int, day: dt.date) -> None:
    rows = [{"type": "samling_unga", "observed_at": _at(day, i), "reported_by": "falt1", "group_size": "1-4",
             "geometry": shapely.Point(point.x + i, point.y)} for i in range(n)]
    store.insert("sighting", gpd.GeoDataFrame(rows, geometry="geometry", crs=3006).to_crs(4326))


def _status(report: lagesbild.Lagesbild) -> pd.DataFrame:
    return pd.DataFrame(report.area_status.drop(columns="geometry")).set_index("area_name")


def test_a_quiet_week_is_green_even_with_many_old_open_findings(store: Store, areas: dict) -> None:
    # 60 open findings in Tibble and in Bro centrum, all reported in September: before the fix they made
    # every area holding them red in week 49, whose every count is 0.
    for name in ("Tibble", "Bro centrum"):
        _findings(store, areas[name], 60, dt.date(2026, 9, 10))
    report = lagesbild.build_lagesbild(store, WEEK49, today=TODAY)
    assert int(report.kind_totals["count"].sum()) == 0
    status = _status(report)
    assert set(status["level"]) == {"gron"}, status[["level", "reasons"]]
    assert set(status["reasons"]) == {"Grön: inget över gränserna."}
    assert "bara den valda perioden" in report.status_note


def test_old_open_findings_outside_the_period_do_not_raise_the_level(store: Store, areas: dict) -> None:
    week = period_from_date("week", dt.date(2026, 10, 14))
    _findings(store, areas["Bro centrum"], 6, dt.date(2026, 10, 13))
    _incidents(store, areas["Tibble"], 6, dt.date(2026, 10, 15))
    before = _status(lagesbild.build_lagesbild(store, week, today=dt.date(2026, 10, 19)))
    assert before.loc["Tibble", "level"] != "gron"  # the week's own incidents do count
    # many findings that are still open, reported before the period (and before its baseline)
    for name in ("Bro centrum", "Tibble", "Brunna/Norrboda", "Kungsängen"):
        _findings(store, areas[name], 80, dt.date(2026, 3, 2))
    after = _status(lagesbild.build_lagesbild(store, week, today=dt.date(2026, 10, 19)))
    pd.testing.assert_series_equal(after["level"], before["level"])
    pd.testing.assert_series_equal(after["reasons"], before["reasons"])


def test_a_populated_area_with_a_high_rate_is_red_and_says_why(store: Store, areas: dict) -> None:
    period = period_from_bounds("2026-10-01", "2026-10-30")  # 30 days
    _incidents(store, areas["Brunna"], 14, dt.date(2026, 10, 12))  # Brunna: 4 051 inhabitants
    status = _status(lagesbild.build_lagesbild(store, period, today=dt.date(2026, 10, 31)))
    brunna = status.loc["Brunna"]
    assert brunna["population"] == 4051
    assert brunna["incidents"] == 14
    assert brunna["incidents_rate"] == pytest.approx(14 / 4051 * 1000)
    assert brunna["level"] == "rod"
    assert brunna["reasons"] == ("Röd: 14 partnerhändelser på 30 dagar = 3,5 per 1 000 invånare "
                                 "(gräns för röd: 2,5)")
    # a shorter period is scaled to 30 days and says so
    week = period_from_date("week", dt.date(2026, 10, 12))
    short = _status(lagesbild.build_lagesbild(store, week, today=dt.date(2026, 10, 19))).loc["Brunna"]
    assert short["reasons"].startswith("Röd: 14 partnerhändelser på 7 dagar = 14,8 per 1 000 invånare "
                                       "räknat på 30 dagar (gräns för röd: 2,5)")
    # the thresholds are the administrator's
    lagesbild.save_thresholds(store, {"incidents_per_1000": {"gul": 4, "orange": 5, "rod": 6}})
    relaxed = _status(lagesbild.build_lagesbild(store, period, today=dt.date(2026, 10, 31))).loc["Brunna"]
    assert relaxed["level"] == "gron" and relaxed["reasons"] == "Grön: inget över gränserna."


def test_an_unpopulated_area_is_judged_against_its_own_baseline(store: Store, areas: dict) -> None:
    week = period_from_date("week", dt.date(2026, 10, 14))  # 2026-10-12 .. 2026-10-18
    for back in range(1, 7):  # 4 incidents in Tibble in each of the 6 weeks before
        _incidents(store, areas["Tibble"], 4, week.start - dt.timedelta(days=7 * back - 2))
    _incidents(store, areas["Tibble"], 10, week.start + dt.timedelta(days=1))
    # Ekhammar: 1 incident in the baseline, 2 now (+1100 % against a baseline counted as 1, but too few to judge)
    _incidents(store, areas["Ekhammar"], 1, week.start - dt.timedelta(days=10))
    _incidents(store, areas["Ekhammar"], 2, week.start + dt.timedelta(days=2))
    status = _status(lagesbild.build_lagesbild(store, week, today=dt.date(2026, 10, 19)))
    tibble = status.loc["Tibble"]
    assert pd.isna(tibble["population"])
    assert tibble["incidents_baseline"] == pytest.approx(4.0)
    assert tibble["incidents_change_pct"] == pytest.approx(150.0)
    assert tibble["level"] == "orange"
    assert tibble["reasons"] == ("Orange: 10 partnerhändelser på 7 dagar mot i snitt 4,0 under de 6 föregående "
                                 "perioderna (+150 %, gräns för orange: +100 %)")
    assert status.loc["Ekhammar", "level"] == "gron"
    assert status.loc["Ekhammar", "reasons"] == "Grön: inget över gränserna."
    # the same count as the baseline is green
    same = period_from_date("week", week.start - dt.timedelta(days=7))
    assert _status(lagesbild.build_lagesbild(store, same, today=dt.date(2026, 10, 19))).loc["Tibble", "level"] \
        == "gron"
    lagesbild.save_thresholds(store, {"incidents_vs_baseline": {"gul": 10, "orange": 20, "rod": 100}})
    strict = _status(lagesbild.build_lagesbild(store, week, today=dt.date(2026, 10, 19))).loc["Tibble"]
    assert strict["level"] == "rod" and "gräns för röd: +100 %" in strict["reasons"]


def test_overdue_actions_are_explained_as_a_state_today(store: Store, areas: dict) -> None:
    _findings(store, areas["Tibble"], 1, dt.date(2026, 9, 1))
    fid = int(store.read("finding")["id"].iloc[0])
    actions.create_action(store, [fid], "Byt belysning", "kommun_gata_park", None, planned_date=dt.date(2026, 9, 20))
    status = _status(lagesbild.build_lagesbild(store, WEEK49, today=TODAY))
    assert status.loc["Tibble", "level"] == "gul"
    assert status.loc["Tibble", "reasons"] == ("Gul: 1 försenad åtgärd i dag (läget nu, oavsett period; "
                                               "gräns för gul: 1)")


def test_partner_reasons_never_show_a_count_under_k(store: Store, areas: dict,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_PRIVACY_K", str(K))
    assert settings.get("privacy_k") == K
    week = period_from_date("week", dt.date(2026, 10, 14))
    day = dt.date(2026, 10, 14)
    _findings(store, areas["Brunna"], 4, day)  # 4 of 4 051 in 7 days: 4,2 per 1 000 and 30 days (orange)
    _sightings(store, areas["Brunna"], 3, day)  # one cell of 3 < k: never published
    _sightings(store, areas["Bro"], 6, day)  # one cell of 6: published
    intern = _status(lagesbild.build_lagesbild(store, week, today=dt.date(2026, 10, 19)))
    assert intern.loc["Brunna", "level"] == "orange"
    assert "4 fynd på 7 dagar = 4,2 per 1 000 invånare" in intern.loc["Brunna", "reasons"]
    assert "3 fältobservationer på 7 dagar" in intern.loc["Brunna", "reasons"]
    report = lagesbild.build_lagesbild(store, week, audience="partner", today=dt.date(2026, 10, 19))
    partner = _status(report)
    assert partner.loc["Brunna", "level"] == "gron"
    assert partner.loc["Brunna", "reasons"] == "Grön: inget över gränserna."
    for col in ("findings", "findings_rate", "sightings", "sightings_rate"):
        assert pd.isna(partner.loc["Brunna", col]), col
    # the published Bro cell is judged on its published figure (6 of 9 889 in 7 days = 2,6: orange)
    assert partner.loc["Bro", "sightings"] == 6
    assert partner.loc["Bro", "reasons"] == ("Orange: 6 fältobservationer på 7 dagar = 2,6 per 1 000 invånare "
                                             "räknat på 30 dagar (gräns för orange: 2,0)")
    small = re.compile(rf"(?<![\d,])[1-{K - 1}] (?:partnerhändelse|fynd|fältobservation|försenad)")
    for reason in partner["reasons"]:
        assert not small.search(reason), reason
    assert "Antal under 5 bedöms inte" in report.status_note
    page = lagesbild.lagesbild_html(report)
    assert "6 fältobservationer på 7 dagar" in page
    assert "3 fältobservationer" not in page and "4 fynd" not in page
