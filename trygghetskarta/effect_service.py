"""Did it help? The effect of an action (or a group of actions) against a control area, from the store (#17).

``effect_report`` counts the events (partner incidents, findings, field sightings: chosen kinds and categories)
a viewer may see in four disjoint zones, in equal windows before and after the intervention date, and hands the
counts to ``analysis.effect`` (WDQ, TNE, WDD with its standard error and test):

- target: a stored area, a drawn polygon (a GeoJSON/GeoPackage file) or an action's findings' area;
- buffer: the ring ``buffer_m`` (default 200 m) around the target, where displaced events would show;
- control: chosen areas, or the suggestion (``suggest_controls``): the stored smallest area that had no action in
  the two windows, lies clear of the target and its buffer and has the baseline (before-window count) closest
  to the target's;
- the control's own buffer ring, the displacement area's control (Wheeler & Ratcliffe 2018).

Only precise positions count (``schema.HOTSPOT_PRECISIONS``: a kommun centroid lies in no zone). The share of
follow-up answers "känns det tryggare?" that said yes, before and after, comes from the findings in the target.
For a partner viewer every count under the privacy threshold k is shown as ``<k``, and then no measure is shown
(a measure and the other counts would give the hidden count back); field sightings are never counted for
partners (they see them only as published area sums).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from trygghetskarta import access, schema, settings
from trygghetskarta import areas as areas_rule
from trygghetskarta.access import Viewer
from trygghetskarta.analysis import effect as fx
from trygghetskarta.analysis._points import metric_xy_from_lonlat
from trygghetskarta.errors import NotFoundError, ValidationError
from trygghetskarta.store import Store

EFFECT_KINDS: tuple[str, ...] = ("incident", "finding", "sighting")
DEFAULT_KINDS: tuple[str, ...] = ("incident", "finding")
DEFAULT_WEEKS = 26
DEFAULT_BUFFER_M = 200.0
ZONES: tuple[str, ...] = ("target", "buffer", "control", "control_buffer")
OUTPUT_FORMATS: tuple[str, ...] = (".json", ".html", ".pdf")


@dataclass
class EffectReport:
    """An effect estimate as the product shows it: every count and measure, the formula version, the verdict."""

    target: str
    controls: list[str]
    date: dt.date
    weeks: int
    buffer_m: float
    kinds: list[str]
    windows: dict[str, tuple[dt.date, dt.date]]
    counts: dict[str, int | None]
    counts_display: dict[str, str]
    measures: dict[str, Any]
    verdict: str
    suppressed: bool
    safer: dict[str, dict[str, int | float | None]]
    notes: list[str] = field(default_factory=list)
    lang: str = "sv"
    control_suggested: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO text."""
        return {
            "formula_version": fx.FORMULA_VERSION,
            "target": self.target, "controls": self.controls, "control_suggested": self.control_suggested,
            "date": self.date.isoformat(), "weeks": self.weeks, "buffer_m": self.buffer_m, "kinds": self.kinds,
            "windows": {k: [a.isoformat(), b.isoformat()] for k, (a, b) in self.windows.items()},
            "counts": self.counts, "counts_display": self.counts_display, "measures": self.measures,
            "verdict": self.verdict, "suppressed": self.suppressed, "safer": self.safer, "notes": self.notes,
        }


# --- zones ------------------------------------------------------------------------------------------------


def _metric(geom: BaseGeometry) -> BaseGeometry:
    import geopandas as gpd

    return gpd.GeoSeries([geom], crs=schema.CRS_STORE).to_crs(schema.CRS_METRIC).iloc[0]


def area_geometry(store: Store, names_or_ids: Sequence[str | int]) -> tuple[BaseGeometry, list[str], list[int]]:
    """The union (EPSG:4326) of stored areas given by name or id, with their names and ids."""
    areas = store.areas()
    ids: list[int] = []
    for value in names_or_ids:
        text = str(value).strip()
        if text.isdigit() and int(text) in set(areas["id"].astype(int)):
            ids.append(int(text))
        else:
            ids.append(store.area_id_by_name(text))
    chosen = areas[areas["id"].astype(int).isin(ids)]
    return shapely.union_all(chosen.geometry.to_numpy()), [str(n) for n in chosen["name"]], ids


