"""Moving a finding through its lifecycle: the service that checks who may (``access``) and which move is
allowed (``lifecycle``), then writes the new status, its event and the audit in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from trygghetskarta import access, lifecycle, schema
from trygghetskarta.scrub import scrub_text
from trygghetskarta.store.actions import actor_name
from trygghetskarta.timeutil import now_utc

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from trygghetskarta.access import Viewer
    from trygghetskarta.store import Store


def change_status(store: Store, finding_id: int, to_status: str, actor: Viewer | None = None, comment: str = "",
                  *, responsible: str | None = None, due_date: dt.date | None = None,
                  duplicate_of: int | None = None, at: dt.datetime | None = None,
                  allow_reopen: bool = False) -> None:
    """Move a finding to ``to_status`` along the lifecycle, recording who, when, from, to and why."""
    schema.require_key("status", to_status, "status")
    if responsible is not None:
        schema.require_key("party", responsible, "responsible party")
    with store.write() as conn:
        row = store.finding_status_row(conn, finding_id)
        access.check_may_change_finding(actor, row.responsible)
        transition_in(store, conn, finding_id, to_status, actor, comment, responsible=responsible,
                      due_date=due_date, duplicate_of=duplicate_of, at=at, force=allow_reopen)


def transition_in(store: Store, conn: Connection, finding_id: int, to_status: str, actor: Viewer | None = None,
                  comment: str = "", *, responsible: str | None = None, due_date: dt.date | None = None,
                  duplicate_of: int | None = None, at: dt.datetime | None = None, force: bool = False) -> str:
    """The lifecycle rules and the event, inside the caller's transaction; returns the previous status.

    ``force`` allows a move outside the normal transitions (a reopen at a follow-up walk)."""
    from_status, current_party = store.finding_status_row(conn, finding_id)
    lifecycle.check_finding_transition(finding_id, from_status, to_status, responsible=responsible,
                                       current_party=current_party, due_date=due_date, comment=comment,
                                       duplicate_of=duplicate_of, force=force)
    values: dict[str, Any] = {"status": to_status}
    if responsible is not None:
        values["responsible"] = responsible
    if due_date is not None:
        values["due_date"] = due_date
    if duplicate_of is not None:
        values["duplicate_of"] = int(duplicate_of)
    store.update_findings(conn, [int(finding_id)], values)
    store.insert_status_events(conn, [event("finding", finding_id, actor, from_status, to_status, comment, at=at)])
    store.audit("status", actor, "finding", int(finding_id), {"from": from_status, "to": to_status}, conn=conn)
    return str(from_status)


def event(kind: str, record_id: int, actor: Viewer | None, from_status: str | None, to_status: str,
          comment: str = "", *, at: dt.datetime | None = None, scrub: bool = True) -> dict[str, Any]:
    """A status event row: who (``actor``), when (``at``, else now), from, to and the (scrubbed) comment."""
    return {"kind": kind, "record_id": int(record_id), "at": at or now_utc(), "by": actor_name(actor),
            "from_status": from_status, "to_status": to_status,
            "comment": scrub_text(comment).text if scrub else comment}
