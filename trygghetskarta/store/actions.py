"""The store side of the EST cycle: actions, routing, admin settings, partner EST lines, further reports on
a finding and follow-ups. Queries, and writers that take the caller's connection.

The rules (who may, which move is allowed, who becomes responsible) live in ``access``, ``lifecycle`` and
``routing``; the services ``trygghetskarta.actions`` and ``trygghetskarta.workflow`` open the write
transaction (``store.write()``), apply them and pass the connection to the writers here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trygghetskarta import access, schema
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError, ValidationError
from trygghetskarta.store import tables as t
from trygghetskarta.store.workflow import WorkflowMixin
from trygghetskarta.timeutil import now_utc


def actor_name(actor: Viewer | None) -> str:
    """Who an event names: the user, or the local administrator (CLI, scripts)."""
    return actor.username if actor else "admin (lokal)"


_EVENT_KINDS = frozenset(schema.RECORD_KIND) | {schema.FOLLOWUP_EVENT, schema.REPORT_EVENT, "est_report"}


class ActionsMixin(WorkflowMixin):
    """Actions, routing, settings, partner EST lines, further reports and follow-ups."""

    # --- status events --------------------------------------------------------------------------------

    def insert_status_events(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Append status events (kind, record_id, at, by, from_status, to_status, comment) in the caller's
        transaction; an unknown kind or a naive time is refused before anything is written."""
        for n, r in enumerate(rows, start=1):
            if r["kind"] not in _EVENT_KINDS:
                msg = f"status event {n}: unknown kind {r['kind']!r}"
                raise ValidationError(msg)
            if not isinstance(r["at"], dt.datetime) or r["at"].tzinfo is None:
                msg = f"status event {n}: the time {r['at']!r} has no time zone"
                raise ValidationError(msg)
        if rows:
            conn.execute(sa.insert(t.status_events), [dict(r) for r in rows])

    def event_count(self, conn: Connection, record_ids: Sequence[int], kind: str = "finding") -> int:
        """How many events of ``kind`` the records have (the demo checks it before writing a history)."""
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.status_events).where(
            t.status_events.c.kind == kind,
            t.status_events.c.record_id.in_([int(i) for i in record_ids]))).scalar() or 0)

    # --- actions ---------------------------------------------------------------------------------------

    def findings_for_action(self, conn: Connection, finding_ids: Sequence[int]) -> list[Any]:
        """The rows (id, status, walk_id, area_id, lon, lat) of the findings, by id; every id must exist."""
        ids = sorted({int(i) for i in finding_ids})
        found = conn.execute(sa.select(t.findings.c.id, t.findings.c.status, t.findings.c.walk_id,
                                       t.findings.c.area_id, t.findings.c.lon, t.findings.c.lat).where(
            t.findings.c.id.in_(ids)).order_by(t.findings.c.id)).all()
        missing = sorted(set(ids) - {int(r.id) for r in found})
        if missing:
            msg = f"no finding with id {', '.join(map(str, missing))}"
            raise NotFoundError(msg)
        return list(found)

    def insert_actions(self, conn: Connection, rows: Sequence[dict[str, Any]],
                       finding_ids: Sequence[Sequence[int]]) -> list[int]:
        """Write actions (the columns of ``tables.actions``) and link each to its findings; returns the ids.

        Vocabulary (party, kind, status, priority) is checked for every row before the first is written."""
        for n, r in enumerate(rows, start=1):
            where = f"action {n}"
            schema.require_key("party", r["responsible"], f"{where}: responsible party")
            schema.require_key("action_kind", r["kind"], f"{where}: action kind")
            schema.require_key("action_status", r["status"], f"{where}: action status")
            if r["priority"] not in (1, 2, 3):
                msg = f"{where}: priority must be 1, 2 or 3, got {r['priority']!r}"
                raise ValidationError(msg)
        ids = []
        for r, links in zip(rows, finding_ids, strict=True):
            values = {"audience": "partner", "geom": None, "done_date": None, **r}
            action_id = int(conn.execute(sa.insert(t.actions).values(**values).returning(t.actions.c.id)).scalar_one())
            if links:
                conn.execute(sa.insert(t.action_findings),
                             [{"action_id": action_id, "finding_id": int(i)} for i in links])
            ids.append(action_id)
        return ids

    def action_ids_by_external_id(self, conn: Connection, external_ids: Sequence[str]) -> set[str]:
        """The external ids among ``external_ids`` that an action already has."""
        return set(conn.execute(sa.select(t.actions.c.external_id).where(
            t.actions.c.external_id.in_(list(external_ids)))).scalars())

    def update_findings(self, conn: Connection, finding_ids: Sequence[int], values: dict[str, Any], *,
                        only_without_due_date: bool = False) -> None:
        """Set columns of findings (``updated_at`` too) in the caller's transaction."""
        q = sa.update(t.findings).where(t.findings.c.id.in_([int(i) for i in finding_ids]))
        if only_without_due_date:
            q = q.where(t.findings.c.due_date.is_(None))
        conn.execute(q.values(**values, updated_at=now_utc()))

    def action_row(self, conn: Connection, action_id: int) -> Any:
        """One action's row; ``NotFoundError`` when there is none."""
        row = conn.execute(sa.select(t.actions).where(t.actions.c.id == int(action_id))).first()
        if row is None:
            msg = f"no action with id {action_id}"
            raise NotFoundError(msg)
        return row

    def update_action(self, conn: Connection, action_id: int, values: dict[str, Any]) -> None:
        """Set columns of one action (``updated_at`` too) in the caller's transaction."""
        conn.execute(sa.update(t.actions).where(t.actions.c.id == int(action_id)).values(
            **values, updated_at=now_utc()))

    def linked_findings(self, conn: Connection, action_id: int) -> list[tuple[int, str]]:
        """``(finding id, status)`` of an action's findings."""
        return [(int(i), str(s)) for i, s in conn.execute(sa.select(t.findings.c.id, t.findings.c.status).join(
            t.action_findings, t.action_findings.c.finding_id == t.findings.c.id).where(
            t.action_findings.c.action_id == int(action_id))).all()]

    def actions_of_finding(self, conn: Connection, finding_id: int) -> list[tuple[int, str]]:
        """``(action id, status)`` of the actions a finding belongs to."""
        return [(int(i), str(s)) for i, s in conn.execute(sa.select(t.actions.c.id, t.actions.c.status).join(
            t.action_findings, t.action_findings.c.action_id == t.actions.c.id).where(
            t.action_findings.c.finding_id == int(finding_id))).all()]

    def action_finding_ids(self, action_ids: Sequence[int] | None = None) -> pd.DataFrame:
        """Links between actions and findings (``action_id``, ``finding_id``); all links without ids."""
        q = sa.select(t.action_findings.c.action_id, t.action_findings.c.finding_id)
        if action_ids is not None:
            q = q.where(t.action_findings.c.action_id.in_([int(i) for i in action_ids]))
        with self.read_conn() as conn:
            rows = conn.execute(q.order_by(t.action_findings.c.action_id, t.action_findings.c.finding_id)).all()
        return pd.DataFrame(rows, columns=["action_id", "finding_id"]).astype("int64")

    def events_between(self, start: dt.datetime, end: dt.datetime,
                       kinds: Sequence[str] = ("finding", "action")) -> pd.DataFrame:
        """Status events of ``kinds`` with ``start <= at < end`` (aware datetimes), oldest first."""
        for bound in (start, end):
            if not isinstance(bound, dt.datetime) or bound.tzinfo is None:
                msg = f"events_between needs timezone-aware datetimes, got {bound!r}"
                raise ValidationError(msg)
        with self.read_conn() as conn:
            res = conn.execute(sa.select(t.status_events).where(
                t.status_events.c.kind.in_(list(kinds)), t.status_events.c.at >= start,
                t.status_events.c.at < end).order_by(t.status_events.c.at, t.status_events.c.id))
            frame = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        if not frame.empty:
            frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    # --- routing -------------------------------------------------------------------------------------

    def routing_table(self) -> pd.DataFrame:
        """The routing rows (``id``, ``category``, ``area_id``, ``party``); NULL means "any"."""
        with self.read_conn() as conn:
            rows = conn.execute(sa.select(t.routing).order_by(t.routing.c.id)).all()
        frame = pd.DataFrame(rows, columns=["id", "category", "area_id", "party"])
        frame["area_id"] = frame["area_id"].astype("Int64")
        frame["category"] = frame["category"].astype(object)
        return frame

    @staticmethod
    def _route_key(category: str | None, area_id: int | None) -> list[Any]:
        # NULLs are distinct in unique constraints on both backends, so "any" rows are matched with IS NULL.
        return [t.routing.c.category.is_(None) if category is None else t.routing.c.category == category,
                t.routing.c.area_id.is_(None) if area_id is None else t.routing.c.area_id == int(area_id)]

    def area_exists(self, conn: Connection, area_id: int) -> bool:
        return conn.execute(sa.select(t.areas.c.id).where(t.areas.c.id == int(area_id))).first() is not None

    def replace_route(self, conn: Connection, category: str | None, area_id: int | None, party: str) -> None:
        """The routing row for ``category`` × ``area_id`` (None: any) becomes ``party``."""
        conn.execute(sa.delete(t.routing).where(*self._route_key(category, area_id)))
        conn.execute(sa.insert(t.routing).values(category=category,
                                                 area_id=None if area_id is None else int(area_id), party=party))

    def delete_route_row(self, conn: Connection, category: str | None, area_id: int | None) -> bool:
        return bool(conn.execute(sa.delete(t.routing).where(*self._route_key(category, area_id))).rowcount)

    def any_area_route_categories(self, conn: Connection) -> set[str]:
        """The categories that have an any-area routing row."""
        return set(conn.execute(sa.select(t.routing.c.category).where(
            t.routing.c.area_id.is_(None), t.routing.c.category.is_not(None))).scalars().all())

    def insert_routes(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            conn.execute(sa.insert(t.routing), [dict(r) for r in rows])

    # --- admin settings --------------------------------------------------------------------------------

    def app_setting(self, key: str, default: Any = None) -> Any:
        """A setting an administrator saved (JSON value), else ``default``."""
        with self.read_conn() as conn:
            raw = conn.execute(sa.select(t.app_settings.c.value).where(t.app_settings.c.key == key)).scalar()
        return default if raw is None else json.loads(raw)

    def write_app_setting(self, conn: Connection, key: str, text: str, by: str) -> None:
        """Store one setting's JSON text in the caller's transaction."""
        conn.execute(sa.delete(t.app_settings).where(t.app_settings.c.key == key))
        conn.execute(sa.insert(t.app_settings).values(key=key, value=text, updated_by=by, updated_at=now_utc()))

    # --- partner EST lines -----------------------------------------------------------------------------

    def replace_partner_lines(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Write EST lines, replacing a line of the same organisation, area, period and type."""
        pr = t.partner_reports
        for r in rows:
            area_clause = pr.c.area_id.is_(None) if r["area_id"] is None else pr.c.area_id == r["area_id"]
            conn.execute(sa.delete(pr).where(pr.c.organisation == r["organisation"], area_clause,
                                             pr.c.period_start == r["period_start"],
                                             pr.c.period_end == r["period_end"], pr.c.type == r["type"]))
        if rows:
            conn.execute(sa.insert(pr), [dict(r) for r in rows])

    def partner_reports(self, viewer: Viewer | None = None, start: dt.date | None = None,
                        end: dt.date | None = None, area_ids: Sequence[int] | None = None,
                        statuses: Sequence[str] | None = None) -> pd.DataFrame:
        """EST report lines whose period starts within ``start``..``end`` (inclusive dates); ``statuses`` keeps
        the lines of reports with those review statuses (the lägesbild asks for approved ones only). A partner
        gets other organisations' lines without their comment and reporter."""
        access.check_may_read_partner_reports(viewer)
        pr, er = t.partner_reports, t.est_reports
        q = sa.select(pr.c.id, pr.c.organisation, pr.c.area_id, pr.c.period_start, pr.c.period_end, pr.c.type,
                      pr.c["count"], pr.c.comment, pr.c.reported_by, pr.c.category, pr.c.report_id)
        if statuses is not None:
            q = q.select_from(pr.join(er, er.c.id == pr.c.report_id)).where(er.c.status.in_(list(statuses)))
        if start is not None:
            q = q.where(pr.c.period_start >= start)
        if end is not None:
            q = q.where(pr.c.period_start <= end)
        if area_ids is not None:
            q = q.where(pr.c.area_id.in_([int(a) for a in area_ids]))
        with self.read_conn() as conn:
            rows = conn.execute(q.order_by(pr.c.period_start, pr.c.id)).all()
        frame = pd.DataFrame(rows, columns=["id", "organisation", "area_id", "period_start", "period_end", "type",
                                            "count", "comment", "reported_by", "category", "report_id"])
        frame["area_id"] = frame["area_id"].astype("Int64")
        frame["count"] = frame["count"].astype("int64")
        frame["report_id"] = frame["report_id"].astype("Int64")
        if access.hides_other_organisations(viewer):
            other = frame["organisation"] != (viewer.organisation or "")  # type: ignore[union-attr]
            frame.loc[other, "comment"] = ""
            frame.loc[other, "reported_by"] = None
        return frame

    # --- further reports on an existing finding ("lägg till på befintligt") ----------------------------

    def finding_state(self, conn: Connection, finding_id: int) -> Any:
        """(status, responsible, category, area_id, supporters) of one finding; ``NotFoundError`` if none."""
        f = t.findings
        row = conn.execute(sa.select(f.c.status, f.c.responsible, f.c.category, f.c.area_id, f.c.supporters).where(
            f.c.id == int(finding_id))).first()
        if row is None:
            msg = f"Fynd nr {finding_id} finns inte."
            raise NotFoundError(msg)
        return row

    def report_client_ids(self, conn: Connection, finding_id: int) -> set[str]:
        """The client ids of the further reports already added to a finding (a retry adds nothing)."""
        earlier = conn.execute(sa.select(t.status_events.c.comment).where(
            t.status_events.c.kind == schema.REPORT_EVENT,
            t.status_events.c.record_id == int(finding_id))).scalars().all()
        return {str(c) for c in (json.loads(raw or "{}").get("client_id") for raw in earlier) if c is not None}

    def count_supporter(self, conn: Connection, finding_id: int) -> int:
        """One more report of the same problem on a finding; returns its supporter count."""
        return int(conn.execute(sa.update(t.findings).where(t.findings.c.id == int(finding_id)).values(
            supporters=sa.func.coalesce(t.findings.c.supporters, 0) + 1, updated_at=now_utc()).returning(
            t.findings.c.supporters)).scalar_one())

    def finding_reports(self, finding_ids: Sequence[int]) -> pd.DataFrame:
        """The further reports added to findings (``finding_id``, ``at``, ``by``, ``description``,
        ``photo_ids``), oldest first."""
        se = t.status_events
        with self.read_conn() as conn:
            rows = conn.execute(sa.select(se.c.record_id, se.c.at, se.c.by, se.c.comment).where(
                se.c.kind == schema.REPORT_EVENT, se.c.record_id.in_([int(i) for i in finding_ids])).order_by(
                se.c.at, se.c.id)).all()
        out = []
        for fid, at, by, raw in rows:
            data = json.loads(raw or "{}")
            out.append({"finding_id": int(fid), "at": at, "by": by, "description": data.get("description", ""),
                        "photo_ids": list(data.get("photo_ids") or [])})
        frame = pd.DataFrame(out, columns=["finding_id", "at", "by", "description", "photo_ids"])
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    # --- follow-up at the next walk --------------------------------------------------------------------

    def walk_started_at(self, walk_id: int, conn: Connection | None = None) -> dt.datetime:
        """When a walk started; ``NotFoundError`` when there is no such walk."""
        def _get(c: Connection) -> Any:
            return c.execute(sa.select(t.walks.c.started_at).where(t.walks.c.id == int(walk_id))).scalar()

        if conn is not None:
            started = _get(conn)
        else:
            with self.read_conn() as c:
                started = _get(c)
        if started is None:
            msg = f"Vandring nr {walk_id} finns inte."
            raise NotFoundError(msg)
        return started  # type: ignore[no-any-return]

    def is_participant(self, walk_id: int, username: str, conn: Connection | None = None) -> bool:
        """Whether ``username`` takes part in the walk (``walk_participants``)."""
        q = sa.select(t.walk_participants.c.walk_id).where(t.walk_participants.c.walk_id == int(walk_id),
                                                           t.walk_participants.c.username == username)
        if conn is not None:
            return conn.execute(q).first() is not None
        with self.read_conn() as c:
            return c.execute(q).first() is not None

    def followups(self, finding_ids: Sequence[int] | None = None, walk_id: int | None = None) -> pd.DataFrame:
        """Recorded follow-ups: ``finding_id``, ``walk_id``, ``at``, ``by``, ``fixed``, ``feels_safer``,
        ``comment``, ``from_status``, ``to_status``; newest last."""
        se = t.status_events
        q = sa.select(se.c.record_id, se.c.at, se.c.by, se.c.from_status, se.c.to_status, se.c.comment).where(
            se.c.kind == schema.FOLLOWUP_EVENT)
        if finding_ids is not None:
            q = q.where(se.c.record_id.in_([int(i) for i in finding_ids]))
        with self.read_conn() as conn:
            rows = conn.execute(q.order_by(se.c.at, se.c.id)).all()
        out = []
        for fid, at, by, frm, to, raw in rows:
            data = json.loads(raw or "{}")
            if walk_id is not None and data.get("walk_id") != int(walk_id):
                continue
            out.append({"finding_id": int(fid), "walk_id": data.get("walk_id"), "at": at, "by": by,
                        "fixed": data.get("fixed"), "feels_safer": data.get("feels_safer"),
                        "comment": data.get("comment", ""), "from_status": frm, "to_status": to})
        frame = pd.DataFrame(out, columns=["finding_id", "walk_id", "at", "by", "fixed", "feels_safer", "comment",
                                           "from_status", "to_status"])
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame
