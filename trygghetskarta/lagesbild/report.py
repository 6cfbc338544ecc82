"""Building a lägesbild: key figures, area status, trends, top places, actions and what was done.

Everything is read through the store with the audience's viewer, so the store's permission rules
apply; the ``partner`` audience then shows field sightings only as area totals and every count under
``k`` (setting ``privacy_k``) as ``<k`` via ``privacy.suppress_counts``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from trygghetskarta import access, schema, settings
from trygghetskarta.access import Viewer
from trygghetskarta.actions import action_list_from_actions
from trygghetskarta.errors import ValidationError
from trygghetskarta.lagesbild.periods import Period

if TYPE_CHECKING:
    from trygghetskarta.store import Store

Progress = Callable[[float, str], None]
AUDIENCES: tuple[str, ...] = ("intern", "partner")
THRESHOLDS_KEY = "lagesbild_thresholds"
WINDOWS: tuple[str, ...] = ("count", "previous", "last_year")
FIGURE_KINDS: dict[str, tuple[str, str]] = {
    "finding": ("Fynd (trygghetsvandring och app)", "Findings (walks and app)"),
    "incident": ("Partnerhändelser", "Partner incidents"),
    "sighting": ("Fältobservationer", "Field sightings"),
    "nightwalk": ("Nattvandringsrapporter", "Night-walk reports"),
    "partner_report": ("EST-rapporter från partner", "Partners' EST reports"),
}
KIND_SHORT: dict[str, tuple[str, str]] = {
    "finding": ("Fynd", "Findings"), "incident": ("Händelser", "Incidents"), "sighting": ("Fältobs.", "Sightings"),
    "nightwalk": ("Nattvandring", "Night walks"), "partner_report": ("EST-rapport", "EST report"),
}
_NEGATIVE_CATEGORIES = tuple(c.key for c in schema.CATEGORIES if not c.positive)


@dataclass(frozen=True)
class Indicator:
    """One area-status indicator: its thresholds for gul/orange/röd and whether they scale with the period."""

    key: str
    sv: str
    en: str
    gul: float
    orange: float
    rod: float
    per_30_days: bool
    help: str


# Documented defaults; an administrator overrides them (app setting ``lagesbild_thresholds``,
# e.g. {"incidents": {"gul": 5, "orange": 10, "rod": 20}}). An area's level is the highest any indicator reaches.
INDICATORS: tuple[Indicator, ...] = (
    Indicator("incidents", "partnerhändelser", "partner incidents", 5, 10, 20, True,
              "Partner incidents placed in the area (exact or street position) in the period; thresholds are "
              "per 30 days and scale with the period's length."),
    Indicator("incident_increase_pct", "ökning av partnerhändelser mot föregående period (%)",
              "increase in partner incidents vs the previous period (%)", 25, 50, 100, False,
              "Percentage increase against the previous period; counts only when the area has at least "
              "5 incidents in the period."),
    Indicator("sightings", "fältobservationer (områdessumma)", "field sightings (area total)", 5, 10, 20, True,
              "Field sightings in the area, all types (the area total partners may see too); per 30 days."),
    Indicator("open_findings", "öppna fynd", "open findings", 10, 25, 50, False,
              "Findings (not safe places) reported up to the period's end that are still open."),
    Indicator("overdue_actions", "försenade åtgärder", "overdue actions", 1, 3, 6, False,
              "Actions in the area whose planned date has passed and that are not done."),
)
INDICATOR = {i.key: i for i in INDICATORS}
_INCREASE_MIN_COUNT = 5


@dataclass
class Lagesbild:
    """A built lägesbild: the tables the renderers and the UI show. Counts of the ``partner`` audience carry
    ``*_display`` text (``<k``) and are NA where suppressed."""

    period: Period
    previous: Period
    last_year: Period
    audience: str
    lang: str
    scope_label: str
    area_ids: list[int] | None
    k: int
    today: dt.date
    generated_at: dt.datetime
    kind_totals: pd.DataFrame
    key_figures: pd.DataFrame
    area_figures: pd.DataFrame
    trends: pd.DataFrame
    area_status: gpd.GeoDataFrame
    thresholds: dict[str, dict[str, float]]
    top_places: gpd.GeoDataFrame
    repeat_places: pd.DataFrame
    open_actions: pd.DataFrame
    done: pd.DataFrame
    done_summary: pd.DataFrame
    map_points: pd.DataFrame
    areas: gpd.GeoDataFrame
    findings: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    sightings: gpd.GeoDataFrame | None
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return (f"Lägesbild {self.period.label(self.lang)} – {self.scope_label}" if self.lang == "sv"
                else f"Situation report {self.period.label(self.lang)} – {self.scope_label}")


def _say(progress: Progress | None) -> Progress:
    return progress or (lambda _f, _m: None)


def partner_viewer() -> Viewer:
    """The viewer of the shared partner lägesbild: what every police and housing-company user may read
    (no organisation of its own, so only shared actions and no partner's own details)."""
    return Viewer("lagesbild (partner)", "bostadsbolag", None)


# --- thresholds ------------------------------------------------------------------------------------------


def default_thresholds() -> dict[str, dict[str, float]]:
    """The documented default thresholds per indicator."""
    return {i.key: {"gul": i.gul, "orange": i.orange, "rod": i.rod} for i in INDICATORS}


def validate_thresholds(values: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Check an override (indicator → {gul, orange, rod}); raises ValidationError naming the problem."""
    if not isinstance(values, dict):
        msg = f"thresholds must be a mapping of indicator to levels, got {type(values).__name__}"
        raise ValidationError(msg)
    out = default_thresholds()
    for key, levels in values.items():
        if key not in INDICATOR:
            msg = f"unknown indicator {key!r}; known: {', '.join(INDICATOR)}"
            raise ValidationError(msg)
        if not isinstance(levels, dict):
            msg = f"thresholds for {key} must be a mapping of gul/orange/rod, got {levels!r}"
            raise ValidationError(msg)
        merged = {**out[key], **levels}
        try:
            gul, orange, rod = (float(merged[lvl]) for lvl in ("gul", "orange", "rod"))
        except (TypeError, ValueError):
            msg = f"thresholds for {key} must be numbers, got {levels!r}"
            raise ValidationError(msg) from None
        if not (0 <= gul <= orange <= rod):
            msg = f"thresholds for {key} must satisfy 0 <= gul <= orange <= rod, got {gul}, {orange}, {rod}"
            raise ValidationError(msg)
        out[key] = {"gul": gul, "orange": orange, "rod": rod}
    return out


def thresholds_from_store(store: Store) -> dict[str, dict[str, float]]:
    """The defaults with an administrator's overrides (app setting ``lagesbild_thresholds``)."""
    return validate_thresholds(store.app_setting(THRESHOLDS_KEY, {}) or {})


def save_thresholds(store: Store, values: dict[str, Any], actor: Viewer | None = None) -> dict[str, dict[str, float]]:
    """Validate and save threshold overrides (administrators only); returns the effective thresholds."""
    checked = validate_thresholds(values)
    store.set_app_setting(THRESHOLDS_KEY, values, actor)
    return checked


def level_from_value(value: float, levels: dict[str, float], scale: float = 1.0) -> str:
    """The level (gron/gul/orange/rod) a value reaches against thresholds scaled by ``scale``."""
    if value is None or pd.isna(value):
        return "gron"
    for level in ("rod", "orange", "gul"):
        if value >= levels[level] * scale:
            return level
    return "gron"


# --- helpers ---------------------------------------------------------------------------------------------


def _area_members(areas: gpd.GeoDataFrame) -> dict[int, list[int]]:
    """For each area, itself and the areas that lie within it (a locality holds its neighbourhoods)."""
    if areas.empty:
        return {}
    rep = areas.geometry.representative_point()
    out: dict[int, list[int]] = {}
    for aid, poly in zip(areas["id"].astype(int), areas.geometry, strict=True):
        inside = shapely.contains_xy(poly, rep.x.to_numpy(), rep.y.to_numpy())
        out[int(aid)] = sorted({int(aid), *areas.loc[inside, "id"].astype(int)})
    return out


def _nested(counts: pd.DataFrame, members: dict[int, list[int]]) -> pd.Series:
    """Counts per (smallest) area rolled up so each area counts everything inside it."""
    by_area = counts.dropna(subset=["area_id"]).groupby(counts["area_id"].dropna().astype(int))["count"].sum()
    return pd.Series({aid: int(by_area.reindex(ids, fill_value=0).sum()) for aid, ids in members.items()},
                     dtype="int64")


def _fmt(value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    return str(int(value))


def _pct(new: pd.Series, old: pd.Series) -> pd.Series:
    new_f, old_f = pd.to_numeric(new, errors="coerce"), pd.to_numeric(old, errors="coerce")
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (new_f - old_f) / old_f * 100
    return pct.where(old_f > 0).round(0)


def _with_changes(frame: pd.DataFrame) -> pd.DataFrame:
    frame["change_previous"] = frame["count"] - frame["previous"]
    frame["change_previous_pct"] = _pct(frame["count"], frame["previous"])
    frame["change_last_year"] = frame["count"] - frame["last_year"]
    frame["change_last_year_pct"] = _pct(frame["count"], frame["last_year"])
    return frame


def _displays(frame: pd.DataFrame, audience: str, k: int, total_cols: list[str] | None) -> pd.DataFrame:
    """Add ``<col>_display`` text for each count window; for ``partner`` suppress counts under ``k``.

    ``total_cols``: the groups whose totals are published (secondary suppression within them and against
    the kommun total); ``None`` when the rows add up to no published total (each row stands alone).
    """
    frame = frame.copy()
    hidden = pd.Series(False, index=frame.index)
    for col in WINDOWS:
        if audience == "partner":
            from trygghetskarta.privacy import suppress_counts

            counts = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype("int64").to_numpy()
            if total_cols is None:
                res = pd.concat([suppress_counts(pd.DataFrame({"count": [c]}), k=k, total_cols=())
                                 for c in counts], ignore_index=True) if len(counts) else pd.DataFrame(
                    {"count_display": pd.Series(dtype=object), "suppressed": pd.Series(dtype=bool)})
            else:
                part = pd.DataFrame({c: frame[c].to_numpy() for c in total_cols})
                part["count"] = counts
                res = suppress_counts(part, count_col="count", k=k, total_cols=tuple(total_cols))
            sup = pd.Series(res["suppressed"].to_numpy(dtype=bool), index=frame.index)
            frame[f"{col}_display"] = res["count_display"].astype(str).to_numpy()
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Float64").mask(sup)
            hidden |= sup
        else:
            frame[f"{col}_display"] = frame[col].map(_fmt)
    for col in ("change_previous", "change_previous_pct", "change_last_year", "change_last_year_pct"):
        if col in frame:
            base = "previous" if "previous" in col else "last_year"
            mask = frame["count"].isna() | frame[base].isna()
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Float64").mask(mask)
    frame["suppressed"] = hidden.to_numpy()
    return frame


def _period_filters(period: Period) -> dict[str, dt.date]:
    return {"start": period.start, "end": period.end}


def _count_windows(counter: Callable[[Period], pd.DataFrame], windows: dict[str, Period],
                   keys: list[str]) -> pd.DataFrame:
    """Counts for the current, previous and last year's period side by side, joined on ``keys``."""
    merged: pd.DataFrame | None = None
    for name, period in windows.items():
        part = counter(period).rename(columns={"count": name})
        for key in keys:
            part[key] = part[key].astype(object)
        merged = part if merged is None else merged.merge(part, on=keys, how="outer")
    assert merged is not None
    for name in windows:
        merged[name] = pd.to_numeric(merged[name], errors="coerce").fillna(0).astype("int64")
    return merged


# --- the build -------------------------------------------------------------------------------------------


def build_lagesbild(store: Store, period: Period, *, audience: str = "intern", area_ids: Sequence[int] | None = None,
                    viewer: Viewer | None = None, lang: str | None = None, today: dt.date | None = None,
                    progress: Progress | None = None) -> Lagesbild:
    """The lägesbild of ``period`` for ``audience`` (intern or partner), for the whole kommun or ``area_ids``.

    ``viewer`` defaults to the local administrator for ``intern`` and ``partner_viewer()`` for ``partner``;
    ``today`` (default: the local date) decides which actions are overdue.
    """
    if audience not in AUDIENCES:
        msg = f"unknown audience {audience!r}; allowed: {', '.join(AUDIENCES)}"
        raise ValidationError(msg)
    if not isinstance(period, Period):
        msg = f"period must be a Period (see period_from_bounds), got {type(period).__name__}"
        raise ValidationError(msg)
    if audience == "partner":
        viewer = viewer or partner_viewer()
        if viewer.role not in schema.PARTNER_ROLES:
            msg = f"the partner lägesbild is built for a partner role, not {viewer.role}"
            raise ValidationError(msg)
    lang = lang or settings.get("lang")
    say = _say(progress)
    zone = ZoneInfo(settings.get("timezone"))
    today = today or dt.datetime.now(zone).date()
    k = int(settings.get("privacy_k"))
    windows = {"count": period, "previous": period.previous(), "last_year": period.last_year()}
    notes: list[str] = []

    say(0.02, "områden")
    all_areas = store.areas()
    members = _area_members(all_areas)
    if area_ids:
        unknown = sorted(set(map(int, area_ids)) - set(members))
        if unknown:
            msg = f"no area with id {', '.join(map(str, unknown))}"
            raise ValidationError(msg)
        scope_ids = sorted({m for a in area_ids for m in members[int(a)]})
        scope_label = ", ".join(all_areas.loc[all_areas["id"].isin(list(area_ids)), "name"].astype(str))
        area_filter: dict[str, Any] = {"area_ids": scope_ids}
    else:
        scope_ids = sorted(members)
        from trygghetskarta import geography

        try:
            scope_label = geography.municipality_name() + (" kommun" if lang == "sv" else " municipality")
        except Exception:  # noqa: BLE001 - the boundary package is optional for a label
            scope_label = "Hela kommunen" if lang == "sv" else "Whole municipality"
        area_filter = {}
    areas = all_areas[all_areas["id"].isin(scope_ids)].reset_index(drop=True)
    scoped_members = {a: [m for m in members[a] if m in scope_ids] for a in scope_ids}
    precise = {"precisions": sorted(schema.HOTSPOT_PRECISIONS)} if area_ids else {}
    if area_ids:
        notes.append("Händelser med bara kommuncentroid som position ingår inte i områdesurvalet."
                     if lang == "sv" else "Incidents positioned only at the municipality centroid are not in "
                                          "the area selection.")

    # --- key figures per source and type -------------------------------------------------------------
    say(0.05, "nyckeltal")
    parts = []

    def cb(kind: str, by: list[str], **extra: Any) -> Callable[[Period], pd.DataFrame]:
        return lambda p: store.count_by(kind, by, viewer, **_period_filters(p), **area_filter, **extra)

    cats = _count_windows(cb("finding", ["category"]), windows, ["category"])
    parts.append(pd.DataFrame({"kind": "finding", "source": "", "group": cats["category"],
                               "group_label": cats["category"].map(lambda c: schema.label("category", c, lang)),
                               **{w: cats[w] for w in windows}}))
    say(0.12, "partnerhändelser")
    inc = _count_windows(cb("incident", ["source", "type"], **precise), windows, ["source", "type"])
    parts.append(pd.DataFrame({
        "kind": "incident", "source": inc["source"], "group": inc["source"] + ":" + inc["type"],
        "group_label": [f"{schema.label('incident_source', s, lang)} – {schema.label('incident_type', t, lang)}"
                        for s, t in zip(inc["source"], inc["type"], strict=True)], **{w: inc[w] for w in windows}}))
    say(0.2, "fältobservationer")
    if audience == "partner":
        sig = _count_windows(cb("sighting", ["area_id"]), windows, ["area_id"])
        total = sig[list(windows)].sum()
        parts.append(pd.DataFrame({"kind": ["sighting"], "source": [""], "group": ["total"],
                                   "group_label": ["Totalt (endast områdessummor)" if lang == "sv"
                                                   else "Total (area totals only)"],
                                   **{w: [int(total[w])] for w in windows}}))
        notes.append("Fältobservationer redovisas bara som summor per område." if lang == "sv"
                     else "Field sightings are shown only as totals per area.")
    else:
        sig = _count_windows(cb("sighting", ["type"]), windows, ["type"])
        parts.append(pd.DataFrame({"kind": "sighting", "source": "", "group": sig["type"],
                                   "group_label": sig["type"].map(lambda c: schema.label("sighting_type", c, lang)),
                                   **{w: sig[w] for w in windows}}))
    say(0.25, "nattvandringar och EST-rapporter")
    nw = _count_windows(cb("nightwalk", ["organisation"]), windows, ["organisation"])
    parts.append(pd.DataFrame({"kind": "nightwalk", "source": "", "group": nw["organisation"],
                               "group_label": nw["organisation"], **{w: nw[w] for w in windows}}))

    def reports(p: Period) -> pd.DataFrame:
        rep = store.partner_reports(viewer, p.start, p.end, area_ids=scope_ids if area_ids else None)
        return rep.groupby(["organisation", "type"], as_index=False)["count"].sum()

    pr = _count_windows(reports, windows, ["organisation", "type"])
    parts.append(pd.DataFrame({
        "kind": "partner_report", "source": pr["organisation"], "group": pr["organisation"] + ":" + pr["type"],
        "group_label": [f"{schema.label('party', o, lang)} – {schema.label('incident_type', t, lang)}"
                        for o, t in zip(pr["organisation"], pr["type"], strict=True)],
        **{w: pr[w] for w in windows}}))
    key = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else pd.DataFrame(columns=["kind", "source", "group", "group_label", *windows])
    key = key[(key[list(windows)].sum(axis=1) > 0)].copy()
    key["kind_label"] = key["kind"].map(lambda x: KIND_SHORT[x][0 if lang == "sv" else 1])
    key = key.sort_values(["kind", "count", "group"], ascending=[True, False, True],
                          key=lambda s: s.map(list(FIGURE_KINDS).index) if s.name == "kind" else s)
    key = _with_changes(key.reset_index(drop=True))
    totals = key.groupby("kind", as_index=False, sort=False)[list(windows)].sum()
    totals = totals.set_index("kind").reindex(list(FIGURE_KINDS), fill_value=0).reset_index()
    totals["kind_label"] = totals["kind"].map(lambda x: FIGURE_KINDS[x][0 if lang == "sv" else 1])
    totals = _with_changes(totals)
    key = _displays(key, audience, k, ["kind"])
    totals = _displays(totals, audience, k, None)

    # --- per area --------------------------------------------------------------------------------------
    say(0.32, "områdessiffror")
    rows = []
    per_area_kinds = {"finding": {}, "incident": {"precisions": sorted(schema.HOTSPOT_PRECISIONS)},
                      "sighting": {}}
    for kind, extra in per_area_kinds.items():
        for name, p in windows.items():
            counts = store.count_by(kind, ["area_id"], viewer, **_period_filters(p), **area_filter, **extra)
            rolled = _nested(counts, scoped_members)
            rows.append(pd.DataFrame({"area_id": rolled.index, "kind": kind, "window": name,
                                      "value": rolled.to_numpy()}))
    long = pd.concat(rows, ignore_index=True)
    area_fig = long.pivot_table(index=["area_id", "kind"], columns="window", values="value",
                                aggfunc="sum").reset_index()
    area_fig.columns.name = None
    for w in windows:
        if w not in area_fig:
            area_fig[w] = 0
        area_fig[w] = area_fig[w].fillna(0).astype("int64")
    names = dict(zip(all_areas["id"].astype(int), all_areas["name"].astype(str), strict=True))
    area_fig["area_id"] = area_fig["area_id"].astype(int)
    area_fig["area_name"] = area_fig["area_id"].map(names)
    area_fig["kind_label"] = area_fig["kind"].map(
        lambda x: FIGURE_KINDS[x][0 if lang == "sv" else 1])
    area_fig = _with_changes(area_fig)
    raw_area_fig = area_fig.copy()

    # --- area status -------------------------------------------------------------------------------------
    say(0.4, "områdesstatus")
    thresholds = thresholds_from_store(store)
    scale = period.days / 30.0
    open_counts = store.count_by("finding", ["area_id"], viewer, end=period.end, statuses=sorted(schema.OPEN_STATUSES),
                                 categories=list(_NEGATIVE_CATEGORIES), **area_filter)
    open_rolled = _nested(open_counts, scoped_members)
    actions = store.read("action", viewer)
    actions_plain = pd.DataFrame(actions.drop(columns="geometry"))
    action_list = action_list_from_actions(actions_plain, today, lang)
    overdue = action_list[action_list["overdue"]]
    overdue_counts = overdue.assign(count=1).groupby("area_id", as_index=False)["count"].sum() if not overdue.empty \
        else pd.DataFrame({"area_id": [], "count": []})
    overdue_rolled = _nested(overdue_counts, scoped_members)
    status_rows = []
    fig_index = raw_area_fig.set_index(["area_id", "kind"])
    for aid in scope_ids:
        def val(kind: str, window: str, area: int = aid) -> int:
            return int(fig_index.loc[(area, kind), window]) if (area, kind) in fig_index.index else 0

        inc_now, inc_prev = val("incident", "count"), val("incident", "previous")
        increase = ((inc_now - inc_prev) / inc_prev * 100) if inc_prev > 0 and inc_now >= _INCREASE_MIN_COUNT else (
            np.nan if inc_now < _INCREASE_MIN_COUNT else (100.0 if inc_now > 0 else np.nan))
        values = {"incidents": inc_now, "incident_increase_pct": increase, "sightings": val("sighting", "count"),
                  "open_findings": int(open_rolled.get(aid, 0)), "overdue_actions": int(overdue_rolled.get(aid, 0))}
        levels = {key_: level_from_value(v, thresholds[key_], scale if INDICATOR[key_].per_30_days else 1.0)
                  for key_, v in values.items()}
        rank = max((schema.keys("area_level").index(lv) for lv in levels.values()), default=0)
        level = schema.keys("area_level")[rank]
        status_rows.append({"area_id": aid, "area_name": names[aid], "level": level, **values,
                            **{f"{key_}_level": lv for key_, lv in levels.items()}})
    status = pd.DataFrame(status_rows)
    status["level_label"] = status["level"].map(lambda lv: schema.label("area_level", lv, lang))
    status["reasons"] = [_reasons(r, thresholds, scale, audience, k, lang) for r in status.to_dict("records")]
    if audience == "partner":
        for col in ("incidents", "sightings", "open_findings", "overdue_actions"):
            small = status[col] < k
            status[col] = status[col].astype("Float64").mask(small)
    status = status.sort_values(["level", "area_name"], key=lambda s: s.map(
        lambda lv: -schema.keys("area_level").index(lv)) if s.name == "level" else s).reset_index(drop=True)
    status_gdf = gpd.GeoDataFrame(status.merge(areas[["id", "geometry"]], left_on="area_id", right_on="id").drop(
        columns="id"), geometry="geometry", crs=schema.CRS_STORE)

    # --- trends going the wrong way ------------------------------------------------------------------------
    say(0.48, "trender")
    worse = raw_area_fig[raw_area_fig["kind"].isin(["incident", "sighting", "finding"])].copy()
    worse["worsening"] = worse["change_previous"].clip(lower=0) + worse["change_last_year"].clip(lower=0)
    score = worse.groupby("area_id")["worsening"].sum()
    worse["area_score"] = worse["area_id"].map(score)
    worse = worse.sort_values(["area_score", "worsening", "area_name"], ascending=[False, False, True])
    trends = _displays(worse.reset_index(drop=True), audience, k, ["area_id"])
    area_fig = _displays(area_fig, audience, k, ["kind"])

    # --- points of the period, top places, repeat places -----------------------------------------------------
    say(0.55, "platser")
    f_pts = store.points("finding", viewer, start=period.start, end=period.end, **area_filter)
    i_pts = store.points("incident", viewer, start=period.start, end=period.end, **area_filter)
    i_pts = i_pts[i_pts["precision"].isin(schema.HOTSPOT_PRECISIONS)]
    map_points = pd.concat([
        pd.DataFrame({"kind": "finding", "lon": f_pts["lon"], "lat": f_pts["lat"],
                      "group": f_pts["category"], "positive": f_pts["positive"].astype(bool)}),
        pd.DataFrame({"kind": "incident", "lon": i_pts["lon"], "lat": i_pts["lat"], "group": i_pts["type"],
                      "positive": False}),
    ], ignore_index=True)
    top = _top_places(map_points[~map_points["positive"]], all_areas, lang)
    top = _displays(top.assign(previous=0, last_year=0), audience, k, None).drop(
        columns=["previous", "last_year", "previous_display", "last_year_display"])
    repeat = _repeat_places(store, viewer, period, area_filter, lang)

    say(0.62, "åtgärder")
    in_scope = action_list["area_id"].isna() | action_list["area_id"].isin(scope_ids) if area_ids else \
        pd.Series(True, index=action_list.index)
    open_actions = action_list[~action_list["status"].isin(schema.ACTION_DONE_STATUSES) & in_scope].reset_index(
        drop=True)

    say(0.68, "genomfört under perioden")
    done, done_summary = _done_in_period(store, viewer, period, zone, scope_ids if area_ids else None,
                                         actions_plain, audience, k, lang)

    say(0.75, "kartunderlag")
    findings = store.read("finding", viewer, start=period.start, end=period.end, **area_filter)
    incidents = store.read("incident", viewer, start=period.start, end=period.end, **area_filter, **precise)
    sightings = None
    if audience == "intern" and access.policy(viewer, "sighting").mode == "all":
        sightings = store.read("sighting", viewer, start=period.start, end=period.end, **area_filter)
    say(0.8, "lägesbild klar")
    return Lagesbild(
        period=period, previous=windows["previous"], last_year=windows["last_year"], audience=audience, lang=lang,
        scope_label=scope_label, area_ids=[int(a) for a in area_ids] if area_ids else None, k=k, today=today,
        generated_at=dt.datetime.now(zone), kind_totals=totals, key_figures=key, area_figures=area_fig,
        trends=trends, area_status=status_gdf, thresholds=thresholds, top_places=top, repeat_places=repeat,
        open_actions=open_actions, done=done, done_summary=done_summary, map_points=map_points, areas=areas,
        findings=findings, incidents=incidents, sightings=sightings, notes=notes)


def _reasons(row: dict[str, Any], thresholds: dict[str, dict[str, float]], scale: float, audience: str, k: int,
             lang: str) -> str:
    """Why an area got its colour: every indicator at gul or above, with its value and the limit it passed."""
    parts = []
    for ind in INDICATORS:
        level = row[f"{ind.key}_level"]
        if level == "gron":
            continue
        limit = thresholds[ind.key][level] * (scale if ind.per_30_days else 1.0)
        value = row[ind.key]
        if ind.key == "incident_increase_pct":
            shown = f"+{value:.0f} %"
        elif audience == "partner" and value < k:
            shown = f"<{k}"
        else:
            shown = str(int(value))
        name = ind.sv if lang == "sv" else ind.en
        lvl = schema.label("area_level", level, lang)
        parts.append(f"{name}: {shown} (gräns för {lvl.lower()}: {limit:.0f})" if lang == "sv"
                     else f"{name}: {shown} ({lvl.lower()} from {limit:.0f})")
    if not parts:
        return ("Ingen indikator når gränsen för gul." if lang == "sv" else "No indicator reaches the yellow limit.")
    return "; ".join(parts)


def _top_places(points: pd.DataFrame, areas: gpd.GeoDataFrame, lang: str, cell_m: float = 250.0,
                n: int = 10) -> gpd.GeoDataFrame:
    """The busiest grid cells (findings and precisely placed incidents), with the area and the commonest group."""
    from trygghetskarta.analysis import counts_from_xy, grid_from_bounds, metric_xy_from_lonlat

    cols = ["rank", "area_name", "count", "main", "lon", "lat"]
    if points.empty:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols}, geometry=gpd.GeoSeries([]),
                                crs=schema.CRS_METRIC).to_crs(schema.CRS_STORE)
    x, y = metric_xy_from_lonlat(points["lon"].to_numpy(float), points["lat"].to_numpy(float))
    ok = np.isfinite(x) & np.isfinite(y)
    grid = grid_from_bounds((x[ok].min(), y[ok].min(), x[ok].max(), y[ok].max()), cell_m)
    counts = counts_from_xy(x[ok], y[ok], grid).ravel()
    order = np.argsort(-counts, kind="stable")[:n]
    order = order[counts[order] > 0]
    cell = grid.cell_index(x, y)
    rows, geoms = [], []
    metric_areas = areas.to_crs(schema.CRS_METRIC)
    for rank, idx in enumerate(order, start=1):
        r, c = divmod(int(idx), grid.nx)
        x0, y0 = grid.x0 + c * cell_m, grid.y0 + r * cell_m
        box = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
        centre = box.centroid
        hit = metric_areas[metric_areas.contains(centre)]
        area_name = str(hit.loc[hit.area.idxmin(), "name"]) if not hit.empty else "–"
        groups = points.loc[cell == idx, ["kind", "group"]]
        kind, grp = groups.value_counts().index[0]
        vocab = "category" if kind == "finding" else "incident_type"
        rows.append({"rank": rank, "area_name": area_name, "count": int(counts[idx]),
                     "main": schema.label(vocab, grp, lang), "x": centre.x, "y": centre.y})
        geoms.append(box)
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=schema.CRS_METRIC).to_crs(schema.CRS_STORE)
    from trygghetskarta.analysis import lonlat_from_metric_xy

    frame["lon"], frame["lat"] = lonlat_from_metric_xy(frame.pop("x").to_numpy(), frame.pop("y").to_numpy())
    return frame


