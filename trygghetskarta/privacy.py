"""Disclosure control for what partners see, small-count suppression, and retention (gallring).

Disclosure control (the publication grid; SECURITY.md "Disclosure control"). Kinds that partners may see only
as totals (``access`` policy mode ``"aggregate"``: field sightings) reach a partner only as sums of published
cells, never from raw rows:

- A cell is one smallest area (the record's ``area_id``; one cell for "outside every area") x one local ISO
  week (Monday-Sunday, setting ``timezone``) x one type. A cell under k is not published (it counts as 0 in
  every sum and is shown as ``"<k"``); a cell of at least k is published exactly.
- Periods are whole ISO weeks (``publication_periods``): a calendar month, quarter, tertial or year is the ISO
  weeks whose Thursday falls in it; any other range is widened to the whole ISO weeks it touches. A range is
  never cut at an arbitrary day, and the user is told when it was widened.
- Every total a partner sees (over areas, parent areas, weeks, types; the lägesbild's sums, area colours and
  their reasons; exports; the map page) is the sum of published cells (``published_total``). The store's
  ``count_by`` returns exactly that for an aggregate-mode viewer (``published_counts``), so every read path
  is covered. Any two published figures are sums of published cells, so their difference is a sum of
  published cells too: no cell under k can be recovered by differencing, by construction.

Internal roles (fältgrupp, planerare, admin) read exact rows and counts.

Suppression of single tables (``suppress_counts``; k = setting ``privacy_k``, default 5), used for figures
partners could also count from rows they may read:

- Every count below k, zero included, is shown as ``"<k"`` (primary suppression). A zero is not shown as 0:
  next to a ``"<5"`` it would narrow the other cells, and whether young people gather at a place at all is
  itself what must not reach partners.
- Secondary suppression: no suppressed cell may be recovered by subtracting shown cells from a shown total.
  Within every total (the kommun total over all rows, and the total of each group of a ``total_cols``
  column, e.g. an area's total over types) the suppressed cells are either none, or at least two that
  together hold at least k. Where that does not hold, the smallest shown cell is suppressed too and shown as
  ``".."``. A group whose cells are all suppressed has its own total hidden as well (``margin_totals``), and
  the groups are checked against the kommun total in the same way (an area whose total would reveal a
  suppressed area by subtraction is suppressed too).
- This protects against subtraction from one total at a time only; restricted kinds therefore go through the
  publication grid above instead.

Retention: ``gallra`` removes what is older than its ``retention_*_days`` setting. Field sightings are first
counted per area × month × type into ``sighting_aggregates``; night-walk reports, partner incidents and audit
events are deleted. One transaction, logged as an audit event, and a second run the same day does nothing.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trygghetskarta import access, settings
from trygghetskarta.access import Viewer
from trygghetskarta.errors import PermissionDeniedError, TrygghetskartaError, ValidationError
from trygghetskarta.timeutil import local_zone

SECONDARY = ".."
OUTSIDE_AREAS = "Utanför områdesindelningen"
RETENTION_KINDS: tuple[str, ...] = ("sighting", "nightwalk", "incident", "audit")


def _k(k: int | None) -> int:
    k = int(settings.get("privacy_k") if k is None else k)
    if k < 1:
        msg = f"k must be at least 1, got {k}"
        raise ValidationError(msg)
    return k


def _protect_cells(idx: np.ndarray, values: np.ndarray, suppressed: np.ndarray, k: int) -> bool:
    """Hide the smallest shown cells of ``idx`` until its hidden cells cannot be recovered from the shown
    total (at least two hidden, summing to at least ``k``, or none). Returns whether a cell was hidden."""
    def unsafe() -> bool:
        hidden = idx[suppressed[idx]]
        return 0 < len(hidden) < len(idx) and (len(hidden) < 2 or values[hidden].sum() < k)

    changed = False
    while unsafe():
        shown = idx[~suppressed[idx]]
        suppressed[int(shown[np.argmin(values[shown])])] = True
        changed = True
    return changed


def _protect_group_totals(groups: list[np.ndarray], values: np.ndarray, suppressed: np.ndarray, k: int) -> bool:
    """Group totals against the kommun total: hide the smallest shown groups until the wholly hidden groups
    are at least two and sum to at least ``k`` (or none is hidden). Returns whether a cell was hidden."""
    changed = False
    while True:
        hidden = [g for g in groups if suppressed[g].all()]
        shown = [g for g in groups if not suppressed[g].all()]
        if not hidden or not shown or (len(hidden) >= 2 and sum(values[g].sum() for g in hidden) >= k):
            return changed
        suppressed[min(shown, key=lambda g: values[g].sum())] = True
        changed = True


def suppress_counts(df: pd.DataFrame, count_col: str = "count", k: int | None = None,
                    total_cols: Sequence[str] = ("area",)) -> pd.DataFrame:
    """``df`` with ``count_display`` (text to show) and ``suppressed`` (bool) added; see the module docstring.

    ``total_cols`` are the columns whose group totals will be shown (those present in ``df`` are used);
    the kommun total over all rows is always assumed to be shown. ``count`` is kept for internal use: show
    ``count_display`` only.
    """
    if not isinstance(df, pd.DataFrame) or count_col not in df:
        msg = f"expected a DataFrame with a {count_col!r} column"
        raise ValidationError(msg)
    k = _k(k)
    out = df.copy().reset_index(drop=True)
    counts = pd.to_numeric(out[count_col], errors="coerce")
    if counts.isna().any() or (counts < 0).any() or (counts % 1 != 0).any():
        msg = f"{count_col!r} must hold whole numbers of at least 0"
        raise ValidationError(msg)
    values = counts.to_numpy(dtype=np.int64)
    primary = values < k
    suppressed = primary.copy()
    group_cols = [c for c in total_cols if c in out.columns]

    changed = True
    while changed:
        changed = False
        for col in group_cols:
            groups = [np.asarray(i) for i in out.groupby(col, dropna=False, sort=False).indices.values()]
            for idx in groups:  # cells against their group's total
                if len(idx) >= 2 and values[idx].sum() >= k:
                    changed |= _protect_cells(idx, values, suppressed, k)
            changed |= _protect_group_totals(groups, values, suppressed, k)
        if not group_cols:
            changed |= _protect_cells(np.arange(len(out)), values, suppressed, k)
    out["count_display"] = pd.Series(
        [f"<{k}" if p else SECONDARY if s else str(v) for v, p, s in zip(values, primary, suppressed, strict=True)],
        dtype=object, index=out.index)
    out["suppressed"] = suppressed
    return out


def margin_totals(suppressed_df: pd.DataFrame, by: str, count_col: str = "count",
                  k: int | None = None) -> pd.DataFrame:
    """The group totals of a ``suppress_counts`` result (by, count, count_display, suppressed).

    A total is hidden when all of its cells are (``"<k"`` when below k, ``".."`` otherwise).
    """
    k = _k(k)
    if "suppressed" not in suppressed_df or by not in suppressed_df:
        msg = f"expected the result of suppress_counts with a {by!r} column"
        raise ValidationError(msg)
    g = suppressed_df.groupby(by, dropna=False, sort=False).agg(
        count=(count_col, "sum"), suppressed=("suppressed", "all")).reset_index()
    g["count_display"] = [f"<{k}" if c < k else SECONDARY if s else str(int(c))
                          for c, s in zip(g["count"], g["suppressed"], strict=True)]
    return g


def total_display(df: pd.DataFrame, count_col: str = "count", k: int | None = None) -> str:
    """The kommun total of ``df`` as text: the number, or ``"<k"`` below k."""
    k = _k(k)
    total = int(pd.to_numeric(df[count_col]).sum()) if len(df) else 0
    return f"<{k}" if total < k else str(total)


def sighting_area_totals(store: Any, viewer: Viewer | None, start: Any = None, end: Any = None,
                         k: int | None = None, types: Sequence[str] | None = None,
                         area_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Field sightings per area as partners see them: area_id, area, count_display, suppressed.

    Each area's figure is the sum of its published cells (``published_counts``) over the whole ISO weeks of
    ``start``..``end`` (see ``publication_periods``); ``suppressed`` says that nothing was published for it.
    Every area is listed (or those of ``area_ids``), plus one row for sightings outside the areas, so the
    presence of a row says nothing. This is the only view of sightings partners get.
    """
    if access.policy(viewer, "sighting").mode == "none":
        msg = f"role {viewer.role if viewer else 'admin'} may not see field sightings"
        raise PermissionDeniedError(msg)
    k = _k(k)
    filters: dict[str, Any] = {"types": list(types) if types else None,
                               "area_ids": [int(a) for a in area_ids] if area_ids else None}
    counts = published_counts(store, "sighting", ["area_id"], start, end, k=k, **filters)
    areas = store.areas()
    if area_ids:
        areas = areas[areas["id"].astype(int).isin([int(a) for a in area_ids])]
    frame = pd.DataFrame({"area_id": pd.array(areas["id"].astype(int).tolist(), dtype="Int64"),
                          "area": areas["name"].astype(object).to_numpy()})
    by_area = {int(a): int(c) for a, c in zip(counts["area_id"], counts["count"], strict=True) if not pd.isna(a)}
    frame["count"] = [by_area.get(int(a), 0) for a in frame["area_id"]]
    if not area_ids:
        outside = int(counts.loc[counts["area_id"].isna(), "count"].sum())
        frame = pd.concat([frame, pd.DataFrame({"area_id": pd.array([None], dtype="Int64"),
                                                "area": [OUTSIDE_AREAS], "count": [outside]})], ignore_index=True)
    frame["count_display"] = [published_display(c, k) for c in frame["count"]]
    frame["suppressed"] = frame["count"].to_numpy() < k
    if viewer is not None:
        store.audit("view_aggregate", viewer, "sighting", None, {"areas": len(frame)})
    return frame[["area_id", "area", "count_display", "suppressed"]].reset_index(drop=True)


