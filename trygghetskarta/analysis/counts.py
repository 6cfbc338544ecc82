"""Counts per area and period, rates per 1,000 inhabitants and change over time."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from trygghetskarta import schema
from trygghetskarta.analysis._points import (
    aware_times,
    hotspot_mask_from_frame,
    local_timezone,
    metric_xy_from_frame,
    require_frame,
)
from trygghetskarta.errors import ValidationError

PERIODS: tuple[str, ...] = ("week", "month", "quarter", "tertial", "year")
_MONTHS_PER_PERIOD = {"month": 1, "quarter": 3, "tertial": 4, "year": 12}
TOTAL_LABEL = {"sv": "Hela kommunen", "en": "Whole municipality"}


def _check_areas(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(areas, gpd.GeoDataFrame):
        msg = f"areas must be a GeoDataFrame with 'id' and 'name', got {type(areas).__name__}"
        raise ValidationError(msg)
    missing = [c for c in ("id", "name") if c not in areas.columns]
    if missing:
        msg = f"areas lack column(s) {', '.join(missing)}"
        raise ValidationError(msg)
    return areas if areas.crs is not None else areas.set_crs(schema.CRS_STORE)


def area_ids_from_points(records: pd.DataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """The id of the smallest area each record lies in (as the store places records: a neighbourhood before
    its locality); NA outside every area. ``trygghetskarta.areas`` says which areas hold which.

    Records with only a municipality-centroid position are never placed in an area.
    """
    require_frame(records)
    areas = _check_areas(areas)
    x, y = metric_xy_from_frame(records)
    placeable = hotspot_mask_from_frame(records) & np.isfinite(x) & np.isfinite(y)
    result = np.full(len(records), -1, dtype=np.int64)
    polygons = areas.to_crs(schema.CRS_METRIC).geometry.to_numpy()
    sizes = np.array([0.0 if p is None else p.area for p in polygons])
    for position in np.argsort(sizes, kind="stable"):  # smallest first: the first area found is the smallest
        polygon = polygons[position]
        if polygon is None or polygon.is_empty:
            continue
        minx, miny, maxx, maxy = polygon.bounds
        # A bounding-box pass first: most points are far from any one area.
        candidates = np.nonzero(placeable & (result < 0) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))[0]
        if candidates.size:
            shapely.prepare(polygon)
            inside = shapely.contains_xy(polygon, x[candidates], y[candidates])
            result[candidates[inside]] = position
    ids = areas["id"].to_numpy(dtype=object)
    values = np.where(result >= 0, ids[np.maximum(result, 0)], None) if len(ids) else np.full(len(records), None)
    return pd.Series(values, index=records.index, dtype=object, name="area_id")


def period_starts_from_times(times: pd.Series, period: str = "month", tz: str | None = None) -> pd.Series:
    """The local start (aware, midnight) of the week (Monday), month, quarter, tertial or year of each time."""
    if period not in PERIODS:
        msg = f"unknown period {period!r}; allowed: {', '.join(PERIODS)}"
        raise ValidationError(msg)
    zone = local_timezone(tz)
    local = pd.Series(times).dt.tz_convert(zone)
    if period == "week":
        day = local.dt.tz_localize(None).dt.normalize()
        naive = day - pd.to_timedelta(local.dt.day_of_week, unit="D")
    else:
        months = _MONTHS_PER_PERIOD[period]
        month = ((local.dt.month - 1) // months) * months + 1
        naive = pd.to_datetime(pd.DataFrame({"year": local.dt.year, "month": month, "day": 1}))
    return naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")


def _shift(starts: pd.Series, period: str, steps: int) -> pd.Series:
    naive = starts.dt.tz_localize(None)
    if period == "week":
        shifted = naive + pd.Timedelta(weeks=steps)
    else:
        shifted = naive + pd.DateOffset(months=_MONTHS_PER_PERIOD[period] * steps)
    return shifted.dt.tz_localize(starts.dt.tz, ambiguous="NaT", nonexistent="shift_forward")


def _period_range(first: pd.Timestamp, last: pd.Timestamp, period: str) -> pd.Series:
    starts = [first]
    while starts[-1] < last:
        starts.append(_shift(pd.Series([starts[-1]]), period, 1).iloc[0])
    return pd.Series(starts)


def _bound_start(value: dt.date | dt.datetime | pd.Timestamp | None, zone: str) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize(zone) if stamp.tzinfo is None else stamp


def area_counts_from_records(records: pd.DataFrame, areas: gpd.GeoDataFrame, *, period: str = "month",
                             time_col: str | None = None, start: dt.date | dt.datetime | None = None,
                             end: dt.date | dt.datetime | None = None, tz: str | None = None,
                             lang: str = "sv") -> pd.DataFrame:
    """Counts per area and period with rates and change, plus a whole-municipality row per period.

    Columns: ``area_id`` (NA on the total row), ``area_name``, ``period_start`` (local, aware), ``count``,
    ``population``, ``rate_per_1000``, ``previous_count``, ``change_previous``, ``change_previous_pct``,
    ``last_year_count``, ``change_last_year``, ``change_last_year_pct``.
    Every record counts in the total; only precisely positioned records are placed in an area.
    Periods run from ``start`` (or the first record) to ``end`` (or the last); comparisons use every
    record passed, so pass a year more than you report for last-year figures. Comparisons with
    periods before the first record are NA.
    """
    require_frame(records)
    areas = _check_areas(areas)
    zone = local_timezone(tz)
    times = aware_times(records, time_col)
    has_time = times.notna().to_numpy()
    starts = period_starts_from_times(times[has_time], period, zone)
    area_ids = area_ids_from_points(records.loc[has_time], areas)
    first_data = starts.min() if len(starts) else None
    first, last = _period_bounds(starts, first_data, start, end, period, zone)
    report = _period_range(first, last, period)
    lookback_from = _shift(pd.Series([first]), period, -(52 if period == "week" else 12 // _MONTHS_PER_PERIOD[period]))
    every = _period_range(min(lookback_from.iloc[0], first), last, period)

    names = dict(zip(areas["id"], areas["name"].astype(str), strict=True))
    population = (pd.to_numeric(areas["population"], errors="coerce") if "population" in areas.columns
                  else pd.Series(np.nan, index=areas.index))
    populations = dict(zip(areas["id"], population, strict=True))
    keys = [*areas["id"].tolist(), None]
    observed = pd.DataFrame({"area_id": area_ids.to_numpy(), "period_start": starts.to_numpy()})
    per_area = observed.dropna(subset=["area_id"]).groupby(["area_id", "period_start"]).size()
    total = observed.groupby("period_start").size()

    rows = []
    for key in keys:
        if key is None:
            series = total
        elif key in per_area.index.get_level_values(0):
            series = per_area.xs(key, level="area_id")
        else:
            series = pd.Series(dtype=np.int64)
        counts = pd.Series(series, dtype=float).reindex(every, fill_value=0.0)
        if first_data is not None:
            counts[counts.index < first_data] = np.nan  # no data there: unknown, not zero
        previous = _shift(report, period, -1)
        last_year = _shift(report, period, -(52 if period == "week" else 12 // _MONTHS_PER_PERIOD[period]))
        now = counts.reindex(report).to_numpy()
        now = np.nan_to_num(now, nan=0.0)
        prev = counts.reindex(previous).to_numpy()
        year = counts.reindex(last_year).to_numpy()
        pop = np.nan if key is None else populations.get(key, np.nan)
        rows.append(pd.DataFrame({
            "area_id": key,
            "area_name": TOTAL_LABEL.get(lang, TOTAL_LABEL["sv"]) if key is None else names[key],
            "period_start": report.to_numpy(),
            "count": now.astype(np.int64),
            "population": pop,
            "previous_count": prev,
            "last_year_count": year,
        }))
    out = pd.concat(rows, ignore_index=True)
    out["area_id"] = out["area_id"].astype(object).where(out["area_id"].notna(), None)
    out["population"] = pd.to_numeric(out["population"], errors="coerce")
    return _with_rates_and_changes(out)


def _period_bounds(starts: pd.Series, first_data: pd.Timestamp | None, start: dt.date | dt.datetime | None,
                   end: dt.date | dt.datetime | None, period: str, zone: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last period to report: those of ``start`` and ``end``, else of the first and last record."""
    lo = _bound_start(start, zone)
    hi = _bound_start(end, zone)
    first = period_starts_from_times(pd.Series([lo]), period, zone).iloc[0] if lo is not None else first_data
    last = period_starts_from_times(pd.Series([hi]), period, zone).iloc[0] if hi is not None else starts.max()
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        msg = "no records with a time and no start/end given: there is no period to count"
        raise ValidationError(msg)
    if last < first:
        msg = f"end ({end}) is before start ({start})"
        raise ValidationError(msg)
    return first, last


