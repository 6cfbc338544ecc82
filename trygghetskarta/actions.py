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
                "kind_label", "status", "status_label", "planned_date", "deadline", "due_date", "done_date",
                "overdue", "days_overdue", "shared", "walk_id", "area_id"]


def _as_date(value: Any, what: str = "today") -> dt.date:
    return records.date_from_value(value, what, allow_datetime=False)


def _dates(series: pd.Series) -> pd.Series:
    """A column of dates (or None) as datetime64, for vectorised comparison."""
    return pd.to_datetime(series.astype(object).where(series.notna(), None), errors="coerce")


def due_dates_from_actions(actions: pd.DataFrame) -> pd.Series:
    """The date each action is due: its deadline (senast), else its planned date (datetime64, NaT: none)."""
    planned = _dates(actions["planned_date"])
    if "deadline" not in actions:
        return planned
    return _dates(actions["deadline"]).fillna(planned)


def overdue_mask_from_actions(actions: pd.DataFrame, today: dt.date) -> pd.Series:
    """True where an action is not done and its due date has passed (``due < today``): the deadline (senast)
    where one is set, else the planned date."""
    today = _as_date(today)
    if actions.empty:
        return pd.Series(dtype=bool, index=actions.index)
    for col in ("planned_date", "status"):
        if col not in actions:
            msg = f"actions lack column {col!r}"
            raise ValidationError(msg)
    due = due_dates_from_actions(actions)
    open_ = ~actions["status"].astype(str).isin(schema.ACTION_DONE_STATUSES)
    return ((due < pd.Timestamp(today)) & open_).fillna(False).astype(bool)


def action_list_from_actions(actions: pd.DataFrame, today: dt.date, lang: str = "sv") -> pd.DataFrame:
    """The action list as shown: labels in ``lang``, ``due_date`` (deadline, else planned date), ``overdue``
    and ``days_overdue``; overdue first, then by due date (earliest first, none last), priority and id."""
    today = _as_date(today)
    frame = pd.DataFrame(actions).copy()
    for col in LIST_COLUMNS:
        if col not in frame and col not in ("responsible_label", "priority_label", "kind_label", "status_label",
                                            "overdue", "days_overdue", "due_date"):
            frame[col] = None
    frame["overdue"] = overdue_mask_from_actions(frame, today) if not frame.empty else pd.Series(dtype=bool)
    due = due_dates_from_actions(frame) if not frame.empty else pd.Series(dtype="datetime64[ns]")
    frame["due_date"] = due.dt.date.astype(object).where(due.notna(), None)
    days = (pd.Timestamp(today) - due).dt.days
    frame["days_overdue"] = days.where(frame["overdue"], 0).fillna(0).astype("int64")
    frame["responsible_label"] = frame["responsible"].map(lambda k: schema.label("party", k, lang))
    frame["priority_label"] = frame["priority"].map(
        lambda k: schema.label("priority", None if pd.isna(k) else str(int(k)), lang))
    frame["kind_label"] = frame["kind"].map(lambda k: schema.label("action_kind", k, lang))
    frame["status_label"] = frame["status"].map(lambda k: schema.label("action_status", k, lang))
    frame["_due"] = due
    frame = frame.sort_values(["overdue", "_due", "priority", "id"], ascending=[False, True, True, True],
                              na_position="last")
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

# The routing `trygghetskarta init` writes into an empty routing table (category → party, any area), so a
# new action proposes a party from the first day. It follows who usually owns the problem in a Swedish kommun
# (README "Routing"); the administrator edits it on the Admin page (e.g. a row per area where a housing
# company or Trafikverket owns the ground). Every category has a row, so nothing is proposed as "okand".
DEFAULT_ROUTING: dict[str, str] = {
    "belysning_trasig": "kommun_gata_park",  # street and path lighting (gatubelysning)
    "belysning_otillracklig": "kommun_gata_park",
    "vegetation": "kommun_gata_park",  # parks and green areas (park/naturvård)
    "skymd_sikt": "kommun_gata_park",
    "klotter": "kommun_gata_park",  # on public ground; a housing company's walls go by area rows
    "nedskrapning": "kommun_gata_park",
    "skadegorelse": "kommun_gata_park",
    "gangtunnel": "kommun_gata_park",
    "orienterbarhet": "kommun_gata_park",
    "gangvag": "kommun_gata_park",
    "trafiksakerhet": "kommun_gata_park",  # the kommun's streets; state roads (Trafikverket) by area rows
    "parkering": "kommun_gata_park",
    "hallplats": "region_sl",  # bus stops and stations: Region Stockholm/SL
    "overgiven_byggnad": "kommun_fastighet",
    "utrustning": "kommun_gata_park",  # playgrounds and outdoor furniture in parks
    "entre_trapphus": "upplands_brohus",  # entrances and stairwells: the housing company
    "odsligt": "kommun_gata_park",
    "trygg_plats": "kommun_gata_park",
    "ovrigt": "kommun_gata_park",
}


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
