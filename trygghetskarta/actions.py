"""The åtgärdslista's logic: overdue flags, per-party lists with labels, and routing proposals.

Pure functions over frames as the store returns them; the SQL (create, status changes, routing table)
lives in ``store/actions.py``. ``today`` is always a parameter, so an action is flagged on the right day
whatever the clock says.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from trygghetskarta import records, schema
from trygghetskarta.errors import ValidationError

if TYPE_CHECKING:
    from trygghetskarta.access import Viewer
    from trygghetskarta.store import Store

LIST_COLUMNS = ["id", "what", "responsible", "responsible_label", "priority", "priority_label", "kind",
                "kind_label", "status", "status_label", "planned_date", "done_date", "overdue", "days_overdue",
                "shared", "walk_id", "area_id"]


def _as_date(value: Any, what: str = "today") -> dt.date:
    return records.date_from_value(value, what, allow_datetime=False)


def _dates(series: pd.Series) -> pd.Series:
    """A column of dates (or None) as datetime64, for vectorised comparison."""
    return pd.to_datetime(series.astype(object).where(series.notna(), None), errors="coerce")


def overdue_mask_from_actions(actions: pd.DataFrame, today: dt.date) -> pd.Series:
    """True where an action's planned date has passed (``planned_date < today``) and it is not done."""
    today = _as_date(today)
    if actions.empty:
        return pd.Series(dtype=bool, index=actions.index)
    for col in ("planned_date", "status"):
        if col not in actions:
            msg = f"actions lack column {col!r}"
            raise ValidationError(msg)
    planned = _dates(actions["planned_date"])
    open_ = ~actions["status"].astype(str).isin(schema.ACTION_DONE_STATUSES)
    return ((planned < pd.Timestamp(today)) & open_).fillna(False).astype(bool)


def action_list_from_actions(actions: pd.DataFrame, today: dt.date, lang: str = "sv") -> pd.DataFrame:
    """The action list as shown: labels in ``lang``, ``overdue`` and ``days_overdue``; overdue first, then
    by priority and planned date."""
    today = _as_date(today)
    frame = pd.DataFrame(actions).copy()
    for col in LIST_COLUMNS:
        if col not in frame and col not in ("responsible_label", "priority_label", "kind_label", "status_label",
                                            "overdue", "days_overdue"):
            frame[col] = None
    frame["overdue"] = overdue_mask_from_actions(frame, today) if not frame.empty else pd.Series(dtype=bool)
    planned = _dates(frame["planned_date"]) if not frame.empty else pd.Series(dtype="datetime64[ns]")
    days = (pd.Timestamp(today) - planned).dt.days
    frame["days_overdue"] = days.where(frame["overdue"], 0).fillna(0).astype("int64")
    frame["responsible_label"] = frame["responsible"].map(lambda k: schema.label("party", k, lang))
    frame["priority_label"] = frame["priority"].map(
        lambda k: schema.label("priority", None if pd.isna(k) else str(int(k)), lang))
    frame["kind_label"] = frame["kind"].map(lambda k: schema.label("action_kind", k, lang))
    frame["status_label"] = frame["status"].map(lambda k: schema.label("action_status", k, lang))
    frame = frame.sort_values(["overdue", "priority", "planned_date"], ascending=[False, True, True],
                              na_position="last", key=lambda s: s if s.name != "planned_date" else _dates(s))
    return frame[LIST_COLUMNS].reset_index(drop=True)


def party_lists_from_actions(actions: pd.DataFrame, today: dt.date, lang: str = "sv") -> dict[str, pd.DataFrame]:
    """One list per responsible party (key: party key), each as ``action_list_from_actions`` returns it."""
    listed = action_list_from_actions(actions, today, lang)
    return {str(party): group.reset_index(drop=True) for party, group in listed.groupby("responsible", sort=True)}


def action_list_for_viewer(store: Store, viewer: Viewer | None, today: dt.date, lang: str = "sv",
                           include_done: bool = True) -> pd.DataFrame:
    """The actions ``viewer`` may see (partners: their own and shared ones) as a labelled list."""
    actions = store.read("action", viewer)
    if not include_done:
        actions = actions[~actions["status"].isin(schema.ACTION_DONE_STATUSES)]
    return action_list_from_actions(pd.DataFrame(actions.drop(columns="geometry")), today, lang)


# --- routing ------------------------------------------------------------------------------------------


def party_from_routing(routing: pd.DataFrame, category: str, area_id: int | None = None) -> str:
    """The party the routing table proposes for ``category`` in ``area_id``.

    Most specific wins: category+area, then category (any area), then area (any category), then the
    default row (both empty), else ``okand``.
    """
    schema.require_key("category", category, "category")
    if routing is None or routing.empty:
        return "okand"
    cat = routing["category"].astype(object)
    area = pd.to_numeric(routing["area_id"], errors="coerce")
    no_cat, no_area = cat.isna(), area.isna()
    same_area = (area == int(area_id)) if area_id is not None and not pd.isna(area_id) else pd.Series(
        False, index=routing.index)
    for mask in ((cat == category) & same_area, (cat == category) & no_area, no_cat & same_area, no_cat & no_area):
        hit = routing.loc[mask.fillna(False).to_numpy(dtype=bool), "party"]
        if not hit.empty:
            return str(hit.iloc[0])
    return "okand"


def reproposed_party(routing: pd.DataFrame, old_category: str, new_category: str, area_id: int | None,
                     current_party: str | None) -> str:
    """The party after a finding's category changes from ``old_category`` to ``new_category``.

    A party that came from the routing (or none) follows the new category's proposal; a party someone
    chose by hand (different from the old proposal) is kept.
    """
    old = party_from_routing(routing, old_category, area_id)
    if current_party in (None, "", old, "okand"):
        return party_from_routing(routing, new_category, area_id)
    return str(current_party)


def routing_proposals_for_findings(routing: pd.DataFrame, findings: pd.DataFrame) -> pd.Series:
    """The proposed party for each finding row (``category`` and ``area_id`` columns)."""
    areas = findings["area_id"] if "area_id" in findings else pd.Series(None, index=findings.index)
    return pd.Series([party_from_routing(routing, c, None if pd.isna(a) else int(a))
                      for c, a in zip(findings["category"], areas, strict=True)], index=findings.index,
                     dtype=object, name="proposed_party")
