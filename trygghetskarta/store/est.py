"""The store side of the EST weekly reports and the EST meeting's decisions: queries only.

The rules (vocabulary, who may submit or review, the status transitions) live in ``schema``/``access`` and the
service ``trygghetskarta.est_reports``, which opens the write transaction (``store.write()``) and passes its
connection to the writers here. Reads take the requesting viewer and return only what it may see
(``access.est_report_policy``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trygghetskarta import access, schema
from trygghetskarta.access import Viewer
from trygghetskarta.errors import PermissionDeniedError
from trygghetskarta.store import tables as t
from trygghetskarta.store.core import StoreCore

REPORT_COLUMNS = ("id", "organisation", "week", "week_start", "week_end", "status", "source", "file_name",
                  "comment", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at", "reason")
LINE_COLUMNS = ("id", "report_id", "organisation", "area_id", "period_start", "period_end", "category", "type",
                "count", "occurred_at", "place", "lon", "lat", "comment", "external_id")
DECISION_COLUMNS = ("id", "week", "priority", "area_id", "place", "decision", "owner", "due_date", "status",
                    "followup", "followed_up_at", "followed_up_by", "created_by", "created_at")

# The EST meeting's decisions are its shared output: the kommun's own roles and every partner read them.
_DECISION_READERS = schema.EST_READER_ROLES


def _readable(viewer: Viewer | None) -> access.EstReportPolicy:
    policy = access.est_report_policy(viewer)
    if policy.read == "none":
        msg = f"role {viewer.role if viewer else 'admin'} may not read the weekly EST reports"
        raise PermissionDeniedError(msg)
    return policy


class EstMixin(StoreCore):
    """Weekly EST reports (``est_reports`` + their lines in ``partner_reports``) and EST decisions."""

    # --- reads -----------------------------------------------------------------------------------------

    def est_reports(self, viewer: Viewer | None = None, *, weeks: Sequence[str] | None = None,
                    statuses: Sequence[str] | None = None, organisations: Sequence[str] | None = None,
                    ids: Sequence[int] | None = None) -> pd.DataFrame:
        """Reports the viewer may see, newest week first, with ``lines`` (rows) and ``total`` (sum of counts)."""
        policy = _readable(viewer)
        r, pr = t.est_reports, t.partner_reports
        lines = (sa.select(pr.c.report_id, sa.func.count().label("lines"),
                           sa.func.coalesce(sa.func.sum(pr.c["count"]), 0).label("total"))
                 .where(pr.c.report_id.is_not(None)).group_by(pr.c.report_id).subquery())
        q = (sa.select(*(r.c[c] for c in REPORT_COLUMNS), sa.func.coalesce(lines.c.lines, 0).label("lines"),
                       sa.func.coalesce(lines.c.total, 0).label("total"))
             .select_from(r.outerjoin(lines, lines.c.report_id == r.c.id)))
        if policy.read == "own_org":
            q = q.where(r.c.organisation.in_(sorted(policy.organisations or ())))
        if weeks is not None:
            q = q.where(r.c.week.in_(list(weeks)))
        if statuses is not None:
            q = q.where(r.c.status.in_(list(statuses)))
        if organisations is not None:
            q = q.where(r.c.organisation.in_(list(organisations)))
        if ids is not None:
            q = q.where(r.c.id.in_([int(i) for i in ids]))
        with self.read_conn() as conn:
            rows = conn.execute(q.order_by(r.c.week_start.desc(), r.c.id)).all()
        frame = pd.DataFrame(rows, columns=[*REPORT_COLUMNS, "lines", "total"])
        for c in ("id", "lines", "total"):
            frame[c] = frame[c].astype("int64")
        return frame

    def est_report_lines(self, viewer: Viewer | None = None, report_ids: Iterable[int] | None = None,
                         conn: Connection | None = None) -> pd.DataFrame:
        """The lines of the given reports (all visible reports when None), in entry order."""
        policy = _readable(viewer)
        pr, r = t.partner_reports, t.est_reports
        q = (sa.select(*(pr.c[c] for c in LINE_COLUMNS))
             .select_from(pr.join(r, r.c.id == pr.c.report_id)))
        if report_ids is not None:
            q = q.where(pr.c.report_id.in_([int(i) for i in report_ids]))
        if policy.read == "own_org":
            q = q.where(r.c.organisation.in_(sorted(policy.organisations or ())))
        q = q.order_by(pr.c.report_id, pr.c.id)
        if conn is not None:
            rows = conn.execute(q).all()
        else:
            with self.read_conn() as c:
                rows = c.execute(q).all()
        frame = pd.DataFrame(rows, columns=list(LINE_COLUMNS))
        frame["area_id"] = frame["area_id"].astype("Int64")
        frame["count"] = frame["count"].astype("int64")
        return frame

    def est_present_external_ids(self, external_ids: Iterable[str], conn: Connection | None = None) -> set[str]:
        """Which of these line external ids are already stored (a re-import adds nothing)."""
        wanted = sorted({str(x) for x in external_ids if x})
        found: set[str] = set()
        pr = t.partner_reports

        def run(c: Connection) -> None:
            for i in range(0, len(wanted), 900):
                chunk = wanted[i:i + 900]
                found.update(str(x) for x in c.execute(
                    sa.select(pr.c.external_id).where(pr.c.external_id.in_(chunk))).scalars())

        if conn is not None:
            run(conn)
        else:
            with self.read_conn() as c:
                run(c)
        return found

    def est_report_of_line(self, external_id: str) -> int | None:
        """The report holding the line with this external id (a form's client id), if stored."""
        pr = t.partner_reports
        with self.read_conn() as conn:
            found = conn.execute(sa.select(pr.c.report_id).where(pr.c.external_id == str(external_id))).scalar()
        return None if found is None else int(found)

    def est_reporting_users(self) -> pd.DataFrame:
        """Active users with an organisation: username, role, organisation (who is expected to report)."""
        u = t.users
        with self.read_conn() as conn:
            rows = conn.execute(sa.select(u.c.username, u.c.role, u.c.organisation).where(
                u.c.active.is_(True), u.c.organisation.is_not(None)).order_by(u.c.organisation, u.c.username)).all()
        return pd.DataFrame(rows, columns=["username", "role", "organisation"])

    # --- writes (inside the service's transaction) ------------------------------------------------------

    def est_report_for_update(self, conn: Connection, report_id: int) -> dict[str, Any] | None:
        """One report row, locked for the rest of the transaction (PostgreSQL; SQLite holds the write lock)."""
        q = sa.select(*(t.est_reports.c[c] for c in REPORT_COLUMNS)).where(t.est_reports.c.id == int(report_id))
        if self.backend == "postgresql":
            q = q.with_for_update()
        row = conn.execute(q).mappings().first()
        return dict(row) if row is not None else None

    def est_insert_report(self, conn: Connection, values: dict[str, Any]) -> int:
        return int(conn.execute(sa.insert(t.est_reports).values(**values).returning(t.est_reports.c.id)).scalar_one())

    def est_update_report(self, conn: Connection, report_id: int, values: dict[str, Any]) -> None:
        conn.execute(sa.update(t.est_reports).where(t.est_reports.c.id == int(report_id)).values(**values))

    def est_insert_lines(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(sa.insert(t.partner_reports), rows)

    def est_delete_lines(self, conn: Connection, report_id: int) -> None:
        conn.execute(sa.delete(t.partner_reports).where(t.partner_reports.c.report_id == int(report_id)))

    def est_status_event(self, conn: Connection, report_id: int, by: str, from_status: str | None,
                         to_status: str, comment: str, at: Any) -> None:
        conn.execute(sa.insert(t.status_events), [{
            "kind": "est_report", "record_id": int(report_id), "at": at, "by": by, "from_status": from_status,
            "to_status": to_status, "comment": comment}])

    def est_report_events(self, report_id: int) -> pd.DataFrame:
        """The review history of one report (who, when, from, to, comment)."""
        se = t.status_events
        with self.read_conn() as conn:
            rows = conn.execute(sa.select(se.c.at, se.c.by, se.c.from_status, se.c.to_status, se.c.comment).where(
                se.c.kind == "est_report", se.c.record_id == int(report_id)).order_by(se.c.at, se.c.id)).all()
        return pd.DataFrame(rows, columns=["at", "by", "from_status", "to_status", "comment"])

    # --- the EST meeting's decisions ---------------------------------------------------------------------

    def est_decisions(self, viewer: Viewer | None = None, weeks: Sequence[str] | None = None) -> pd.DataFrame:
        """Decisions (beslut om insats) of the given weeks, in priority order. Planners, admins and partners
        read them (they are the meeting's shared output)."""
        if viewer is not None and viewer.role not in _DECISION_READERS:
            msg = f"role {viewer.role} may not read the EST decisions"
            raise PermissionDeniedError(msg)
        d = t.est_decisions
        q = sa.select(*(d.c[c] for c in DECISION_COLUMNS))
        if weeks is not None:
            q = q.where(d.c.week.in_(list(weeks)))
        with self.read_conn() as conn:
            rows = conn.execute(q.order_by(d.c.week, d.c.priority, d.c.id)).all()
        frame = pd.DataFrame(rows, columns=list(DECISION_COLUMNS))
        frame["area_id"] = frame["area_id"].astype("Int64")
        return frame

    def est_decision_for_update(self, conn: Connection, decision_id: int) -> dict[str, Any] | None:
        q = sa.select(*(t.est_decisions.c[c] for c in DECISION_COLUMNS)).where(
            t.est_decisions.c.id == int(decision_id))
        if self.backend == "postgresql":
            q = q.with_for_update()
        row = conn.execute(q).mappings().first()
        return dict(row) if row is not None else None

    def est_insert_decision(self, conn: Connection, values: dict[str, Any]) -> int:
        q = sa.insert(t.est_decisions).values(**values).returning(t.est_decisions.c.id)
        return int(conn.execute(q).scalar_one())

    def est_shift_priorities(self, conn: Connection, week: str, from_priority: int) -> None:
        """Move the week's decisions at ``from_priority`` and below one step down (to make room)."""
        d = t.est_decisions
        conn.execute(sa.update(d).where(d.c.week == week, d.c.priority >= int(from_priority)).values(
            priority=d.c.priority + 1))

    def est_update_decision(self, conn: Connection, decision_id: int, values: dict[str, Any]) -> None:
        conn.execute(sa.update(t.est_decisions).where(t.est_decisions.c.id == int(decision_id)).values(**values))