def polygon_from_file(path: str | Path) -> BaseGeometry:
    """A drawn target polygon from a GeoJSON/GeoPackage/KML file, read like every import (sandbox, CRS check)."""
    from trygghetskarta.ingest import read_file

    plan = read_file(Path(path), "area", defaults={"name": "Ritat område", "locality": "ovrigt",
                                                   "source": "import"})
    if plan.accepted.empty:
        first = plan.rejected["reason"].iloc[0] if len(plan.rejected) else "no polygon in the file"
        msg = f"{Path(path).name}: no usable polygon ({first})"
        raise ValidationError(msg)
    return shapely.union_all(plan.accepted.geometry.to_numpy())


@dataclass(frozen=True)
class Zones:
    """The four disjoint zones in EPSG:3006."""

    target: BaseGeometry
    buffer: BaseGeometry
    control: BaseGeometry
    control_buffer: BaseGeometry

    def of_xy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The zone index (0..3 as ``ZONES``) per point, -1 outside every zone."""
        out = np.full(x.shape, -1, dtype=np.int64)
        for i, geom in enumerate((self.target, self.buffer, self.control, self.control_buffer)):
            if geom.is_empty:
                continue
            shapely.prepare(geom)
            free = out < 0
            out[free & shapely.contains_xy(geom, x, y)] = i
        return out


def zones_for(target: BaseGeometry, control: BaseGeometry | None, buffer_m: float,
              control_names: list[str] | None = None, lang: str = "en") -> Zones:
    """The zones from a target and control (EPSG:4326); the control must not touch the target or its buffer."""
    if not isinstance(buffer_m, int | float) or not 0 <= buffer_m <= 5000:
        msg = f"--buffer-m must be between 0 and 5000 metres, got {buffer_m!r}"
        raise ValidationError(msg)
    t = _metric(target)
    reach = t.buffer(buffer_m) if buffer_m > 0 else t
    b = reach.difference(t)
    if control is None or control.is_empty:
        return Zones(t, b, shapely.Polygon(), shapely.Polygon())
    c = _metric(control)
    if c.intersection(reach).area > 0.01 * c.area:
        names = ", ".join(control_names or [])
        msg = (f"Kontrollområdet {names} överlappar målområdet eller dess buffert på {buffer_m:g} m; välj ett "
               "kontrollområde längre bort." if lang == "sv" else
               f"The control area {names} overlaps the target area or its {buffer_m:g} m buffer; choose a "
               "control area further away.")
        raise ValidationError(msg)
    c = c.difference(reach)
    cb = (c.buffer(buffer_m) if buffer_m > 0 else c).difference(c).difference(reach)
    return Zones(t, b, c, cb)


# --- counting ---------------------------------------------------------------------------------------------


def windows_for(date: dt.date, weeks: int) -> dict[str, tuple[dt.date, dt.date]]:
    """Equal windows, dates inclusive: before = the ``weeks`` weeks up to the day before ``date``, after = from
    ``date``."""
    if not isinstance(weeks, int) or not 1 <= weeks <= 260:
        msg = f"--weeks must be a whole number from 1 to 260, got {weeks!r}"
        raise ValidationError(msg)
    span = dt.timedelta(days=7 * weeks)
    return {"before": (date - span, date - dt.timedelta(days=1)), "after": (date, date + span - dt.timedelta(days=1))}


def _kinds_for(viewer: Viewer | None, kinds: list[str]) -> tuple[list[str], list[str]]:
    unknown = [k for k in kinds if k not in EFFECT_KINDS]
    if unknown:
        msg = f"unknown kind(s) {', '.join(unknown)}; allowed: {', '.join(EFFECT_KINDS)}"
        raise ValidationError(msg)
    usable = [k for k in kinds if access.policy(viewer, k).mode not in ("none", "aggregate")]
    return usable, [k for k in kinds if k not in usable]


def window_xy(store: Store, viewer: Viewer | None, start: dt.date, end: dt.date, kinds: list[str],
              categories: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """SWEREF 99 TM coordinates of the events of ``kinds`` the viewer may read in ``start``–``end`` (inclusive),
    precise positions only, optionally only some categories/types."""
    xs, ys = [np.empty(0)], [np.empty(0)]
    for kind in kinds:
        filters: dict[str, Any] = {}
        if kind == "incident":
            filters["precisions"] = sorted(schema.HOTSPOT_PRECISIONS)
        if categories:
            key = "categories" if kind == "finding" else "types"
            vocab = {"finding": "category", "incident": "incident_type", "sighting": "sighting_type"}[kind]
            wanted = [c for c in categories if c in schema.keys(vocab)]
            if not wanted:
                continue
            filters[key] = wanted
        pts = store.points(kind, viewer, start, end, **filters)
        if pts.empty:
            continue
        x, y = metric_xy_from_lonlat(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def count_zones(store: Store, viewer: Viewer | None, zones: Zones, windows: dict[str, tuple[dt.date, dt.date]],
                kinds: list[str], categories: list[str] | None = None) -> dict[str, int]:
    """Counts ``{zone}_{before|after}`` over the kinds (precise positions only)."""
    counts = {f"{z}_{w}": 0 for z in ZONES for w in ("before", "after")}
    for window, (start, end) in windows.items():
        x, y = window_xy(store, viewer, start, end, kinds, categories)
        zone = zones.of_xy(x, y)
        for i, name in enumerate(ZONES):
            counts[f"{name}_{window}"] += int((zone == i).sum())
    return counts


def _as_counts(c: dict[str, int]) -> fx.EffectCounts:
    return fx.EffectCounts(c["target_before"], c["target_after"], c["buffer_before"], c["buffer_after"],
                           c["control_before"], c["control_after"], c["control_buffer_before"],
                           c["control_buffer_after"])


def safer_shares(store: Store, viewer: Viewer | None, zones: Zones, date: dt.date) -> dict[str, dict[str, Any]]:
    """Follow-up answers "känns det tryggare?" on the target's findings: yes / answered / share, before and after."""
    out: dict[str, dict[str, Any]] = {w: {"yes": 0, "answered": 0, "share": None} for w in ("before", "after")}
    if access.policy(viewer, "finding").mode in ("none", "aggregate"):
        return out
    pts = store.points("finding", viewer)
    if pts.empty:
        return out
    x, y = metric_xy_from_lonlat(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
    inside = pts.loc[zones.of_xy(x, y) == 0, "id"].astype(int).tolist()
    if not inside:
        return out
    answers = store.followups(inside)
    answers = answers[answers["feels_safer"].notna()]
    zone = settings.get("timezone")
    local = answers["at"].dt.tz_convert(zone).dt.date
    for window, sel in (("before", local < date), ("after", local >= date)):
        part = answers[sel.to_numpy()]
        yes, n = int(part["feels_safer"].astype(bool).sum()), len(part)
        out[window] = {"yes": yes, "answered": n, "share": round(yes / n, 3) if n else None}
    return out


def suggest_controls(store: Store, viewer: Viewer | None, target: BaseGeometry, *, buffer_m: float,
                     date: dt.date, weeks: int, kinds: list[str], exclude: list[int] | None = None,
                     categories: list[str] | None = None) -> list[int]:
    """The suggested control: the smallest stored area that had no action done (else planned) in the windows, lies
    clear of the target and its buffer, and whose before-window count is closest to the target's (ties: the
    larger count). [] if none."""
    areas = store.areas()
    if areas.empty:
        return []
    nesting = areas_rule.nesting(areas)
    leaves = [a for a, members in nesting.members.items() if len(members) == 1]
    windows = windows_for(date, weeks)
    acted = set()  # areas with an action done (else planned) within the two windows
    actions = store.read("action", viewer) if access.policy(viewer, "action").mode != "none" else None
    if actions is not None and not actions.empty:
        when = pd.to_datetime(actions["done_date"].where(actions["done_date"].notna(), actions["planned_date"]))
        inside = (when >= pd.Timestamp(windows["before"][0])) & (when <= pd.Timestamp(windows["after"][1]))
        acted = {int(a) for a in actions.loc[inside.to_numpy(), "area_id"].dropna()}
    usable, _ = _kinds_for(viewer, kinds)
    base = zones_for(target, None, buffer_m)
    reach = base.target.union(base.buffer)
    # the before window's events once; each candidate area counts its own
    x, y = window_xy(store, viewer, *windows["before"], usable, categories)
    t_count = int((base.of_xy(x, y) == 0).sum())
    candidates: list[tuple[float, int, int]] = []
    metric = areas.to_crs(schema.CRS_METRIC)
    for row, geom in zip(areas.itertuples(), metric.geometry, strict=True):
        aid = int(row.id)
        if aid not in leaves or aid in acted or aid in set(exclude or []) or geom.intersects(reach):
            continue
        shapely.prepare(geom)
        n = int(shapely.contains_xy(geom, x, y).sum()) if x.size else 0
        if n > 0:
            candidates.append((abs(n - t_count), -n, aid))
    return [min(candidates)[2]] if candidates else []


# --- the report -------------------------------------------------------------------------------------------


def effect_report(store: Store, viewer: Viewer | None = None, *, target: BaseGeometry, target_label: str,
                  date: dt.date, weeks: int = DEFAULT_WEEKS, buffer_m: float = DEFAULT_BUFFER_M,
                  controls: Sequence[str | int] | None = None, kinds: list[str] | None = None,
                  categories: list[str] | None = None, lang: str | None = None,
                  target_area_ids: list[int] | None = None, today: dt.date | None = None) -> EffectReport:
    """The effect estimate for a target (EPSG:4326 geometry) as a viewer may see it; see the module docstring."""
    lang = lang or settings.get("lang")
    sv = lang == "sv"
    kinds = list(kinds or DEFAULT_KINDS)
    usable, dropped = _kinds_for(viewer, kinds)
    notes: list[str] = []
    if dropped:
        notes.append(f"Ingår inte för din roll: {', '.join(dropped)}." if sv else
                      f"Not included for your role: {', '.join(dropped)}.")
    windows = windows_for(date, weeks)
    today = today or dt.datetime.now(dt.UTC).date()
    if windows["after"][1] >= today:
        notes.append("Efterperioden är inte slut än; siffrorna för efter är ofullständiga." if sv else
                      "The after window has not ended yet; the after figures are incomplete.")
    suggested = False
    if controls:
        control_geom, control_names, _ = area_geometry(store, list(controls))
    else:
        ids = suggest_controls(store, viewer, target, buffer_m=buffer_m, date=date, weeks=weeks, kinds=kinds,
                               exclude=target_area_ids, categories=categories)
        if not ids:
            msg = ("Inget kontrollområde kunde föreslås: alla andra områden ligger intill målområdet, hade en åtgärd "
                   "under perioden eller inga händelser. Välj ett kontrollområde (--control NAMN)." if sv else
                   "No control area could be suggested: every other area touches the target, had an action in the "
                   "period or no events. Choose a control area (--control NAME).")
            raise ValidationError(msg)
        control_geom, control_names, _ = area_geometry(store, ids)
        suggested = True
        notes.append(f"Kontrollområdet {', '.join(control_names)} är föreslaget: inga åtgärder där under perioden "
                      "och liknande antal händelser före." if sv else
                      f"The control area {', '.join(control_names)} is suggested: no actions there in the period "
                      "and a similar number of events before.")
    zones = zones_for(target, control_geom, buffer_m, control_names, lang)
    counts = count_zones(store, viewer, zones, windows, usable, categories)
    ec = _as_counts(counts)
    measures = fx.estimate(ec)
    verdict = fx.verdict(ec, measures, lang)
    k = int(settings.get("privacy_k"))
    partner = viewer is not None and viewer.role in schema.PARTNER_ROLES
    display = {name: (f"<{k}" if partner and n < k else str(n)) for name, n in counts.items()}
    suppressed = partner and any(n < k for n in counts.values())
    shown_counts: dict[str, int | None] = dict(counts)
    if suppressed:
        shown_counts = {name: (None if n < k else n) for name, n in counts.items()}
        measures = {"formula_version": fx.FORMULA_VERSION, "alpha": measures["alpha"],
                    **{name: None for name in measures if name not in ("formula_version", "alpha")}}
        verdict = (f"Antal under {k} visas inte för partner, och då inte heller måtten (de skulle avslöja dem)."
                   if sv else f"Counts under {k} are not shown to partners, nor then the measures (they would "
                   "reveal them).")
    safer = safer_shares(store, viewer, zones, date)
    if partner:
        safer = {w: {"yes": None, "answered": None, "share": None} if (v["answered"] or 0) < k else v
                 for w, v in safer.items()}
    return EffectReport(target=target_label, controls=control_names, date=date, weeks=weeks, buffer_m=float(buffer_m),
                        kinds=usable, windows=windows, counts=shown_counts, counts_display=display, measures=measures,
                        verdict=verdict, suppressed=suppressed, safer=safer, notes=notes, lang=lang,
                        control_suggested=suggested)


def action_target(store: Store, viewer: Viewer | None, action_id: int) -> tuple[BaseGeometry, str, dt.date | None,
                                                                                     list[int]]:
    """An action's target: its area (else its findings' area, else 100 m around its findings), its label and its
    intervention date (done date, else planned date)."""
    actions = store.read("action", viewer, ids=[int(action_id)])
    if actions.empty:
        msg = f"no action with id {action_id} (or you may not see it)"
        raise NotFoundError(msg)
    row = actions.iloc[0]
    date = row.get("done_date")
    date = row.get("planned_date") if date is None or pd.isna(date) else date
    date = None if date is None or pd.isna(date) else pd.Timestamp(date).date()
    areas = store.areas()
    area_id = row.get("area_id")
    links = store.action_finding_ids([int(action_id)])
    if (area_id is None or pd.isna(area_id)) and not links.empty:
        found = store.points("finding", viewer, ids=links["finding_id"].astype(int).tolist(), columns=["area_id"])
        found_areas = found["area_id"].dropna()
        area_id = found_areas.mode().iloc[0] if len(found_areas) else None
        if area_id is None and not found.empty:
            pts = shapely.points(found["lon"].to_numpy(float), found["lat"].to_numpy(float))
            hull = _metric(shapely.union_all(pts)).buffer(100)
            import geopandas as gpd

            geom = gpd.GeoSeries([hull], crs=schema.CRS_METRIC).to_crs(schema.CRS_STORE).iloc[0]
            return geom, f"nr {action_id}: {row['what']}", date, []
    if area_id is None or pd.isna(area_id):
        msg = f"action {action_id} has no area and no findings with a position"
        raise ValidationError(msg)
    area = areas[areas["id"].astype(int) == int(area_id)].iloc[0]
    return area.geometry, f"nr {action_id}: {row['what']} ({area['name']})", date, [int(area_id)]


def actions_target(store: Store, viewer: Viewer | None, action_ids: Sequence[int]) -> tuple[BaseGeometry, str,
                                                                                            dt.date | None, list[int]]:
    """A group of actions (e.g. "new lighting in Bro centrum" done in several steps) as one target: the union of
    their targets, their labels, the earliest of their dates and their areas."""
    if not action_ids:
        msg = "no action given"
        raise ValidationError(msg)
    parts = [action_target(store, viewer, int(a)) for a in action_ids]
    if len(parts) == 1:
        return parts[0]
    dates = [p[2] for p in parts if p[2] is not None]
    return (shapely.union_all([p[0] for p in parts]), "; ".join(p[1] for p in parts), min(dates) if dates else None,
            sorted({a for p in parts for a in p[3]}))


# --- output -----------------------------------------------------------------------------------------------


_LABELS = {
    "target": ("Målområde", "Target area"), "buffer": ("Buffert", "Buffer"), "control": ("Kontrollområde", "Control"),
    "control_buffer": ("Kontrollområdets buffert", "Control's buffer"),
}
_MEASURES = (
    ("wdd", "WDD (Wheeler & Ratcliffe 2018)"), ("wdd_se", "WDD, standardfel / standard error"),
    ("ci_low", "KI nedre / CI low"), ("ci_high", "KI övre / CI high"), ("z", "z"), ("p", "p"),
    ("wdd_local", "WDD lokal / local"), ("wdd_displacement", "WDD förflyttning / displacement"),
    ("success_measure", "Success measure (SM)"), ("buffer_measure", "Buffer measure (BM)"),
    ("wdq", "WDQ (Bowers & Johnson 2003)"), ("total_net_effect", "Total net effect (TNE)"),
)