# --- disclosure control: the publication grid ------------------------------------------------------------

_CALENDAR_MONTHS = (1, 3, 4, 12)  # month, quarter, tertial, year
_THURSDAY = 3


def _local_date(value: Any, end: bool) -> dt.date | None:
    """A period bound as a local calendar day (an end datetime is exclusive, an end date inclusive)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                msg = f"period bound {value!r} is not a date (YYYY-MM-DD) or a date and time"
                raise ValidationError(msg) from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            msg = f"period bound {value} has no time zone"
            raise ValidationError(msg)
        if end:
            value = value - dt.timedelta(microseconds=1)
        return value.astimezone(local_zone()).date()
    if isinstance(value, dt.date):
        return value
    msg = f"period bound must be a date or datetime, got {value!r}"
    raise ValidationError(msg)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _calendar_months(start: dt.date, end: dt.date) -> int | None:
    """1, 3, 4 or 12 when start..end is exactly one calendar month, quarter, tertial or year."""
    if start.day != 1:
        return None
    for months in _CALENDAR_MONTHS:
        if (start.month - 1) % months:
            continue
        index = start.year * 12 + start.month - 1 + months
        if end == dt.date(index // 12, index % 12 + 1, 1) - dt.timedelta(days=1):
            return months
    return None


@dataclass(frozen=True)
class PublicationWindow:
    """The whole ISO weeks published for a requested period (``start`` a Monday, ``end`` a Sunday, inclusive;
    None where the request was open)."""

    requested_start: dt.date | None
    requested_end: dt.date | None
    start: dt.date | None
    end: dt.date | None

    @property
    def snapped(self) -> bool:
        """Whether the published weeks differ from the requested days."""
        return (self.start, self.end) != (self.requested_start, self.requested_end)

    @property
    def weeks(self) -> tuple[dt.date, ...]:
        """The Mondays of the published weeks (empty for an open period)."""
        if self.start is None or self.end is None:
            return ()
        return tuple(self.start + dt.timedelta(weeks=i) for i in range((self.end - self.start).days // 7 + 1))

    @property
    def days(self) -> int | None:
        return None if self.start is None or self.end is None else (self.end - self.start).days + 1

    def label(self, lang: str = "sv") -> str:
        """E.g. 'v. 40 2026 – v. 44 2026 (2026-09-28 – 2026-11-01)'."""
        word = "v." if lang == "sv" else "week"

        def week(day: dt.date) -> str:
            iso = day.isocalendar()
            return f"{word} {iso.week} {iso.year}"

        if self.start is None and self.end is None:
            return "alla veckor" if lang == "sv" else "all weeks"
        if self.start is None or self.end is None:
            day = self.start or self.end
            assert day is not None
            side = ("från" if self.start else "till och med") if lang == "sv" else ("from" if self.start else
                                                                                      "up to")
            return f"{side} {week(day)} ({day.isoformat()})"
        weeks = week(self.start) if self.start == _monday(self.end) else f"{week(self.start)} – {week(self.end)}"
        return f"{weeks} ({self.start.isoformat()} – {self.end.isoformat()})"

    def note(self, lang: str = "sv") -> str | None:
        """What to tell the user when the requested range was widened (None when it was not)."""
        if not self.snapped:
            return None
        asked = f"{self.requested_start or '…'} – {self.requested_end or '…'}"
        if lang == "sv":
            return (f"Fältobservationer redovisas för partner bara för hela ISO-veckor: perioden {asked} har "
                    f"vidgats till {self.label(lang)}.")
        return (f"Field sightings are published to partners only for whole ISO weeks: {asked} was widened to "
                f"{self.label(lang)}.")


def publication_periods(start: Any, end: Any) -> PublicationWindow:
    """The whole ISO weeks published for the period ``start``..``end`` (dates inclusive; datetimes are taken
    as local days, an end datetime exclusive; None leaves that side open).

    A calendar month, quarter, tertial or year is the ISO weeks whose Thursday falls in it; any other range
    is widened to every ISO week it touches.
    """
    first, last = _local_date(start, end=False), _local_date(end, end=True)
    if first is not None and last is not None and last < first:
        msg = f"the period ends ({last}) before it starts ({first})"
        raise ValidationError(msg)
    week_start: dt.date | None
    week_end: dt.date | None
    if first is not None and last is not None and _calendar_months(first, last):
        week_start = _monday(first + dt.timedelta(days=(_THURSDAY - first.weekday()) % 7))
        week_end = _monday(last - dt.timedelta(days=(last.weekday() - _THURSDAY) % 7)) + dt.timedelta(days=6)
    else:
        week_start = None if first is None else _monday(first)
        week_end = None if last is None else _monday(last) + dt.timedelta(days=6)
    return PublicationWindow(first, last, week_start, week_end)


def published_display(value: Any, k: int | None = None) -> str:
    """A published figure as text: the number, or ``"<k"`` when nothing (or a suppressed cell) lies behind it."""
    k = _k(k)
    value = 0 if value is None or pd.isna(value) else int(value)
    return f"<{k}" if value < k else str(value)


def published_cells(cells: pd.DataFrame, k: int | None = None) -> pd.DataFrame:
    """The publication of exact cell counts (``cells``: key columns + ``count``): the keys, ``published``
    (the count, NA under k), ``count_display`` and ``suppressed``. The exact ``count`` is dropped."""
    if not isinstance(cells, pd.DataFrame) or "count" not in cells:
        msg = "expected a DataFrame of cells with a 'count' column"
        raise ValidationError(msg)
    k = _k(k)
    counts = pd.to_numeric(cells["count"], errors="coerce")
    if counts.isna().any() or (counts < 0).any():
        msg = "cell counts must be whole numbers of at least 0"
        raise ValidationError(msg)
    out = cells.drop(columns="count").reset_index(drop=True)
    small = (counts < k).to_numpy()
    out["published"] = pd.array(counts.astype("int64").to_numpy(), dtype="Int64")
    out.loc[small, "published"] = pd.NA
    out["count_display"] = [f"<{k}" if s else str(int(c)) for c, s in zip(counts, small, strict=True)]
    out["suppressed"] = small
    return out


def published_total(cells: pd.DataFrame, by: Sequence[str] | None = None) -> Any:
    """The sum of the published cells of ``published_cells`` (suppressed cells count 0): one int, or per
    group of ``by`` a DataFrame (``by`` + ``count``; missing keys, e.g. outside every area, form a group)."""
    if "published" not in cells:
        msg = "expected the result of published_cells"
        raise ValidationError(msg)
    values = cells["published"].fillna(0).astype("int64")
    if not by:
        return int(values.sum())
    frame = cells[list(by)].copy()
    frame["count"] = values.to_numpy()
    out = frame.groupby(list(by), dropna=False, sort=True)["count"].sum().reset_index()
    for col in by:  # missing keys as None, as the store gives them
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    out["count"] = out["count"].astype("int64")
    return out


def published_counts(store: Any, kind: str, by: Sequence[str], start: Any = None, end: Any = None,
                     k: int | None = None, **filters: Any) -> pd.DataFrame:
    """What a partner may read of ``kind`` grouped by ``by``: sums of published cells over the whole ISO
    weeks of ``start``..``end``, as ``by`` + ``count`` (the store's ``count_by`` for aggregate-mode viewers).

    ``filters`` (e.g. ``area_ids``, ``types``) select whole cells. Groups whose cells are all suppressed
    count 0.
    """
    window = publication_periods(start, end)
    raw = store.disclosure_cells(kind, window.start, window.end, **filters)
    cells = published_cells(raw, k)
    if not by:
        return pd.DataFrame({"count": [published_total(cells)]})
    missing = [b for b in by if b not in cells]
    if missing:
        msg = f"{kind} totals can be grouped only by the cells' keys, not by {missing}"
        raise ValidationError(msg)
    return published_total(cells, by=by)


def restricted_notes(start: Any, end: Any, k: int | None = None, lang: str = "sv") -> list[str]:
    """What a partner is told next to restricted figures: the rule, and the widened period where it was."""
    k = _k(k)
    window = publication_periods(start, end)
    rule = (f"Fältobservationer: summorna omfattar bara celler (minsta område × ISO-vecka × typ) med minst {k} "
            f"observationer; mindre antal är utelämnade. Veckor: {window.label(lang)}." if lang == "sv" else
            f"Field sightings: the sums hold only cells (smallest area × ISO week × type) of at least {k} "
            f"sightings; smaller numbers are left out. Weeks: {window.label(lang)}.")
    note = window.note(lang)
    return [rule] if note is None else [note, rule]


# --- retention -------------------------------------------------------------------------------------


def retention_cutoffs(now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """Per kind, the moment before which records are removed (local time zone, from the settings)."""
    if now is None:
        now = dt.datetime.now(dt.UTC)
    if not isinstance(now, dt.datetime) or now.tzinfo is None:
        msg = f"now must be a datetime with a time zone, got {now!r}"
        raise ValidationError(msg)
    local = now.astimezone(local_zone())
    out: dict[str, dt.datetime] = {}
    for kind in RETENTION_KINDS:
        days = int(settings.get(f"retention_{kind}_days"))
        if days < 1:
            msg = f"retention_{kind}_days must be at least 1, got {days}"
            raise ValidationError(msg)
        out[kind] = local - dt.timedelta(days=days)
    return out


def gallra(store: Any, now: dt.datetime | None = None, dry_run: bool = False) -> dict[str, dict[str, Any]]:
    """Apply retention: per kind ``{"cutoff", "deleted"}`` (sightings also ``aggregated_cells``).

    With ``dry_run`` nothing changes and the numbers say what would be done.
    """
    cutoffs = retention_cutoffs(now)
    tz = settings.get("timezone")
    done = store.retention_counts(cutoffs, tz) if dry_run else store.retention_apply(cutoffs, tz)
    return {kind: {"cutoff": cutoffs[kind].isoformat(timespec="seconds"), **done[kind]} for kind in cutoffs}


_KIND_LABEL = {"sighting": "field sightings", "nightwalk": "night-walk reports", "incident": "partner incidents",
               "audit": "audit events"}


def cli_gallra(store: Any, dry_run: bool) -> int:
    """``trygghetskarta gallra [--dry-run]``: one line per kind; returns the exit status."""
    try:
        store.require_initialised()
        result = gallra(store, dry_run=dry_run)
    except TrygghetskartaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    verb = "would delete" if dry_run else "deleted"
    for kind, r in result.items():
        line = f"{kind}: {verb} {r['deleted']} {_KIND_LABEL[kind]} older than {r['cutoff'][:10]}"
        if kind == "sighting":
            line += f" (kept as {r['aggregated_cells']} area-month-type counts)"
        print(line)
    return 0


# --- positions for the public (issue 16) ------------------------------------------------------------------


def public_positions(lon: Any, lat: Any, cell_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Positions as the public may see them (public map, Open311): each point moved to the centre of its
    square of ``cell_m`` metres (setting ``public_position_m``) in SWEREF 99 TM, so a published point tells
    the block, never the doorway. Every point in the same square gets the same position, whatever the input
    precision; the result is rounded to 6 decimals (about 0.1 m)."""
    from trygghetskarta import geography

    size = float(settings.get("public_position_m") if cell_m is None else cell_m)
    if not np.isfinite(size) or size < 10:
        msg = f"the public position grid must be at least 10 m, got {size!r}"
        raise ValidationError(msg)
    x, y = geography.metric_from_lonlat(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    cx = (np.floor(x / size) + 0.5) * size
    cy = (np.floor(y / size) + 0.5) * size
    out_lon, out_lat = geography.lonlat_from_metric(cx, cy)
    return np.round(out_lon, 6), np.round(out_lat, 6)
