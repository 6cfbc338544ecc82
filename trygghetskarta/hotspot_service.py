"""How far the hot-spot map can be trusted, and where hot spots emerge, from the store (#17).

- ``period_cube``: counts of the events a viewer may see (precise positions; chosen kinds) per grid cell over the
  municipality and per period (month or ISO week), the last ``periods`` whole periods before ``until``.
- ``evaluate``: ``analysis.hotspot_eval`` rolled over those periods for a method (count, KDE, Gi*) beside the
  naive "last period's counts", with a Swedish sentence for the Karta page.
- ``hotspot_cells``: the cells of one period range with count, score (count, density or z), p and class.
- ``emerging``: ``analysis.emerging`` on the cube, as polygons for the map and the lägesbild.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd

from trygghetskarta import access, analysis, geography, schema, settings
from trygghetskarta.access import Viewer
from trygghetskarta.analysis import emerging as em
from trygghetskarta.analysis import hotspot_eval as he
from trygghetskarta.analysis._points import metric_xy_from_lonlat
from trygghetskarta.errors import ValidationError
from trygghetskarta.store import Store

HOTSPOT_KINDS: tuple[str, ...] = ("incident", "finding", "sighting")
DEFAULT_KINDS: tuple[str, ...] = ("incident", "finding")
PERIOD_KINDS: tuple[str, ...] = ("month", "week")
DEFAULT_CELL_M = 250.0


def _period_starts(until: dt.date, period: str, periods: int) -> list[dt.date]:
    """Starts of the last ``periods`` whole periods ending before ``until``, plus the end (exclusive)."""
    if period not in PERIOD_KINDS:
        msg = f"--period must be one of {', '.join(PERIOD_KINDS)}, got {period!r}"
        raise ValidationError(msg)
    if not isinstance(periods, int) or not 2 <= periods <= 120:
        msg = f"--periods must be a whole number from 2 to 120, got {periods!r}"
        raise ValidationError(msg)
    if period == "week":
        end = until - dt.timedelta(days=until.weekday())
        return [end - dt.timedelta(weeks=periods - i) for i in range(periods + 1)]
    end = until.replace(day=1)
    starts = []
    for i in range(periods, -1, -1):
        month = end.month - 1 - i
        starts.append(dt.date(end.year + month // 12, month % 12 + 1, 1))
    return starts


def _points(store: Store, viewer: Viewer | None, kinds: Sequence[str], start: dt.date | None,
            end: dt.date | None) -> pd.DataFrame:
    """lon, lat, time of the precisely positioned events of ``kinds`` the viewer may see (end inclusive)."""
    unknown = [k for k in kinds if k not in HOTSPOT_KINDS]
    if unknown:
        msg = f"unknown kind(s) {', '.join(unknown)}; allowed: {', '.join(HOTSPOT_KINDS)}"
        raise ValidationError(msg)
    frames = []
    for kind in kinds:
        if access.policy(viewer, kind).mode in ("none", "aggregate"):
            continue
        filters = {"precisions": sorted(schema.HOTSPOT_PRECISIONS)} if kind == "incident" else {}
        pts = store.points(kind, viewer, start, end, **filters)
        time_col = {"incident": "occurred_at", "finding": "reported_at", "sighting": "observed_at"}[kind]
        frames.append(pd.DataFrame({"lon": pts["lon"].astype(float), "lat": pts["lat"].astype(float),
                                    "time": pts[time_col]}))
    if not frames:
        return pd.DataFrame({"lon": pd.Series(dtype=float), "lat": pd.Series(dtype=float),
                             "time": pd.Series(dtype="datetime64[ns, UTC]")})
    return pd.concat(frames, ignore_index=True)


def municipality_grid(cell_m: float) -> analysis.Grid:
    """The analysis grid over the municipality (cells touching it)."""
    if not isinstance(cell_m, int | float) or not 50 <= cell_m <= 5000:
        msg = f"--cell-m must be between 50 and 5000 metres, got {cell_m!r}"
        raise ValidationError(msg)
    return analysis.grid_from_boundary(geography.municipality(), float(cell_m))


def period_cube(store: Store, viewer: Viewer | None = None, *, period: str = "month", periods: int = 12,
                until: dt.date | None = None, cell_m: float = DEFAULT_CELL_M,
                kinds: Sequence[str] = DEFAULT_KINDS) -> tuple[np.ndarray, analysis.Grid, list[dt.date]]:
    """Counts ``(periods, ny, nx)`` per period and cell, the grid and the period starts (local dates)."""
    zone = settings.get("timezone")
    until = until or dt.datetime.now(ZoneInfo(zone)).date()
    starts = _period_starts(until, period, periods)
    grid = municipality_grid(cell_m)
    pts = _points(store, viewer, kinds, starts[0], starts[-1] - dt.timedelta(days=1))
    cube = np.zeros((periods, grid.ny, grid.nx), dtype=float)
    if len(pts):
        local = pd.to_datetime(pts["time"], utc=True).dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
        edges = pd.to_datetime(pd.Series(starts)).to_numpy()
        t = np.searchsorted(edges, local.to_numpy(), side="right") - 1
        x, y = metric_xy_from_lonlat(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
        cell = grid.cell_index(x, y)
        ok = (t >= 0) & (t < periods) & (cell >= 0)
        flat = np.bincount(t[ok] * grid.nx * grid.ny + cell[ok], minlength=periods * grid.nx * grid.ny)
        cube = flat.reshape(periods, grid.ny, grid.nx).astype(float)
    return cube, grid, starts[:-1]


def evaluate(store: Store, viewer: Viewer | None = None, *, method: str = "count", period: str = "month",
             periods: int = 12, window: int = 6, shares: Sequence[float] = he.DEFAULT_SHARES,
             cell_m: float = DEFAULT_CELL_M, until: dt.date | None = None, kinds: Sequence[str] = DEFAULT_KINDS,
             lang: str | None = None) -> dict[str, Any]:
    """The rolled evaluation as JSON-ready data: settings, per-period rows, pooled summary and the sentence.

    ``periods`` is the number of periods tested; ``window`` earlier periods train the first of them.
    """
    if method not in he.METHODS:
        msg = f"--method must be one of {', '.join(he.METHODS)}, got {method!r}"
        raise ValidationError(msg)
    lang = lang or settings.get("lang")
    cube, grid, starts = period_cube(store, viewer, period=period, periods=periods + window, until=until,
                                     cell_m=cell_m, kinds=kinds)
    rolled = he.evaluate_cube(cube, grid, method, window=window, shares=shares,
                              labels=[s.isoformat() for s in starts])
    rolled = rolled[rolled["period"].isin([s.isoformat() for s in starts[window:]])].reset_index(drop=True)
    summary = he.summarise(rolled)
    out = {
        "method": method, "period": period, "periods": periods, "window": window, "cell_m": float(cell_m),
        "shares": [float(s) for s in shares], "kinds": [k for k in kinds
                                                         if access.policy(viewer, k).mode not in ("none", "aggregate")],
        "tested_from": starts[window].isoformat() if len(starts) > window else None,
        "tested_to": starts[-1].isoformat(),
        "study_cells": int(grid.active.sum()),
        "summary": _records(summary), "rolled": _records(rolled),
    }
    out["sentence"] = sentence(out, lang)
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for rec in frame.to_dict("records"):
        rows.append({k: (None if isinstance(v, float) and not np.isfinite(v) else
                         (v.item() if isinstance(v, np.generic) else v)) for k, v in rec.items()})
    return rows


_METHOD_SV = {"count": "antal per ruta", "kde": "kärnskattning", "gistar": "Gi*"}
_METHOD_EN = {"count": "count per cell", "kde": "kernel density", "gistar": "Gi*"}


def method_label(method: str, lang: str = "sv") -> str:
    """The method's name for people (Swedish or English)."""
    return (_METHOD_SV if lang == "sv" else _METHOD_EN).get(method, method)