def _repeat_places(store: Store, viewer: Viewer | None, period: Period, area_filter: dict[str, Any],
                   lang: str) -> pd.DataFrame:
    """Places reported again on different walks in the year up to the period's end (analysis.repeat)."""
    from trygghetskarta.analysis import repeat_places_from_records

    since = period.end - dt.timedelta(days=365)
    pts = store.points("finding", viewer, start=since, end=period.end, **area_filter)
    pts = pts[~pts["positive"].astype(bool)]
    cols = ["place", "category", "n_reports", "n_occasions", "last_at"]
    if pts.empty:
        return pd.DataFrame(columns=cols)
    places = repeat_places_from_records(pts, radius_m=float(settings.get("duplicate_radius_m")), by="category",
                                        occasion="walk", min_occasions=2)
    if places.empty:
        return pd.DataFrame(columns=cols)
    head = places.head(10)
    return pd.DataFrame({"place": head["place_id"].astype(int),
                         "category": head["group"].map(lambda c: schema.label("category", c, lang)),
                         "n_reports": head["n_reports"].astype(int), "n_occasions": head["n_occasions"].astype(int),
                         "last_at": pd.to_datetime(head["last_at"], utc=True).dt.date,
                         "lon": head.geometry.x, "lat": head.geometry.y})


