"""Small-count suppression for what partners see, and retention (gallring).

Suppression (k = setting ``privacy_k``, default 5):

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
- This protects against subtraction from one total at a time. It is not a full linear-programming audit of
  every combination of tables; do not publish many overlapping tables of the same data (e.g. each day of a
  period and the whole period) to partners.

Retention: ``gallra`` removes what is older than its ``retention_*_days`` setting. Field sightings are first
counted per area × month × type into ``sighting_aggregates``; night-walk reports, partner incidents and audit
events are deleted. One transaction, logged as an audit event, and a second run the same day does nothing.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from trygghetskarta import access, settings
from trygghetskarta.access import Viewer
from trygghetskarta.errors import PermissionDeniedError, TrygghetskartaError, ValidationError

SECONDARY = ".."
OUTSIDE_AREAS = "Utanför områdesindelningen"
RETENTION_KINDS: tuple[str, ...] = ("sighting", "nightwalk", "incident", "audit")


def _k(k: int | None) -> int:
    k = int(settings.get("privacy_k") if k is None else k)
    if k < 1:
        msg = f"k must be at least 1, got {k}"
        raise ValidationError(msg)
    return k


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

    def smallest_shown(idx: np.ndarray) -> int | None:
        shown = idx[~suppressed[idx]]
        return None if len(shown) == 0 else int(shown[np.argmin(values[shown])])

    def unsafe(idx: np.ndarray) -> bool:
        hidden = idx[suppressed[idx]]
        return 0 < len(hidden) < len(idx) and (len(hidden) < 2 or values[hidden].sum() < k)

    changed = True
    while changed:
        changed = False
        for col in group_cols:
            groups = [np.asarray(i) for i in out.groupby(col, dropna=False, sort=False).indices.values()]
            for idx in groups:  # cells against their group's total
                if len(idx) < 2 or values[idx].sum() < k:
                    continue
                while unsafe(idx):
                    suppressed[smallest_shown(idx)] = True
                    changed = True
            while True:  # group totals against the kommun total
                hidden = [g for g in groups if suppressed[g].all()]
                shown = [g for g in groups if not suppressed[g].all()]
                if not hidden or not shown or (len(hidden) >= 2 and sum(values[g].sum() for g in hidden) >= k):
                    break
                smallest = min(shown, key=lambda g: values[g].sum())
                suppressed[smallest] = True
                changed = True
        if not group_cols:
            idx = np.arange(len(out))
            while unsafe(idx):
                suppressed[smallest_shown(idx)] = True
                changed = True
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
                         k: int | None = None) -> pd.DataFrame:
    """Field sightings per area, suppressed under k: area_id, area, count_display, suppressed.

    Every area is listed (with ``"<k"`` where there were none), plus one row for sightings outside the
    areas, so the presence of a row says nothing. This is the only view of sightings partners get.
    """
    if access.policy(viewer, "sighting").mode == "none":
        msg = f"role {viewer.role if viewer else 'admin'} may not see field sightings"
        raise PermissionDeniedError(msg)
    counts = store.count_by("sighting", ["area_id"], viewer=viewer, start=start, end=end)
    areas = store.areas()
    frame = pd.DataFrame({"area_id": pd.array(areas["id"].astype(int).tolist(), dtype="Int64"),
                          "area": areas["name"].astype(object).to_numpy()})
    by_area = {int(a): int(c) for a, c in zip(counts["area_id"], counts["count"], strict=True) if not pd.isna(a)}
    frame["count"] = [by_area.get(int(a), 0) for a in frame["area_id"]]
    outside = int(counts.loc[counts["area_id"].isna(), "count"].sum())
    frame = pd.concat([frame, pd.DataFrame({"area_id": pd.array([None], dtype="Int64"), "area": [OUTSIDE_AREAS],
                                            "count": [outside]})], ignore_index=True)
    frame["count"] = frame["count"].astype("int64")
    result = suppress_counts(frame, k=k, total_cols=("area",))
    if viewer is not None:
        store.audit("view_aggregate", viewer, "sighting", None, {"areas": len(result)})
    return result[["area_id", "area", "count_display", "suppressed"]]


# --- retention -------------------------------------------------------------------------------------


def retention_cutoffs(now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """Per kind, the moment before which records are removed (local time zone, from the settings)."""
    if now is None:
        now = dt.datetime.now(dt.UTC)
    if not isinstance(now, dt.datetime) or now.tzinfo is None:
        msg = f"now must be a datetime with a time zone, got {now!r}"
        raise ValidationError(msg)
    local = now.astimezone(ZoneInfo(settings.get("timezone")))
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