_PERIOD_TEXT = {"month": ("månads", "month's"), "week": ("veckas", "week's")}


def sentence(result: dict[str, Any], lang: str = "sv", share: float | None = None) -> str:
    """What the evaluation says in one sentence, for the share closest to 5 % (or ``share``)."""
    summary = pd.DataFrame(result["summary"])
    sv = lang == "sv"
    if summary.empty or summary["events"].sum() == 0:
        return ("För få händelser de senaste perioderna för att pröva kartan." if sv else
                "Too few events in the last periods to test the map.")
    shares = sorted(summary["share"].unique())
    chosen = share if share is not None else min(shares, key=lambda s: abs(s - 0.05))
    method = summary[(summary["share"] == chosen) & (summary["model"] == "method")].iloc[0]
    naive = summary[(summary["share"] == chosen) & (summary["model"] == "naive")].iloc[0]

    def num(v: float | None, d: int = 1) -> str:
        if v is None or not np.isfinite(v):
            return "–"
        text = f"{v:.{d}f}"
        return text.replace(".", ",") if sv else text

    pct = round(100 * method["hit_rate"]) if np.isfinite(method["hit_rate"]) else 0
    area = num(100 * chosen, 0)
    n = int(result["periods"])
    per = _PERIOD_TEXT[result["period"]][0 if sv else 1]
    if sv:
        return (f"De markerade cellerna ({_METHOD_SV[result['method']]}) har de senaste {n} perioderna fångat "
                f"{pct} % av nästa {per} händelser på {area} % av ytan; PAI {num(method['pai'])}; en enkel "
                f"räkning av förra perioden ger PAI {num(naive['pai'])}.")
    return (f"Over the last {n} periods the marked cells ({_METHOD_EN[result['method']]}) caught {pct} % of the "
            f"next {per} events on {area} % of the area; PAI {num(method['pai'])}; a simple count of the last "
            f"period gives PAI {num(naive['pai'])}.")