def _done_in_period(store: Store, viewer: Viewer | None, period: Period, zone: ZoneInfo,
                    scope_ids: list[int] | None, actions: pd.DataFrame, audience: str, k: int,
                    lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Status events of the period that finished something: findings fixed or verified, actions done."""
    start = dt.datetime.combine(period.start, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    events = store.events_between(start, end)
    finished = {"finding": ("atgardad", "verifierad"), "action": ("klar",)}
    mask = pd.Series(False, index=events.index)
    for kind, tos in finished.items():
        changed = events["from_status"] != events["to_status"]
        mask |= (events["kind"] == kind) & events["to_status"].isin(tos) & changed
    events = events[mask]
    visible_f = store.read("finding", viewer, ids=events.loc[events["kind"] == "finding", "record_id"].astype(int)
                           .tolist()) if (events["kind"] == "finding").any() else store.read("finding", viewer, ids=[])
    if scope_ids is not None:
        visible_f = visible_f[visible_f["area_id"].isin(scope_ids)]
        actions = actions[actions["area_id"].isin(scope_ids)]
    f_label = dict(zip(visible_f["id"].astype(int), visible_f["category"].map(
        lambda c: schema.label("category", c, lang)), strict=True))
    a_label = dict(zip(actions["id"].astype(int), actions["what"].astype(str), strict=True))
    rows = []
    for e in events.itertuples():
        labels = f_label if e.kind == "finding" else a_label
        if int(e.record_id) not in labels:
            continue
        rows.append({"date": e.at.tz_convert(zone).date(), "kind": e.kind, "record_id": int(e.record_id),
                     "what": labels[int(e.record_id)],
                     "status_label": schema.label("status" if e.kind == "finding" else "action_status",
                                                  e.to_status, lang), "to_status": e.to_status})
    done = pd.DataFrame(rows, columns=["date", "kind", "record_id", "what", "status_label", "to_status"])
    summary = done.groupby(["kind", "to_status", "status_label"], as_index=False).size().rename(
        columns={"size": "count"}) if not done.empty else pd.DataFrame(
        columns=["kind", "to_status", "status_label", "count"])
    summary["count"] = summary["count"].astype("int64")
    summary = _displays(summary.assign(previous=0, last_year=0), audience, k, None).drop(
        columns=["previous", "last_year", "previous_display", "last_year_display"])
    return done, summary