def _with_rates_and_changes(out: pd.DataFrame) -> pd.DataFrame:
    """The counts with their rate per 1000 inhabitants and change from the previous period and the last year."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate_per_1000"] = np.where(out["population"] > 0, out["count"] / out["population"] * 1000, np.nan)
        out["change_previous"] = out["count"] - out["previous_count"]
        out["change_previous_pct"] = np.where(out["previous_count"] > 0,
                                              out["change_previous"] / out["previous_count"] * 100, np.nan)
        out["change_last_year"] = out["count"] - out["last_year_count"]
        out["change_last_year_pct"] = np.where(out["last_year_count"] > 0,
                                               out["change_last_year"] / out["last_year_count"] * 100, np.nan)
    columns = ["area_id", "area_name", "period_start", "count", "population", "rate_per_1000", "previous_count",
               "change_previous", "change_previous_pct", "last_year_count", "change_last_year", "change_last_year_pct"]
    return out[columns]


def status_over_time(findings: pd.DataFrame, events: pd.DataFrame, period: str = "week",
                     tz: str | None = None) -> pd.DataFrame:
    """How many findings had each status at the end of each period (``period_start``, ``status``, ``count``).

    ``findings`` needs ``id``, ``status`` (now) and ``reported_at``; ``events`` the status changes of findings
    (``record_id``, ``from_status``, ``to_status``, ``at``), as ``Store.events_between`` returns them. A finding
    counts from its period of report with the status it had before its first change (its current status if it
    never changed), and each change moves it from one status to the other in the period it happened; so
    findings stored with a status and no history (imports, demo data) are counted as they are.
    """
    require_frame(findings)
    require_frame(events)
    missing = [c for c in ("id", "status", "reported_at") if c not in findings.columns]
    if missing:
        msg = f"findings lack column(s) {', '.join(missing)}"
        raise ValidationError(msg)
    statuses = list(schema.keys("status"))
    if findings.empty:
        return pd.DataFrame({"period_start": pd.Series(dtype="datetime64[ns, UTC]"),
                             "status": pd.Series(dtype=object), "count": pd.Series(dtype=np.int64)})
    reported = aware_times(findings, "reported_at")
    ids = findings["id"].astype(np.int64)
    changes = events.iloc[0:0] if events.empty else events[
        events["record_id"].astype(np.int64).isin(set(ids)) & events["to_status"].isin(statuses)]
    changes = changes.sort_values("at", kind="stable")
    first_from = changes.groupby("record_id")["from_status"].first()
    initial = ids.map(first_from).where(ids.isin(first_from.index), findings["status"].to_numpy())
    report_at = pd.Series(reported.to_numpy(), index=ids.to_numpy())
    change_at = pd.to_datetime(changes["at"], utc=True)
    # A change recorded before the report time (clock skew, back-dated imports) counts from the report.
    change_at = pd.Series(np.maximum(change_at.to_numpy(), report_at.reindex(changes["record_id"].astype(
        np.int64)).to_numpy()), index=changes.index) if len(changes) else change_at
    deltas = pd.concat([
        pd.DataFrame({"at": reported.to_numpy(), "status": initial.to_numpy(), "delta": 1}),
        pd.DataFrame({"at": change_at.to_numpy(), "status": changes["from_status"].to_numpy(), "delta": -1}),
        pd.DataFrame({"at": change_at.to_numpy(), "status": changes["to_status"].to_numpy(), "delta": 1}),
    ], ignore_index=True)
    deltas = deltas[deltas["status"].isin(statuses)]
    deltas["period_start"] = period_starts_from_times(pd.to_datetime(deltas["at"], utc=True), period, tz)
    table = deltas.pivot_table(index="period_start", columns="status", values="delta", aggfunc="sum",
                               fill_value=0).reindex(columns=statuses, fill_value=0)
    first, last = table.index.min(), table.index.max()
    steps = 0
    starts = [first]
    while starts[-1] < last:
        steps += 1
        starts.append(_shift(pd.Series([first]), period, steps).iloc[0])
    table = table.reindex(pd.DatetimeIndex(starts), fill_value=0).cumsum()
    table.index.name = "period_start"
    long = table.reset_index().melt(id_vars="period_start", var_name="status", value_name="count")
    return long.astype({"count": np.int64})
