"""The åtgärdslista: the service that creates actions, moves them along, plans them and checks them at the
next walk, and the labelled list the pages and reports show.

Every write opens one transaction (``store.write()``), checks who may (``access``) and what is allowed
(``lifecycle``, ``routing``) and passes the connection to the store's writers. ``today`` is always a
parameter of the list, so an action is flagged on the right day whatever the clock says.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from trygghetskarta import access, lifecycle, routing, schema
from trygghetskarta import areas as areas_rule
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, ValidationError
from trygghetskarta.i18n import N_
from trygghetskarta.lifecycle import due_dates_from_actions, overdue_mask_from_actions
from trygghetskarta.scrub import scrub_text
from trygghetskarta.store.actions import actor_name
from trygghetskarta.store.core import deferred_view_audit
from trygghetskarta.timeutil import date_from_value, local_today, now_utc, optional_date
from trygghetskarta.workflow import event, transition_in

if TYPE_CHECKING:
    from trygghetskarta.access import Viewer
    from trygghetskarta.store import Store

LIST_COLUMNS = ["id", "what", "responsible", "responsible_label", "priority", "priority_label", "kind",
                "kind_label", "status", "status_label", "planned_date", "deadline", "due_date", "done_date",
                "overdue", "days_overdue", "shared", "walk_id", "area_id"]

__all__ = ["LIST_COLUMNS", "action_list_for_viewer", "action_list_from_actions", "add_action_progress",
           "change_action_status", "create_action", "delete_route", "due_dates_from_actions",
           "followup_checklist", "overdue_mask_from_actions", "party_lists_from_actions", "propose_party",
           "record_followup", "seed_default_routing", "set_action_dates", "set_app_setting", "set_route"]


def _as_date(value: Any, what: str = "today") -> dt.date:
    return date_from_value(value, what, allow_datetime=False)


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


# --- actions ---------------------------------------------------------------------------------------------

def create_action(store: Store, finding_ids: Sequence[int], what: str, responsible: str,
                  actor: Viewer | None = None, *, priority: int = 2, kind: str = "enkel",
                  planned_date: dt.date | None = None, deadline: dt.date | None = None, shared: bool = False,
                  walk_id: int | None = None, area_id: int | None = None, comment: str = "") -> int:
    """Create an action from one or more findings and assign them (status ``tilldelad``) to ``responsible``.

    ``planned_date`` is when the party plans to do it, ``deadline`` (senast) the date by which it must be
    done. Findings already assigned or planned keep their status and take the new party; the action and
    every status change are written in one transaction. Returns the action's id.
    """
    planned_date = optional_date(planned_date, "planned date")
    deadline = optional_date(deadline, "deadline")
    access.check_may_create_action(actor)
    ids = sorted({int(i) for i in finding_ids})
    if not ids:
        msg = "Välj minst ett fynd för åtgärden."
        raise ValidationError(msg)
    lifecycle.check_action_values(what, responsible, kind, priority)
    with store.write() as conn:
        found = store.findings_for_action(conn, ids)
        lifecycle.check_actionable([(int(r.id), str(r.status)) for r in found])
        first = found[0]
        now = now_utc()
        [action_id] = store.insert_actions(conn, [{
            "what": scrub_text(what).text, "responsible": responsible, "priority": int(priority), "kind": kind,
            "planned_date": planned_date, "deadline": deadline, "status": "oppen", "shared": bool(shared),
            "walk_id": walk_id if walk_id is not None else first.walk_id,
            "area_id": area_id if area_id is not None else first.area_id,
            "created_by": actor_name(actor), "created_at": now, "updated_at": now, "lon": first.lon,
            "lat": first.lat}], [ids])
        store.insert_status_events(conn, [event("action", action_id, actor, None, "oppen", comment, at=now)])
        note = f"åtgärd {action_id}: {schema.label('party', responsible)}"
        for r in found:
            if lifecycle.keeps_status_on_new_action(r.status):
                store.update_findings(conn, [int(r.id)], {"responsible": responsible})
                continue
            transition_in(store, conn, int(r.id), "tilldelad", actor, note, responsible=responsible)
        due = deadline or planned_date
        if due is not None:
            store.update_findings(conn, ids, {"due_date": due}, only_without_due_date=True)
        store.audit("create", actor, "action", action_id, {"findings": ids, "responsible": responsible}, conn=conn)
    return action_id


def set_action_dates(store: Store, action_id: int, actor: Viewer | None = None, *, planned_date: dt.date | None,
                     deadline: dt.date | None) -> None:
    """Set an action's planned date and deadline (senast). Planners set both; the responsible party plans
    its own action (the planned date) but does not move the deadline it was given."""
    planned_date = optional_date(planned_date, "planned date")
    deadline = optional_date(deadline, "deadline")
    with store.write() as conn:
        row = store.action_row(conn, action_id)
        access.check_may_act_on_action(actor, row.id, row.responsible, row.shared, comment_only=False)
        access.check_may_move_deadline(actor, row.deadline, deadline)
        store.update_action(conn, action_id, {"planned_date": planned_date, "deadline": deadline})
        store.insert_status_events(conn, [event("action", action_id, actor, row.status, row.status,
                                                f"planerat {planned_date or '–'}, senast {deadline or '–'}")])
        store.audit("dates", actor, "action", int(action_id),
                    {"planned_date": str(planned_date), "deadline": str(deadline)}, conn=conn)


def change_action_status(store: Store, action_id: int, to_status: str, actor: Viewer | None = None,
                         comment: str = "", *, done_date: dt.date | None = None,
                         at: dt.datetime | None = None) -> None:
    """Move an action along its lifecycle, with an event. ``klar`` sets the done date and marks the
    linked open findings ``atgardad``; reopening (``klar`` → ``pagar``) clears the done date."""
    schema.require_key("action_status", to_status, "action status")
    with store.write() as conn:
        row = store.action_row(conn, action_id)
        access.check_may_act_on_action(actor, row.id, row.responsible, row.shared, comment_only=False)
        values = lifecycle.action_status_values(int(action_id), row.status, to_status, comment, done_date,
                                                local_today())
        store.update_action(conn, action_id, values)
        store.insert_status_events(conn, [event("action", action_id, actor, row.status, to_status, comment, at=at)])
        if to_status == "klar":
            for fid, status in store.linked_findings(conn, action_id):
                if lifecycle.fixes_finding(status):
                    transition_in(store, conn, fid, "atgardad", actor, f"åtgärd {action_id} klar", at=at)
        store.audit("status", actor, "action", int(action_id), {"from": row.status, "to": to_status}, conn=conn)


def add_action_progress(store: Store, action_id: int, actor: Viewer | None, comment: str) -> None:
    """A progress comment by the responsible party (partners: own or shared actions), as an event."""
    if not str(comment or "").strip():
        msg = "a progress note needs a comment"
        raise ValidationError(msg)
    with store.write() as conn:
        row = store.action_row(conn, action_id)
        access.check_may_act_on_action(actor, row.id, row.responsible, row.shared, comment_only=True)
        store.insert_status_events(conn, [event("action", action_id, actor, row.status, row.status, comment)])
        store.update_action(conn, action_id, {})
        store.audit("progress", actor, "action", int(action_id), conn=conn)


# --- routing ---------------------------------------------------------------------------------------------

def set_route(store: Store, category: str | None, area_id: int | None, party: str,
              actor: Viewer | None = None) -> None:
    """Route ``category`` (None: any) in ``area_id`` (None: any) to ``party``; replaces an existing row."""
    access.check_may_administer(actor, "edits the routing")
    if category is not None:
        schema.require_key("category", category, "category")
    schema.require_key("party", party, "responsible party")
    with store.write() as conn:
        if area_id is not None and not store.area_exists(conn, area_id):
            msg = f"no area with id {area_id}"
            raise NotFoundError(msg)
        store.replace_route(conn, category, area_id, party)
        store.audit("routing", actor, None, None, {"category": category, "area_id": area_id, "party": party},
                    conn=conn)


def delete_route(store: Store, category: str | None, area_id: int | None, actor: Viewer | None = None) -> bool:
    """Remove one routing row; True if there was one."""
    access.check_may_administer(actor, "edits the routing")
    with store.write() as conn:
        removed = store.delete_route_row(conn, category, area_id)
        store.audit("routing_delete", actor, None, None, {"category": category, "area_id": area_id}, conn=conn)
    return removed


def seed_default_routing(store: Store, actor: Viewer | None = None, *, restore: bool = False) -> int:
    """Write ``routing.DEFAULT_ROUTING`` (one any-area row per category) where a category has none.

    Runs once per database (``trygghetskarta init``): afterwards the table belongs to the administrator, so
    a row they deleted is not written again. ``restore`` (an administrator's choice) fills in the missing
    defaults again; rows the administrator changed are never overwritten. Returns the rows written."""
    access.check_may_administer(actor, "edits the routing")
    if not restore and store.get_meta("routing_defaults") is not None:
        return 0
    with store.write() as conn:
        rows = routing.default_routes_missing(store.any_area_route_categories(conn))
        store.insert_routes(conn, rows)
        store.set_meta("routing_defaults", "1", conn=conn)
        if rows:
            store.audit("routing_defaults", actor, None, None, {"rows": len(rows)}, conn=conn)
    return len(rows)


def propose_party(store: Store, category: str, area_id: int | None = None) -> str:
    """The responsible party the routing proposes (category+area > category > area > default > okand)."""
    return routing.party_from_routing(store.routing_table(), category, area_id)


# --- admin settings --------------------------------------------------------------------------------------

def set_app_setting(store: Store, key: str, value: Any, actor: Viewer | None = None) -> None:
    """Save a setting (any JSON-serialisable value); administrators only."""
    access.check_may_administer(actor, "changes settings")
    if not key or len(key) > 100:
        msg = f"a setting key must be 1-100 characters, got {key!r}"
        raise ValidationError(msg)
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except TypeError as exc:
        msg = f"setting {key!r} cannot be saved: {exc}"
        raise ValidationError(msg) from None
    with store.write() as conn:
        store.write_app_setting(conn, key, text, actor_name(actor))
        store.audit("setting", actor, None, None, {"key": key}, conn=conn)


# --- follow-up at the next walk --------------------------------------------------------------------------

def followup_checklist(store: Store, area_id: int, walk_id: int, viewer: Viewer | None = None) -> pd.DataFrame:
    """The findings a walk in ``area_id`` checks: open and fixed-but-unverified findings lying in the area
    (its neighbourhoods included), reported before the walk and not on it, safe places left out; fixed
    ones first. Every such finding is returned (no cut). Findings already answered at this walk stay on
    the list (whatever their status now) with the answer. Columns: finding fields + ``action_id`` (the
    latest linked action), ``action_what``, ``action_planned_date``, ``action_deadline``,
    ``followup_fixed``, ``followup_safer``, ``followup_by`` (the latest answer at this walk, else NA)."""
    started = store.walk_started_at(walk_id)
    areas = store.areas()
    if not (areas["id"] == int(area_id)).any():
        msg = f"no area with id {area_id}"
        raise NotFoundError(msg)
    # The one area rule (trygghetskarta.areas): a locality's walk checks its neighbourhoods' findings too;
    # read in SQL by the findings' smallest area, never the whole table.
    in_area = areas_rule.nesting(areas).expand([int(area_id)])
    statuses = sorted(schema.OPEN_STATUSES | {"atgardad"})
    answers = store.followups(walk_id=int(walk_id)).drop_duplicates("finding_id", keep="last")
    answered = set(answers["finding_id"].astype(int))
    found = store.read("finding", viewer, statuses=statuses, area_ids=in_area)
    if answered:
        extra = store.read("finding", viewer, ids=sorted(answered), area_ids=in_area)
        found = pd.concat([found, extra[~extra["id"].isin(found["id"])]], ignore_index=True)
    keep = ~found["positive"].astype(bool)
    keep &= (found["reported_at"] < pd.Timestamp(started)) & (
        found["walk_id"].astype("Float64").fillna(-1) != int(walk_id))
    found = found[keep.to_numpy(dtype=bool)].copy()
    _with_actions(store, found, viewer)
    by_id = answers.set_index("finding_id")
    found["followup_fixed"] = found["id"].map(by_id["fixed"]).astype(object)
    found["followup_safer"] = found["id"].map(by_id["feels_safer"]).astype(object)
    found["followup_by"] = found["id"].map(by_id["by"]).astype(object)
    # an answered finding keeps its place (by its status before the answer), so a card does not jump
    before = (found["id"].map(by_id["from_status"]).astype(object) if len(answers)
              else pd.Series(None, index=found.index, dtype=object))
    found["_o"] = before.where(before.notna(), found["status"].astype(object)).map(lifecycle.FOLLOWUP_ORDER).fillna(5)
    return found.sort_values(["_o", "reported_at", "id"]).drop(columns="_o").reset_index(drop=True)


def _with_actions(store: Store, found: pd.DataFrame, viewer: Viewer | None) -> None:
    """Add each finding's latest action (id, what, planned date, deadline) as the reader may see it."""
    links = store.action_finding_ids()
    latest = links.groupby("finding_id")["action_id"].max() if not links.empty else pd.Series(dtype="int64")
    found["action_id"] = found["id"].map(latest).astype("Int64")
    ids = [int(a) for a in found["action_id"].dropna().unique()]
    # the actions the checklist's reader may see (a narrower audience's action text is never shown)
    acts = store.read("action", viewer, ids=ids) if ids else pd.DataFrame(columns=["id", "what", "planned_date"])
    acts = acts.set_index("id")
    for col, src in (("action_what", "what"), ("action_planned_date", "planned_date"),
                     ("action_deadline", "deadline")):
        values = acts[src] if src in acts else pd.Series(dtype=object)
        found[col] = found["action_id"].map(lambda a, v=values: v.get(int(a)) if pd.notna(a) else None)


def record_followup(store: Store, finding_id: int, walk_id: int, fixed: bool, feels_safer: bool | None,
                    actor: Viewer | None = None, comment: str = "") -> str:
    """Record a walk's check of a finding: fixed → ``verifierad``; not fixed → reopened to ``tilldelad``.

    The answer is kept as a ``followup`` event; linked actions get ``verified_walk_id`` (fixed) or go
    back from ``klar`` to ``pagar`` (not fixed). Returns the finding's new status.
    """
    access.check_may_answer_followup(actor)
    if not isinstance(fixed, bool) or not (feels_safer is None or isinstance(feels_safer, bool)):
        msg = "fixed must be true/false and feels_safer true/false or empty"
        raise ValidationError(msg)
    with deferred_view_audit():  # a check that the finding exists for the actor, not a view to audit
        hidden = not access.is_planner(actor) and store.read("finding", actor, ids=[int(finding_id)]).empty
    if hidden:
        msg = f"Fynd nr {finding_id} finns inte eller syns inte för dig."
        raise NotFoundError(msg)
    note = lifecycle.followup_note(walk_id, fixed, feels_safer, comment)
    with store.write() as conn:
        store.walk_started_at(walk_id, conn=conn)
        if not access.is_planner(actor) and not store.is_participant(walk_id, actor.username, conn=conn):  # type: ignore[union-attr]
            # Participants answer on their phones during the walk; only those who take part in it.
            msg = f"Bara deltagare i vandring nr {walk_id} svarar på dess uppföljning; gå med i vandringen först."
            raise PermissionDeniedError(msg, msgid=N_("followup_refused"), walk=walk_id)
        row = store.finding_state(conn, finding_id)
        outcome = lifecycle.followup_outcome(int(finding_id), row.status, row.responsible, fixed)
        if outcome.moves:
            party = routing.party_from_routing(store.routing_table(), row.category, row.area_id) \
                if outcome.needs_party else None
            transition_in(store, conn, int(finding_id), outcome.status, actor, note, responsible=party, force=True)
        else:
            # Still open: the status and its dates stay; the answer is an event on the finding (a transition
            # to the same status would ask a planned finding for a new date).
            store.insert_status_events(conn, [event("finding", finding_id, actor, row.status, row.status, note)])
        store.insert_status_events(conn, [event(
            schema.FOLLOWUP_EVENT, finding_id, actor, row.status, outcome.status, scrub=False,
            comment=json.dumps({"walk_id": int(walk_id), "fixed": fixed, "feels_safer": feels_safer,
                                "comment": scrub_text(comment).text}, ensure_ascii=False))])
        for aid, a_status in store.actions_of_finding(conn, finding_id):
            if fixed:
                store.update_action(conn, aid, {"verified_walk_id": int(walk_id)})
            elif a_status == "klar" and outcome.reopens_actions:
                store.update_action(conn, aid, {"status": "pagar", "done_date": None})
                store.insert_status_events(conn, [event("action", aid, actor, "klar", "pagar", note, scrub=False)])
        store.audit("followup", actor, "finding", int(finding_id), {"walk_id": int(walk_id), "fixed": fixed},
                    conn=conn)
    return outcome.status
