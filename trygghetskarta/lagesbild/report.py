"""Building a lägesbild: key figures, area status, trends, top places, actions and what was done.

Everything is read through the store with the audience's viewer, so the store's permission rules
apply. For the ``partner`` audience the store gives field sightings only as sums of published cells
(smallest area x ISO week x type, each at least ``k``) over whole ISO weeks (``privacy``, SECURITY.md
"Disclosure control"), so every sighting figure, area sum, colour and reason is built from published cells
only; the other counts under ``k`` (setting ``privacy_k``) are shown as ``<k`` via ``privacy.suppress_counts``.
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

from trygghetskarta import access, privacy, schema, settings
from trygghetskarta import actions as action_service
from trygghetskarta import areas as areas_rule
from trygghetskarta.access import Viewer
from trygghetskarta.actions import action_list_from_actions
from trygghetskarta.errors import ValidationError
from trygghetskarta.lagesbild import analysis_section
from trygghetskarta.lagesbild.periods import Period
from trygghetskarta.progress import Progress
from trygghetskarta.timeutil import local_zone

if TYPE_CHECKING:
    from trygghetskarta.store import Store

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
    """One area-status indicator: its thresholds for gul/orange/röd, what it measures and whether it is a rate
    per 30 days. ``count`` names the period count it judges (``incidents``, ``findings``, ``sightings``) or is
    ``overdue_actions``; ``measure`` is ``rate`` (per 1,000 inhabitants and 30 days, for an area with a
    population), ``baseline`` (percent above the area's own baseline, for an area without one) or ``today``
    (a state today, not bound to the period)."""

    key: str
    sv: str
    en: str
    gul: float
    orange: float
    rod: float
    per_30_days: bool
    help: str
    count: str = ""
    measure: str = "rate"

    def label(self, lang: str = "sv") -> str:
        return self.en if lang == "en" else self.sv


# The area status (issue 12). Every indicator but the last counts what happened in the chosen period only, in
# the area and every area inside it (``areas.nesting``). An area with a population (column ``population``; for
# a parent area it is taken to cover its neighbourhoods) is judged on rates per 1,000 inhabitants and 30 days,
# so a week and a month are comparable and a big area is not red just because it is big. An area without a
# population is judged on the change against its own baseline: the mean count of the ``BASELINE_PERIODS``
# same-length periods before (a baseline under 1 counts as 1), and only when the period has at least
# ``BASELINE_MIN_COUNT`` (so 1 → 2 is not "+100 % röd"). Overdue actions are a state today: counted as they
# stand, whatever the period, and said so in the reason. An area's level is the highest any indicator reaches.
# For the partner audience field sightings are the published area sums (so colour and reason use published
# figures only), and a count under k is not judged at all, so neither a colour nor a reason tells a count that
# is shown as "<k"; the rate or change that would give it back is left out too.
#
# Why these defaults (an administrator overrides them: Admin → Tröskelvärden, app setting
# ``lagesbild_thresholds``, e.g. {"incidents_per_1000": {"gul": 1, "orange": 2, "rod": 3}}):
# - Partner incidents 1.0 / 1.5 / 2.5 per 1,000 inhabitants and 30 days. In the demo season a locality has
#   0.5-1.5 placed partner incidents per 1,000 a month; gul is a month above that level, röd well above any
#   usual month. Not calibrated on real data: review after the first tertial.
# - Findings (not safe places) 2 / 4 / 8: in the demo season one safety walk in a locality of 10,000 gives
#   some 20 findings (2 per 1,000), so gul is a walk's worth in 30 days and röd four walks' worth.
# - Field sightings 1 / 2 / 4: about one sighting per 1,000 inhabitants a month is the demo season's usual
#   level; twice and four times that are orange and röd.
# - Change against the baseline +50 % / +100 % / +200 %, at least 5 in the period: with counts of 5-10,
#   random variation alone often gives +30-50 %, so only a doubling (orange) or tripling (röd) is a clear
#   signal; below 5 a change says nothing and is not judged.
# - Overdue actions 1 / 3 / 6: one overdue action is worth a look, six mean the follow-up has stalled.
INDICATORS: tuple[Indicator, ...] = (
    Indicator("incidents_per_1000", "partnerhändelser per 1 000 invånare och 30 dagar",
              "partner incidents per 1,000 inhabitants and 30 days", 1.0, 1.5, 2.5, True,
              "Partner incidents placed in the area (exact or street position) in the period, per 1,000 "
              "inhabitants, scaled to 30 days; areas with a population.", "incidents", "rate"),
    Indicator("findings_per_1000", "fynd per 1 000 invånare och 30 dagar",
              "findings per 1,000 inhabitants and 30 days", 2.0, 4.0, 8.0, True,
              "Findings (not safe places) reported in the period, per 1,000 inhabitants, scaled to 30 days; "
              "areas with a population.", "findings", "rate"),
    Indicator("sightings_per_1000", "fältobservationer per 1 000 invånare och 30 dagar",
              "field sightings per 1,000 inhabitants and 30 days", 1.0, 2.0, 4.0, True,
              "Field sightings in the area, all types (for partners: the published area total), per 1,000 "
              "inhabitants, scaled to 30 days; areas with a population.", "sightings", "rate"),
    Indicator("incidents_vs_baseline", "partnerhändelser, ökning mot områdets snitt (%)",
              "partner incidents, increase on the area's baseline (%)", 50, 100, 200, False,
              "Percentage above the mean of the previous 6 same-length periods; areas without a population, "
              "only with at least 5 in the period.", "incidents", "baseline"),
    Indicator("findings_vs_baseline", "fynd, ökning mot områdets snitt (%)",
              "findings, increase on the area's baseline (%)", 50, 100, 200, False,
              "Percentage above the mean of the previous 6 same-length periods; areas without a population, "
              "only with at least 5 in the period.", "findings", "baseline"),
    Indicator("sightings_vs_baseline", "fältobservationer, ökning mot områdets snitt (%)",
              "field sightings, increase on the area's baseline (%)", 50, 100, 200, False,
              "Percentage above the mean of the previous 6 same-length periods; areas without a population, "
              "only with at least 5 in the period.", "sightings", "baseline"),
    Indicator("overdue_actions", "försenade åtgärder (läget i dag)", "overdue actions (state today)", 1, 3, 6,
              False, "Actions in the area whose planned date has passed and that are not done, as they stand "
              "today (not bound to the period).", "overdue_actions", "today"),
)
INDICATOR = {i.key: i for i in INDICATORS}
# Indicators of earlier versions: an administrator's saved override for one of them is ignored, not an error.
RETIRED_INDICATORS = frozenset({"incidents", "incident_increase_pct", "sightings", "open_findings"})
BASELINE_PERIODS = 6
BASELINE_MIN_COUNT = 5
# The period counts the status judges: name -> (record kind, extra count_by filters).
STATUS_COUNTS: dict[str, tuple[str, dict[str, Any]]] = {
    "incidents": ("incident", {"precisions": sorted(schema.HOTSPOT_PRECISIONS)}),
    "findings": ("finding", {"categories": list(_NEGATIVE_CATEGORIES)}),
    "sightings": ("sighting", {}),
}
# How a reason names one or more of a count (sv singular, sv plural, en singular, en plural).
_NOUNS: dict[str, tuple[str, str, str, str]] = {
    "incidents": ("partnerhändelse", "partnerhändelser", "partner incident", "partner incidents"),
    "findings": ("fynd", "fynd", "finding", "findings"),
    "sightings": ("fältobservation", "fältobservationer", "field sighting", "field sightings"),
}


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
    # approved EST report figures per area and category (with changes), and the EST meeting's decisions
    partner_figures: pd.DataFrame = field(default_factory=pd.DataFrame)
    decisions: pd.DataFrame = field(default_factory=pd.DataFrame)
    # how the area status is computed, in the report's language (shown under the status table)
    status_note: str = ""
    # the analysis section (#17): effect of actions, trust in the hot-spot map, emerging hot spots, as
    # (title, headers, rows, note) tables the renderers append (lagesbild.analysis_section)
    analysis_tables: list[tuple[str, list[str], list[list[str]], str]] = field(default_factory=list)

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
    """The defaults with an administrator's overrides (app setting ``lagesbild_thresholds``); an override of an
    indicator of an earlier version (``RETIRED_INDICATORS``) is ignored."""
    saved = store.app_setting(THRESHOLDS_KEY, {}) or {}
    if isinstance(saved, dict):
        saved = {key: levels for key, levels in saved.items() if key not in RETIRED_INDICATORS}
    return validate_thresholds(saved)


def save_thresholds(store: Store, values: dict[str, Any], actor: Viewer | None = None) -> dict[str, dict[str, float]]:
    """Validate and save threshold overrides (administrators only); returns the effective thresholds."""
    checked = validate_thresholds(values)
    action_service.set_app_setting(store, THRESHOLDS_KEY, values, actor)
    return checked


def level_from_value(value: float, levels: dict[str, float], scale: float = 1.0) -> str:
    """The level (gron/gul/orange/rod) a value reaches against thresholds scaled by ``scale``."""
    if value is None or pd.isna(value):
        return "gron"
    for level in ("rod", "orange", "gul"):
        if value >= levels[level] * scale:
            return level
    return "gron"


def rate_per_1000(count: float, population: float, days: int) -> float:
    """``count`` in ``days`` days per 1,000 inhabitants, scaled to 30 days (NaN without a population)."""
    if population is None or pd.isna(population) or population <= 0 or days <= 0:
        return np.nan
    return float(count) / float(population) * 1000.0 * 30.0 / days


def change_against_baseline(count: float, baseline: float, min_count: int = BASELINE_MIN_COUNT) -> float:
    """Percent by which ``count`` is above ``baseline`` (the mean of the periods before; a baseline under 1
    counts as 1); NaN when ``count`` is under ``min_count``, where a change says nothing."""
    if count < min_count:
        return np.nan
    return (float(count) - float(baseline)) / max(float(baseline), 1.0) * 100.0


def baseline_periods(period: Period, n: int = BASELINE_PERIODS) -> list[Period]:
    """The ``n`` periods before ``period`` (each one's ``previous``) whose mean count is an area's baseline."""
    periods = [period.previous()]
    while len(periods) < n:
        periods.append(periods[-1].previous())
    return periods


def area_status_note(period: Period, audience: str, k: int, lang: str) -> str:
    """How the area status is computed, in plain language, for the page and the report."""
    if lang == "sv":
        text = (f"Färgen gäller bara den valda perioden ({period.days} dagar). Områden med invånarantal bedöms "
                "efter antal per 1 000 invånare räknat på 30 dagar; områden utan invånarantal jämförs med sitt "
                f"eget snitt för de {BASELINE_PERIODS} föregående lika långa perioderna, och bara när perioden har "
                f"minst {BASELINE_MIN_COUNT}. Ett område räknar också allt i områden som ligger inuti det. "
                "Försenade åtgärder är läget i dag, oavsett period. Nivån är den högsta som någon indikator når.")
        if audience == "partner":
            text += f" Antal under {k} bedöms inte i partnerversionen och visas inte."
        return text
    text = (f"The colour is for the chosen period only ({period.days} days). Areas with a population are judged "
            "on counts per 1,000 inhabitants scaled to 30 days; areas without one against their own mean of the "
            f"{BASELINE_PERIODS} previous periods of the same length, and only with at least {BASELINE_MIN_COUNT} "
            "in the period. An area also counts everything in the areas inside it. Overdue actions are the state "
            "today, whatever the period. The level is the highest any indicator reaches.")
    if audience == "partner":
        text += f" Counts under {k} are not judged in the partner version and are not shown."
    return text


# --- helpers ---------------------------------------------------------------------------------------------


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


def _displays(frame: pd.DataFrame, audience: str, k: int, total_cols: list[str] | None,
              restricted: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Add ``<col>_display`` text for each count window; for ``partner`` suppress counts under ``k``.

    ``total_cols``: the groups whose totals are published (secondary suppression within them and against
    the kommun total); ``None`` when the rows add up to no published total (each row stands alone).
    Rows of a ``restricted`` kind (column ``kind``) already hold sums of published cells (the store's rule
    for partners): they are shown as they are, ``<k`` only where nothing was published.
    """
    frame = frame.copy()
    hidden = pd.Series(False, index=frame.index)
    grid = (frame["kind"].isin(sorted(restricted)) if "kind" in frame and restricted
            else pd.Series(False, index=frame.index)).to_numpy(dtype=bool)
    for col in WINDOWS:
        if audience == "partner":
            counts = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype("int64").to_numpy()
            display = np.array([privacy.published_display(c, k) for c in counts], dtype=object)
            sup = counts < k
            rest = np.flatnonzero(~grid)
            if len(rest):
                if total_cols is None:
                    res = pd.concat([privacy.suppress_counts(pd.DataFrame({"count": [c]}), k=k, total_cols=())
                                     for c in counts[rest]], ignore_index=True)
                else:
                    part = pd.DataFrame({c: frame[c].to_numpy()[rest] for c in total_cols})
                    part["count"] = counts[rest]
                    res = privacy.suppress_counts(part, count_col="count", k=k, total_cols=tuple(total_cols))
                display[rest] = res["count_display"].astype(str).to_numpy()
                sup[rest] = res["suppressed"].to_numpy(dtype=bool)
            sup = pd.Series(sup, index=frame.index)
            frame[f"{col}_display"] = display
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
# ``build_lagesbild`` runs the steps below in order; each step reads through the store with the build's viewer
# and returns the tables it makes (``_Build`` carries what they share).


@dataclass(frozen=True)
class _Scope:
    """What a report covers: every area (for names), the ``chosen`` areas (None: the whole kommun), the ``ids``
    of the areas in scope (the chosen ones and every area inside them) and the store filters for them."""

    all_areas: gpd.GeoDataFrame
    chosen: list[int] | None
    ids: list[int]
    label: str
    area_filter: dict[str, Any]
    areas: gpd.GeoDataFrame
    nested: dict[int, list[int]]  # each area in scope -> itself and the areas in scope inside it
    precise: dict[str, Any]  # for an area selection: only incidents placed in an area (not a kommun centroid)

    @property
    def names(self) -> dict[int, str]:
        return dict(zip(self.all_areas["id"].astype(int), self.all_areas["name"].astype(str), strict=True))


@dataclass
class _Build:
    """The inputs every step of one build shares, and the notes the steps add."""

    store: Store
    viewer: Viewer | None
    period: Period
    audience: str
    lang: str
    k: int
    zone: ZoneInfo
    today: dt.date
    restricted: frozenset[str]
    scope: _Scope
    say: Progress
    notes: list[str] = field(default_factory=list)
    # the period and the two it is compared with, by the column their counts go in
    windows: dict[str, Period] = field(init=False)

    def __post_init__(self) -> None:
        self.windows = {"count": self.period, "previous": self.period.previous(), "last_year": self.period.last_year()}

    def t(self, sv: str, en: str) -> str:
        return sv if self.lang == "sv" else en

    def count_by(self, kind: str, by: list[str], period: Period, **extra: Any) -> pd.DataFrame:
        """``store.count_by`` of ``kind`` in ``period`` and the scope, as the build's viewer."""
        return self.store.count_by(kind, by, self.viewer, **_period_filters(period), **self.scope.area_filter,
                                   **extra)

    def counter(self, kind: str, by: list[str], **extra: Any) -> Callable[[Period], pd.DataFrame]:
        return lambda p: self.count_by(kind, by, p, **extra)

    def approved(self, p: Period) -> pd.DataFrame:
        """The partners' EST reports of ``p`` in the scope: only reviewed figures enter the shared lägesbild."""
        return self.store.partner_reports(self.viewer, p.start, p.end,
                                          area_ids=self.scope.ids if self.scope.chosen else None,
                                          statuses=[schema.EST_REPORT_VISIBLE_STATUS])


def build_lagesbild(store: Store, period: Period, *, audience: str = "intern", area_ids: Sequence[int] | None = None,
                    viewer: Viewer | None = None, lang: str | None = None, today: dt.date | None = None,
                    progress: Progress | None = None) -> Lagesbild:
    """The lägesbild of ``period`` for ``audience`` (intern or partner), for the whole kommun or ``area_ids``.

    ``viewer`` defaults to the local administrator for ``intern`` and ``partner_viewer()`` for ``partner``;
    ``today`` (default: the local date) decides which actions are overdue.
    """
    viewer = _checked_viewer(audience, period, viewer)
    lang = lang or settings.get("lang")
    zone = local_zone()
    say = _say(progress)
    say(0.02, "områden")
    b = _Build(store, viewer, period, audience, lang, int(settings.get("privacy_k")), zone,
               today or dt.datetime.now(zone).date(), _restricted_kinds(audience, viewer),
               _scope(store.areas(), area_ids, lang), say)
    if b.scope.chosen:
        b.notes.append(b.t("Händelser med bara kommuncentroid som position ingår inte i områdesurvalet.",
                           "Incidents positioned only at the municipality centroid are not in the area selection."))
    key, totals, partner_figures = _key_figures(b)
    say(0.32, "områdessiffror")
    area_fig = _area_figures(b)
    say(0.4, "områdesstatus")
    thresholds = thresholds_from_store(store)
    actions_plain = pd.DataFrame(store.read("action", viewer).drop(columns="geometry"))
    action_list = action_list_from_actions(actions_plain, b.today, lang)
    status = _area_status(b, thresholds, action_list)
    say(0.48, "trender")
    trends = _trends(b, area_fig)
    say(0.55, "platser")
    map_points, top, repeat = _places(b)
    say(0.62, "åtgärder")
    open_actions = _open_actions(b, action_list)
    say(0.68, "genomfört under perioden")
    done, done_summary = _done_in_period(store, viewer, period, zone, b.scope.ids if b.scope.chosen else None,
                                         actions_plain, audience, b.k, lang)
    say(0.75, "kartunderlag")
    findings, incidents, sightings = _map_records(b)
    say(0.8, "lägesbild klar")
    windows = b.windows
    return Lagesbild(
        period=period, previous=windows["previous"], last_year=windows["last_year"], audience=audience, lang=lang,
        scope_label=b.scope.label, area_ids=b.scope.chosen, k=b.k, today=b.today, generated_at=dt.datetime.now(zone),
        kind_totals=totals, key_figures=key,
        area_figures=_displays(area_fig, audience, b.k, ["kind"], b.restricted), trends=trends, area_status=status,
        thresholds=thresholds, top_places=top, repeat_places=repeat, open_actions=open_actions, done=done,
        done_summary=done_summary, map_points=map_points, areas=b.scope.areas, findings=findings, incidents=incidents,
        sightings=sightings, notes=b.notes, partner_figures=partner_figures,
        decisions=_decisions(store, viewer, period, lang), status_note=area_status_note(period, audience, b.k, lang),
        analysis_tables=analysis_section.analysis_tables(store, viewer, period.start, period.end, audience=audience,
                                                         lang=lang))


def _checked_viewer(audience: str, period: Period, viewer: Viewer | None) -> Viewer | None:
    """The viewer the report is read as (``partner_viewer()`` by default for partners); raises ValidationError
    for an unknown audience, a period that is not a ``Period`` or a partner report for a non-partner role."""
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
    return viewer


def _restricted_kinds(audience: str, viewer: Viewer | None) -> frozenset[str]:
    """Kinds the partner audience gets only on the publication grid: the store gives sums of published cells
    over whole ISO weeks (privacy.published_counts), and they are shown as they are."""
    return frozenset(kind for kind in FIGURE_KINDS if audience == "partner" and kind in schema.RECORD_KIND
                     and access.policy(viewer, kind).mode == "aggregate")


def _kommun_label(lang: str) -> str:
    from trygghetskarta import geography

    try:
        return geography.municipality_name() + (" kommun" if lang == "sv" else " municipality")
    except Exception:  # noqa: BLE001 - the boundary package is optional for a label
        return "Hela kommunen" if lang == "sv" else "Whole municipality"


def _scope(all_areas: gpd.GeoDataFrame, area_ids: Sequence[int] | None, lang: str) -> _Scope:
    """The scope of ``area_ids`` (each with every area inside it), or of the whole kommun without them; raises
    ValidationError naming an unknown area id."""
    members = {aid: list(ids) for aid, ids in areas_rule.nesting(all_areas).members.items()}
    chosen = [int(a) for a in area_ids] if area_ids else None
    if chosen:
        unknown = sorted(set(chosen) - set(members))
        if unknown:
            msg = f"no area with id {', '.join(map(str, unknown))}"
            raise ValidationError(msg)
        ids = sorted({m for a in chosen for m in members[a]})
        label = ", ".join(all_areas.loc[all_areas["id"].isin(chosen), "name"].astype(str))
    else:
        ids, label = sorted(members), _kommun_label(lang)
    return _Scope(all_areas=all_areas, chosen=chosen, ids=ids, label=label,
                  area_filter={"area_ids": ids} if chosen else {},
                  areas=all_areas[all_areas["id"].isin(ids)].reset_index(drop=True),
                  nested={a: [m for m in members[a] if m in ids] for a in ids},
                  precise={"precisions": sorted(schema.HOTSPOT_PRECISIONS)} if chosen else {})


# --- key figures per source and type -----------------------------------------------------------------------


def _key_figures(b: _Build) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The figures per source and type, the totals per source and the approved EST report figures per area."""
    b.say(0.05, "nyckeltal")
    parts = [_finding_figures(b)]
    b.say(0.12, "partnerhändelser")
    parts.append(_incident_figures(b))
    b.say(0.2, "fältobservationer")
    parts.append(_sighting_figures(b))
    b.say(0.25, "nattvandringar och EST-rapporter")
    parts += [_nightwalk_figures(b), _partner_report_figures(b)]
    partner_figures = _partner_figures(b.approved, b.windows, b.scope.all_areas, b.audience, b.k, b.lang)
    key, totals = _figure_tables(b, parts)
    return key, totals, partner_figures


def _finding_figures(b: _Build) -> pd.DataFrame:
    cats = _count_windows(b.counter("finding", ["category"]), b.windows, ["category"])
    return pd.DataFrame({"kind": "finding", "source": "", "group": cats["category"],
                         "group_label": cats["category"].map(lambda c: schema.label("category", c, b.lang)),
                         **{w: cats[w] for w in b.windows}})


def _incident_figures(b: _Build) -> pd.DataFrame:
    inc = _count_windows(b.counter("incident", ["source", "type"], **b.scope.precise), b.windows, ["source", "type"])
    return pd.DataFrame({
        "kind": "incident", "source": inc["source"], "group": inc["source"] + ":" + inc["type"],
        "group_label": [f"{schema.label('incident_source', s, b.lang)} – {schema.label('incident_type', t, b.lang)}"
                        for s, t in zip(inc["source"], inc["type"], strict=True)],
        **{w: inc[w] for w in b.windows}})


def _sighting_figures(b: _Build) -> pd.DataFrame:
    """Field sightings per type; for partners one total of the area sums (no breakdown by type), with notes."""
    if b.audience != "partner":
        sig = _count_windows(b.counter("sighting", ["type"]), b.windows, ["type"])
        return pd.DataFrame({"kind": "sighting", "source": "", "group": sig["type"],
                             "group_label": sig["type"].map(lambda c: schema.label("sighting_type", c, b.lang)),
                             **{w: sig[w] for w in b.windows}})
    sig = _count_windows(b.counter("sighting", ["area_id"]), b.windows, ["area_id"])
    total = sig[list(b.windows)].sum()
    b.notes.append(b.t("Fältobservationer redovisas bara som summor per område.",
                       "Field sightings are shown only as totals per area."))
    if "sighting" in b.restricted:
        b.notes += privacy.restricted_notes(b.period.start, b.period.end, k=b.k, lang=b.lang)
    return pd.DataFrame({"kind": ["sighting"], "source": [""], "group": ["total"],
                         "group_label": [b.t("Totalt (endast områdessummor)", "Total (area totals only)")],
                         **{w: [int(total[w])] for w in b.windows}})


def _nightwalk_figures(b: _Build) -> pd.DataFrame:
    nw = _count_windows(b.counter("nightwalk", ["organisation"]), b.windows, ["organisation"])
    return pd.DataFrame({"kind": "nightwalk", "source": "", "group": nw["organisation"],
                         "group_label": nw["organisation"], **{w: nw[w] for w in b.windows}})


def _partner_report_figures(b: _Build) -> pd.DataFrame:
    def reports(p: Period) -> pd.DataFrame:
        return b.approved(p).groupby(["organisation", "category"], as_index=False)["count"].sum()

    pr = _count_windows(reports, b.windows, ["organisation", "category"])
    return pd.DataFrame({
        "kind": "partner_report", "source": pr["organisation"], "group": pr["organisation"] + ":" + pr["category"],
        "group_label": [f"{schema.label('party', o, b.lang)} – {schema.label('est_category', c, b.lang)}"
                        for o, c in zip(pr["organisation"], pr["category"], strict=True)],
        **{w: pr[w] for w in b.windows}})


def _figure_tables(b: _Build, parts: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The figures per source and type (rows with a count, sources in ``FIGURE_KINDS`` order) and their totals per
    source, both with changes and display text."""
    windows = list(b.windows)
    found = [p for p in parts if not p.empty]
    key = pd.concat(found, ignore_index=True) if found else pd.DataFrame(
        columns=["kind", "source", "group", "group_label", *windows])
    # A restricted kind keeps its row even when nothing was published (shown "<k": small numbers left out).
    key = key[(key[windows].sum(axis=1) > 0) | key["kind"].isin(sorted(b.restricted))].copy()
    key["kind_label"] = key["kind"].map(lambda x: KIND_SHORT[x][0 if b.lang == "sv" else 1])
    key = key.sort_values(["kind", "count", "group"], ascending=[True, False, True],
                          key=lambda s: s.map(list(FIGURE_KINDS).index) if s.name == "kind" else s)
    key = _with_changes(key.reset_index(drop=True))
    totals = key.groupby("kind", as_index=False, sort=False)[windows].sum()
    totals = totals.set_index("kind").reindex(list(FIGURE_KINDS), fill_value=0).reset_index()
    totals["kind_label"] = totals["kind"].map(lambda x: FIGURE_KINDS[x][0 if b.lang == "sv" else 1])
    totals = _with_changes(totals)
    return (_displays(key, b.audience, b.k, ["kind"], b.restricted),
            _displays(totals, b.audience, b.k, None, b.restricted))


# --- per area: figures and status ----------------------------------------------------------------------------


def _area_figures(b: _Build) -> pd.DataFrame:
    """Findings, precisely placed incidents and sightings per area in scope (each counting the areas inside it)
    in the three windows, with changes (no display text yet: the trends are ranked on these)."""
    rows = []
    per_area_kinds: dict[str, dict[str, Any]] = {
        "finding": {}, "incident": {"precisions": sorted(schema.HOTSPOT_PRECISIONS)}, "sighting": {}}
    for kind, extra in per_area_kinds.items():
        for name, p in b.windows.items():
            rolled = _nested(b.count_by(kind, ["area_id"], p, **extra), b.scope.nested)
            rows.append(pd.DataFrame({"area_id": rolled.index, "kind": kind, "window": name,
                                      "value": rolled.to_numpy()}))
    long = pd.concat(rows, ignore_index=True)
    area_fig = long.pivot_table(index=["area_id", "kind"], columns="window", values="value",
                                aggfunc="sum").reset_index()
    area_fig.columns.name = None
    for w in b.windows:
        if w not in area_fig:
            area_fig[w] = 0
        area_fig[w] = area_fig[w].fillna(0).astype("int64")
    area_fig["area_id"] = area_fig["area_id"].astype(int)
    area_fig["area_name"] = area_fig["area_id"].map(b.scope.names)
    area_fig["kind_label"] = area_fig["kind"].map(lambda x: FIGURE_KINDS[x][0 if b.lang == "sv" else 1])
    return _with_changes(area_fig)


@dataclass(frozen=True)
class _StatusCounts:
    """What the area status judges, per area in scope: the period's counts, their baselines, the days each
    count covers, and the overdue actions today."""

    now: dict[str, pd.Series]
    baselines: dict[str, pd.Series]
    days: dict[str, int]
    overdue: pd.Series


def _nested_count(b: _Build, kind: str, extra: dict[str, Any], p: Period) -> pd.Series:
    found = b.count_by(kind, ["area_id"], p, **extra)
    return _nested(found, b.scope.nested).reindex(b.scope.ids, fill_value=0)


def _status_counts(b: _Build, action_list: pd.DataFrame) -> _StatusCounts:
    """The period's own counts per area (nested), and the same counts over the ``BASELINE_PERIODS`` periods
    before. A restricted kind covers the whole ISO weeks it is published for (privacy.publication_periods), and
    its baseline steps back by those weeks (a calendar month, tertial or quarter by its previous ones, which are
    published as their own weeks)."""
    window = privacy.publication_periods(b.period.start, b.period.end)
    published_days = window.days or b.period.days
    days = {name: published_days if kind in b.restricted else b.period.days
            for name, (kind, _extra) in STATUS_COUNTS.items()}
    published_period = b.period if b.period.kind in ("month", "tertial", "quarter") or window.start is None \
        or window.end is None else Period("custom", window.start, window.end)
    now: dict[str, pd.Series] = {}
    baselines: dict[str, pd.Series] = {}
    for name, (kind, extra) in STATUS_COUNTS.items():
        now[name] = _nested_count(b, kind, extra, b.period)
        before = baseline_periods(published_period if kind in b.restricted else b.period)
        baselines[name] = pd.concat([_nested_count(b, kind, extra, p) for p in before], axis=1).mean(axis=1)
    overdue = action_list[action_list["overdue"]]
    overdue_counts = overdue.assign(count=1).groupby("area_id", as_index=False)["count"].sum() if not overdue.empty \
        else pd.DataFrame({"area_id": [], "count": []})
    return _StatusCounts(now, baselines, days, _nested(overdue_counts, b.scope.nested))


def _indicator_cells(b: _Build, name: str, aid: int, counts: _StatusCounts, pop: float,
                     thresholds: dict[str, dict[str, float]]) -> dict[str, Any]:
    """One count's cells of an area's status row: the count, its rate (an area with a population) or change
    against its baseline (one without), the indicator judged and the level reached. A count partners see as
    ``<k`` is not judged."""
    populated = bool(pd.notna(pop) and pop > 0)
    count, base, days = int(counts.now[name].get(aid, 0)), float(counts.baselines[name].get(aid, 0.0)), \
        counts.days[name]
    judged = b.audience != "partner" or count >= b.k
    rate = rate_per_1000(count, pop, days) if populated else np.nan
    change = change_against_baseline(count, base) if not populated else np.nan
    key = f"{name}_per_1000" if populated else f"{name}_vs_baseline"
    level = level_from_value(rate if populated else change, thresholds[key]) if judged else "gron"
    return {name: count, f"{name}_days": days, f"{name}_rate": rate, f"{name}_baseline": base,
            f"{name}_change_pct": change, f"{name}_indicator": key, f"{name}_level": level, f"{name}_judged": judged}


def _status_row(b: _Build, aid: int, pop: float, counts: _StatusCounts,
                thresholds: dict[str, dict[str, float]]) -> dict[str, Any]:
    """An area's status: every indicator's cells, the overdue actions and the highest level any reaches."""
    populated = bool(pd.notna(pop) and pop > 0)
    row: dict[str, Any] = {"area_id": aid, "area_name": b.scope.names[aid],
                           "population": float(pop) if populated else np.nan,
                           "basis": "rate" if populated else "baseline"}
    for name in STATUS_COUNTS:
        row.update(_indicator_cells(b, name, aid, counts, pop, thresholds))
    n_overdue = int(counts.overdue.get(aid, 0))
    judged = b.audience != "partner" or n_overdue >= b.k
    row.update({"overdue_actions": n_overdue, "overdue_actions_level":
                level_from_value(n_overdue, thresholds["overdue_actions"]) if judged else "gron"})
    order = schema.keys("area_level")
    levels = [row[f"{name}_level"] for name in (*STATUS_COUNTS, "overdue_actions")]
    row["level"] = order[max(order.index(lv) for lv in levels)]
    return row


def _area_status(b: _Build, thresholds: dict[str, dict[str, float]], action_list: pd.DataFrame) -> gpd.GeoDataFrame:
    """Every area in scope with its level, the reasons in plain language and its polygon, the worst first."""
    counts = _status_counts(b, action_list)
    all_areas = b.scope.all_areas
    population = pd.to_numeric(all_areas["population"], errors="coerce") if "population" in all_areas else \
        pd.Series(np.nan, index=all_areas.index)
    populations = dict(zip(all_areas["id"].astype(int), population, strict=True))
    status = pd.DataFrame([_status_row(b, aid, populations.get(aid, np.nan), counts, thresholds)
                           for aid in b.scope.ids])
    status["level_label"] = status["level"].map(lambda lv: schema.label("area_level", lv, b.lang))
    status["reasons"] = [_reasons(r, thresholds, b.lang) for r in status.to_dict("records")]
    if b.audience == "partner":
        # a count under k is shown "<k" elsewhere: neither it nor a rate or change that gives it back is shown
        for name in STATUS_COUNTS:
            small = status[name] < b.k
            for col in (name, f"{name}_rate", f"{name}_change_pct"):
                status[col] = status[col].astype("Float64").mask(small)
        status["overdue_actions"] = status["overdue_actions"].astype("Float64").mask(status["overdue_actions"] < b.k)
    status = status.drop(columns=[f"{name}_judged" for name in STATUS_COUNTS])
    order = schema.keys("area_level")
    status = status.sort_values(["level", "area_name"], key=lambda s: s.map(
        lambda lv: -order.index(lv)) if s.name == "level" else s).reset_index(drop=True)
    return gpd.GeoDataFrame(status.merge(b.scope.areas[["id", "geometry"]], left_on="area_id", right_on="id").drop(
        columns="id"), geometry="geometry", crs=schema.CRS_STORE)


def _trends(b: _Build, area_fig: pd.DataFrame) -> pd.DataFrame:
    """Areas and sources where the counts grow against the previous period and last year, the worst first."""
    worse = area_fig[area_fig["kind"].isin(["incident", "sighting", "finding"])].copy()
    worse["worsening"] = worse["change_previous"].clip(lower=0) + worse["change_last_year"].clip(lower=0)
    score = worse.groupby("area_id")["worsening"].sum()
    worse["area_score"] = worse["area_id"].map(score)
    worse = worse.sort_values(["area_score", "worsening", "area_name"], ascending=[False, False, True])
    return _displays(worse.reset_index(drop=True), b.audience, b.k, ["area_id"], b.restricted)


# --- places, actions and the records behind the map --------------------------------------------------------


def _places(b: _Build) -> tuple[pd.DataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """The period's points (findings and precisely placed incidents), its top places and the repeat places."""
    in_period = {"start": b.period.start, "end": b.period.end, **b.scope.area_filter}
    f_pts = b.store.points("finding", b.viewer, **in_period)
    i_pts = b.store.points("incident", b.viewer, **in_period)
    i_pts = i_pts[i_pts["precision"].isin(schema.HOTSPOT_PRECISIONS)]
    map_points = pd.concat([
        pd.DataFrame({"kind": "finding", "lon": f_pts["lon"], "lat": f_pts["lat"],
                      "group": f_pts["category"], "positive": f_pts["positive"].astype(bool)}),
        pd.DataFrame({"kind": "incident", "lon": i_pts["lon"], "lat": i_pts["lat"], "group": i_pts["type"],
                      "positive": False}),
    ], ignore_index=True)
    top = _top_places(map_points[~map_points["positive"]], b.scope.all_areas, b.lang)
    top = _displays(top.assign(previous=0, last_year=0), b.audience, b.k, None).drop(
        columns=["previous", "last_year", "previous_display", "last_year_display"])
    return map_points, top, _repeat_places(b.store, b.viewer, b.period, b.scope.area_filter, b.lang)


def _open_actions(b: _Build, action_list: pd.DataFrame) -> pd.DataFrame:
    """The actions not done, in scope (for an area selection: its areas' and those with no area)."""
    in_scope = action_list["area_id"].isna() | action_list["area_id"].isin(b.scope.ids) if b.scope.chosen else \
        pd.Series(True, index=action_list.index)
    return action_list[~action_list["status"].isin(schema.ACTION_DONE_STATUSES) & in_scope].reset_index(drop=True)


def _map_records(b: _Build) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The period's findings, incidents and (internal audience with full access only) field sightings."""
    in_period = {"start": b.period.start, "end": b.period.end, **b.scope.area_filter}
    findings = b.store.read("finding", b.viewer, **in_period)
    incidents = b.store.read("incident", b.viewer, **in_period, **b.scope.precise)
    sightings = None
    if b.audience == "intern" and access.policy(b.viewer, "sighting").mode == "all":
        sightings = b.store.read("sighting", b.viewer, **in_period)
    return findings, incidents, sightings


def _partner_figures(approved: Callable[[Period], pd.DataFrame], windows: dict[str, Period],
                     all_areas: gpd.GeoDataFrame, audience: str, k: int, lang: str) -> pd.DataFrame:
    """The approved EST report figures per area (as reported; none = the whole kommun) and category, with the
    change against the previous period and last year."""
    def per_area(p: Period) -> pd.DataFrame:
        rep = approved(p)
        rep = rep.assign(area_key=rep["area_id"].astype("Int64").astype(object).where(rep["area_id"].notna(), -1))
        return rep.groupby(["area_key", "category"], as_index=False)["count"].sum()

    fig = _count_windows(per_area, windows, ["area_key", "category"])
    names = dict(zip(all_areas["id"].astype(int), all_areas["name"].astype(str), strict=True))
    whole = "Hela kommunen" if lang == "sv" else "Whole municipality"
    fig["area_name"] = fig["area_key"].map(lambda a: whole if int(a) == -1 else names.get(int(a), str(a)))
    fig["category_label"] = fig["category"].map(lambda c: schema.label("est_category", c, lang))
    fig = fig[fig[list(windows)].sum(axis=1) > 0].sort_values(["area_name", "category"]).reset_index(drop=True)
    return _displays(_with_changes(fig), audience, k, None)


def _decisions(store: Store, viewer: Viewer | None, period: Period, lang: str) -> pd.DataFrame:
    """The EST meeting's decisions for the weeks of the period and the week after it (the coming week), in
    priority order, with owner, date and the follow-up at the next meeting."""
    from trygghetskarta.ingest.est_report import week_of

    weeks = sorted({week_of(period.start + dt.timedelta(days=d)) for d in range(0, period.days + 7, 7)}
                   | {week_of(period.end), week_of(period.end + dt.timedelta(days=7))})
    frame = store.est_decisions(viewer, weeks=weeks)
    names = dict(zip(store.areas()["id"].astype(int), store.areas()["name"].astype(str), strict=True))
    frame["area_name"] = frame["area_id"].map(lambda a: "" if pd.isna(a) else names.get(int(a), str(a)))
    frame["status_label"] = frame["status"].map(lambda s: schema.label("est_decision_status", s, lang))
    return frame


def _num(value: float, lang: str, decimals: int = 1) -> str:
    """A number for a reason: ``decimals`` places (none for a whole limit), decimal comma in Swedish."""
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if lang == "sv" else text


def _reasons(row: dict[str, Any], thresholds: dict[str, dict[str, float]], lang: str) -> str:
    """Why an area got its colour, in plain language: the level, then every indicator at gul or above with the
    period's count, the rate or the change it gives and the limit it passed (the highest level first)."""
    sv = lang == "sv"
    parts: list[tuple[int, str]] = []
    order = schema.keys("area_level")
    for name in STATUS_COUNTS:
        level = row[f"{name}_level"]
        if level == "gron":
            continue
        count, days = int(row[name]), int(row[f"{name}_days"])
        noun = _NOUNS[name][(0 if sv else 2) + (count != 1)]
        limit = thresholds[row[f"{name}_indicator"]][level]
        lvl = schema.label("area_level", level, lang).lower()
        if row["basis"] == "rate":
            rate = _num(row[f"{name}_rate"], lang)
            text = (f"{count} {noun} på {days} dagar = {rate} per 1 000 invånare"
                    + ("" if days == 30 else " räknat på 30 dagar") + f" (gräns för {lvl}: {_num(limit, lang)})"
                    if sv else
                    f"{count} {noun} in {days} days = {rate} per 1,000 inhabitants"
                    + ("" if days == 30 else " scaled to 30 days") + f" ({lvl} from {_num(limit, lang)})")
        else:
            base, change = _num(row[f"{name}_baseline"], lang), f"{row[f'{name}_change_pct']:+.0f} %"
            text = (f"{count} {noun} på {days} dagar mot i snitt {base} under de {BASELINE_PERIODS} föregående "
                    f"perioderna ({change}, gräns för {lvl}: +{_num(limit, lang, 0)} %)" if sv else
                    f"{count} {noun} in {days} days against a mean of {base} in the {BASELINE_PERIODS} previous "
                    f"periods ({change}, {lvl} from +{_num(limit, lang, 0)} %)")
        parts.append((order.index(level), text))
    level = row["overdue_actions_level"]
    if level != "gron":
        n = int(row["overdue_actions"])
        limit = thresholds["overdue_actions"][level]
        lvl = schema.label("area_level", level, lang).lower()
        shown = _num(limit, lang, 0 if float(limit).is_integer() else 1)
        parts.append((order.index(level), (
            f"{n} {'försenad åtgärd' if n == 1 else 'försenade åtgärder'} i dag (läget nu, oavsett period; "
            f"gräns för {lvl}: {shown})" if sv else
            f"{n} overdue {'action' if n == 1 else 'actions'} today (the state now, whatever the period; "
            f"{lvl} from {shown})")))
    label = schema.label("area_level", row["level"], lang)
    if not parts:
        return f"{label}: inget över gränserna." if sv else f"{label}: nothing above the limits."
    parts.sort(key=lambda p: -p[0])
    return f"{label}: " + "; ".join(text for _rank, text in parts)


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
