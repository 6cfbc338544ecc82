"""The lifecycles of findings and actions: which moves are allowed, what a move needs and what it changes.

Pure rules over plain values (the vocabulary is ``schema.STATUS_TRANSITIONS`` and
``schema.ACTION_TRANSITIONS``); the services (``workflow``, ``actions``) apply them inside a write
transaction, the store only writes the result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from trygghetskarta import schema
from trygghetskarta.errors import ValidationError
from trygghetskarta.timeutil import date_from_value


def check_finding_transition(finding_id: int, from_status: str, to_status: str, *, responsible: str | None,
                             current_party: str | None, due_date: dt.date | None, comment: str,
                             duplicate_of: int | None, force: bool = False) -> None:
    """Raise ``ValidationError`` unless a finding may move ``from_status`` → ``to_status`` with these values.

    ``force`` allows a move outside the normal transitions (a reopen or a confirmation at a follow-up walk);
    what a status needs (a party, a date, a reason, the original) is required all the same."""
    schema.require_key("status", to_status, "status")
    allowed = schema.STATUS_TRANSITIONS[from_status]
    if to_status != from_status and to_status not in allowed and not force:
        msg = (f"finding {finding_id} cannot go from {from_status} to {to_status}; "
               f"allowed next: {', '.join(sorted(allowed))}")
        raise ValidationError(msg)
    if to_status == "tilldelad" and not (responsible or current_party):
        msg = f"finding {finding_id}: set a responsible party to assign it"
        raise ValidationError(msg)
    if to_status == "planerad" and due_date is None:
        msg = f"finding {finding_id}: a planned finding needs a date"
        raise ValidationError(msg)
    if to_status == "ej_atgardas" and not comment.strip():
        msg = f"finding {finding_id}: say why it will not be fixed"
        raise ValidationError(msg)
    if to_status == "dubblett" and duplicate_of is None:
        msg = f"finding {finding_id}: name the finding it duplicates"
        raise ValidationError(msg)


def check_actionable(findings: list[tuple[int, str]]) -> None:
    """Raise unless every ``(id, status)`` may take a new action (not fixed, verified or a duplicate)."""
    closed = [f"{fid} ({status})" for fid, status in findings if status not in schema.ACTIONABLE_STATUSES]
    if closed:
        msg = f"Fynd som redan är åtgärdade, verifierade eller dubbletter får ingen ny åtgärd: {', '.join(closed)}"
        raise ValidationError(msg)


def keeps_status_on_new_action(status: str) -> bool:
    """A finding already assigned or planned keeps its status when a new action takes it (only the party
    changes); the others are assigned (``tilldelad``)."""
    return status in ("tilldelad", "planerad")


def check_action_values(what: str, responsible: str, kind: str, priority: int) -> None:
    """The fields a new action must have."""
    if not str(what or "").strip():
        msg = "Skriv vad som ska göras."
        raise ValidationError(msg)
    schema.require_key("party", responsible, "responsible party")
    schema.require_key("action_kind", kind, "action kind")
    if priority not in (1, 2, 3):
        msg = f"priority must be 1, 2 or 3, got {priority!r}"
        raise ValidationError(msg)


def action_status_values(action_id: int, from_status: str, to_status: str, comment: str,
                         done_date: dt.date | None, today: dt.date) -> dict[str, Any]:
    """The columns an action's move ``from_status`` → ``to_status`` sets; raises when the move is not allowed.

    ``klar`` sets the done date (``done_date``, else ``today``); leaving ``klar`` clears it; ``stangd`` (closed
    without action) needs a reason."""
    schema.require_key("action_status", to_status, "action status")
    allowed = schema.ACTION_TRANSITIONS[from_status]
    if to_status != from_status and to_status not in allowed:
        msg = (f"action {action_id} cannot go from {from_status} to {to_status}; "
               f"allowed next: {', '.join(sorted(allowed))}")
        raise ValidationError(msg)
    if to_status == "stangd" and not comment.strip():
        msg = f"action {action_id}: say why it is closed without action"
        raise ValidationError(msg)
    values: dict[str, Any] = {"status": to_status}
    if to_status == "klar":
        values["done_date"] = done_date or today
    elif from_status == "klar":
        values["done_date"] = None
    return values


def fixes_finding(status: str) -> bool:
    """Whether a finding in ``status`` becomes ``atgardad`` when its action is done."""
    return "atgardad" in schema.STATUS_TRANSITIONS[status]


@dataclass(frozen=True)
class FollowupOutcome:
    """What a follow-up answer does to a finding: its new status, whether the status moves (else the answer is
    only an event) and whether a party must be proposed (a reopened finding that has none)."""

    status: str
    moves: bool
    needs_party: bool
    reopens_actions: bool


def followup_outcome(finding_id: int, status: str, party: str | None, fixed: bool) -> FollowupOutcome:
    """The follow-up rule: fixed → ``verifierad`` (a walk may confirm a fix nobody reported); not fixed and
    fixed before → reopened to ``tilldelad`` (with the routing's party if it has none) and its done actions
    back to ``pagar``; still open → the status and its dates stay. Duplicates and findings that will not be
    fixed are not followed up."""
    if status in ("dubblett", "ej_atgardas"):
        msg = f"Fynd nr {finding_id} har status {schema.label('status', status)} och följs inte upp."
        raise ValidationError(msg)
    if fixed:
        return FollowupOutcome("verifierad", moves=True, needs_party=False, reopens_actions=False)
    if status in schema.FIXED_STATUSES:
        return FollowupOutcome("tilldelad", moves=True, needs_party=not party, reopens_actions=True)
    return FollowupOutcome(status, moves=False, needs_party=False, reopens_actions=True)


def followup_note(walk_id: int, fixed: bool, feels_safer: bool | None, comment: str) -> str:
    """The event text of a follow-up answer, in Swedish (the protocol shows it)."""
    safer = {True: "ja", False: "nej", None: "–"}[feels_safer]
    return (f"uppföljning vid vandring {walk_id}: {'åtgärdat' if fixed else 'inte åtgärdat'}, "
            f"känns tryggare: {safer}" + (f". {comment.strip()}" if comment.strip() else ""))


# The order of a follow-up checklist: fixed findings first (the walk checks them), then by how far along.
FOLLOWUP_ORDER = {"atgardad": 0, "planerad": 1, "tilldelad": 2, "bedomd": 3, "ny": 4}


# --- due dates ----------------------------------------------------------------------------------------

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
    today = date_from_value(today, "today", allow_datetime=False)
    if actions.empty:
        return pd.Series(dtype=bool, index=actions.index)
    for col in ("planned_date", "status"):
        if col not in actions:
            msg = f"actions lack column {col!r}"
            raise ValidationError(msg)
    due = due_dates_from_actions(actions)
    open_ = ~actions["status"].astype(str).isin(schema.ACTION_DONE_STATUSES)
    return ((due < pd.Timestamp(today)) & open_).fillna(False).astype(bool)