def hotspot_cells(store: Store, viewer: Viewer | None = None, *, start: dt.date | None, end: dt.date | None,
                  method: str = "count", cell_m: float = DEFAULT_CELL_M, kinds: Sequence[str] = DEFAULT_KINDS,
                  share: float = 0.05, bandwidth_m: float = 200.0) -> gpd.GeoDataFrame:
    """The cells (EPSG:4326 polygons) of ``start``–``end`` (inclusive): ``count``, ``score`` (count, density per
    km² or Gi* z), ``z``, ``p`` and ``class`` (Gi*: its class key; count/KDE: ``topp`` for the top ``share``
    of the area, else ``ovrig``). Cells without events and class are left out."""
    if method not in he.METHODS:
        msg = f"--method must be one of {', '.join(he.METHODS)}, got {method!r}"
        raise ValidationError(msg)
    grid = municipality_grid(cell_m)
    pts = _points(store, viewer, kinds, start, end)
    x, y = metric_xy_from_lonlat(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
    counts = analysis.counts_from_xy(x, y, grid)
    table = he.cell_table(counts, grid, method, bandwidth_m=bandwidth_m, share=share)
    if method == "gistar":
        gi = analysis.gistar_from_grid_counts(counts, grid)
        table["class"] = gi["gistar"].to_numpy()
        keep = (table["count"] > 0) | (table["class"] != "ej_signifikant")
    else:
        table["class"] = np.where(table["hot"], "topp", "ovrig")
        keep = (table["count"] > 0) | (table["score"] > 1e-9 * max(float(table["score"].max()), 1.0))
    table = table[keep.to_numpy()].reset_index(drop=True)
    cells = analysis.cells_from_grid(grid)
    cells = cells.merge(table, on=["row", "col"], how="inner")
    cells["x0"] = grid.x0 + cells["col"] * grid.cell_m
    cells["y0"] = grid.y0 + cells["row"] * grid.cell_m
    cells["method"] = method
    cells["cell_m"] = float(cell_m)
    return cells.drop(columns=["hot"]).to_crs(schema.CRS_STORE)


def emerging(store: Store, viewer: Viewer | None = None, *, period: str = "month", periods: int = 12,
             until: dt.date | None = None, cell_m: float = DEFAULT_CELL_M, kinds: Sequence[str] = DEFAULT_KINDS,
             alpha: float = 0.05, lang: str | None = None) -> gpd.GeoDataFrame:
    """Emerging hot spots over the last ``periods`` periods: cells with a class (not "no pattern"), EPSG:4326,
    with ``emerging`` (key), ``label``, ``total``, ``hot_periods``, ``trend_tau``, ``trend_p``."""
    lang = lang or settings.get("lang")
    cube, grid, starts = period_cube(store, viewer, period=period, periods=periods, until=until, cell_m=cell_m,
                                     kinds=kinds)
    frame = em.emerging_hotspots(cube, grid, alpha=alpha)
    frame = frame[frame["emerging"] != "inget_monster"].reset_index(drop=True)
    labels = {t.key: t.label(lang) for t in em.EMERGING_CLASSES}
    frame["label"] = frame["emerging"].map(labels)
    cells = analysis.cells_from_grid(grid).merge(frame, on=["row", "col"], how="inner")
    out = cells.to_crs(schema.CRS_STORE)
    out.attrs["from"] = starts[0].isoformat() if starts else None
    out.attrs["periods"] = periods
    return out


def emerging_summary(cells: gpd.GeoDataFrame, lang: str = "sv") -> pd.DataFrame:
    """Cells per emerging class (in the classes' order), for the lägesbild."""
    counts = cells["emerging"].value_counts() if len(cells) else pd.Series(dtype="int64")
    rows = [(t.label(lang), int(counts.get(t.key, 0))) for t in em.EMERGING_CLASSES if t.key != "inget_monster"]
    return pd.DataFrame(rows, columns=["class", "cells"])
