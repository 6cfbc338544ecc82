"""Actions (åtgärdslista), routing, admin settings, partner EST reports and the follow-up at the next walk.

Status changes of findings made here follow the same rules as ``WorkflowMixin.change_status`` (the
lifecycle in ``schema.STATUS_TRANSITIONS``, the same event row), but run inside the caller's transaction
so that an action and the status of its findings are written together or not at all.
A follow-up answer ("fixed? feels safer?") is stored as a ``status_events`` row of kind ``followup``
whose comment is JSON, next to the finding's own lifecycle event.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trygghetskarta import access, schema, settings
from trygghetskarta import areas as areas_rule
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, ValidationError
from trygghetskarta.scrub import scrub_text
from trygghetskarta.store import tables as t
from trygghetskarta.store.core import now_utc
from trygghetskarta.store.workflow import WorkflowMixin

# Action lifecycle: "klar" may be reopened to "pagar" (a follow-up walk found the place not fixed).
ACTION_TRANSITIONS: dict[str, frozenset[str]] = {
    "oppen": frozenset({"pagar", "klar", "stangd"}),
    "pagar": frozenset({"oppen", "klar", "stangd"}),
    "klar": frozenset({"pagar"}),
    "stangd": frozenset({"oppen"}),
}
_PLANNERS = frozenset({"planerare", "admin"})
# Roles that may read partner EST reports (the shared lägesbild's inputs).
_REPORT_READERS = frozenset({"faltgrupp", "planerare", "admin"}) | schema.PARTNER_ROLES
FOLLOWUP_KIND = "followup"
# Event kind of a further report added to an existing finding (its text and photos), next to "finding".
REPORT_KIND = "tillagg"


def _by(actor: Viewer | None) -> str:
    return actor.username if actor else "admin (lokal)"


def _optional_date(value: Any, what: str) -> dt.date | None:
    """``value`` as a date (None stays None); a datetime or text that is no date is refused."""
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        msg = f"{what} must be a date (YYYY-MM-DD), got {value!r}"
        raise ValidationError(msg)
    return value


def _local_today() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(settings.get("timezone"))).date()


class ActionsMixin(WorkflowMixin):
    """The SQL of the EST cycle's actions, routing, settings, partner reports and follow-ups."""

    # --- findings inside a transaction ------------------------------------------------------------

    def _finding_transition(self, conn: Connection, finding_id: int, to_status: str, actor: Viewer | None,
                            comment: str = "", *, responsible: str | None = None, force: bool = False,
                            at: dt.datetime | None = None) -> str:
        """Move one finding inside this transaction (the rules of ``transition_in``); returns its old status."""
        return self.transition_in(conn, finding_id, to_status, actor, comment, responsible=responsible, at=at,
                                  force=force)

    # --- actions -----------------------------------------------------------------------------------

    def create_action(self, finding_ids: Sequence[int], what: str, responsible: str, actor: Viewer | None = None,
                      *, priority: int = 2, kind: str = "enkel", planned_date: dt.date | None = None,
                      deadline: dt.date | None = None, shared: bool = False, walk_id: int | None = None,
                      area_id: int | None = None, comment: str = "") -> int:
        """Create an action from one or more findings and assign them (status ``tilldelad``) to ``responsible``.

        ``planned_date`` is when the party plans to do it, ``deadline`` (senast) the date by which it must be
        done. Findings already assigned or planned keep their status and take the new party; the action and
        every status change are written in one transaction. Returns the action's id.
        """
        planned_date = _optional_date(planned_date, "planned date")
        deadline = _optional_date(deadline, "deadline")
        if actor is not None and actor.role not in _PLANNERS:
            msg = f"role {actor.role} may not create actions; a planner or administrator does"
            raise PermissionDeniedError(msg)
        ids = sorted({int(i) for i in finding_ids})
        if not ids:
            msg = "Välj minst ett fynd för åtgärden."
            raise ValidationError(msg)
        if not str(what or "").strip():
            msg = "Skriv vad som ska göras."
            raise ValidationError(msg)
        schema.require_key("party", responsible, "responsible party")
        schema.require_key("action_kind", kind, "action kind")
        if priority not in (1, 2, 3):
            msg = f"priority must be 1, 2 or 3, got {priority!r}"
            raise ValidationError(msg)
        with self.write() as conn:
            found = conn.execute(sa.select(t.findings.c.id, t.findings.c.status, t.findings.c.walk_id,
                                           t.findings.c.area_id, t.findings.c.lon, t.findings.c.lat).where(
                t.findings.c.id.in_(ids)).order_by(t.findings.c.id)).all()
            missing = sorted(set(ids) - {int(r.id) for r in found})
            if missing:
                msg = f"no finding with id {', '.join(map(str, missing))}"
                raise NotFoundError(msg)
            closed = [f"{r.id} ({r.status})" for r in found
                      if r.status not in ("ny", "bedomd", "tilldelad", "planerad", "ej_atgardas")]
            if closed:
                msg = ("Fynd som redan är åtgärdade, verifierade eller dubbletter får ingen ny åtgärd: "
                       f"{', '.join(closed)}")
                raise ValidationError(msg)
            first = found[0]
            now = now_utc()
            action_id = int(conn.execute(sa.insert(t.actions).values(
                what=scrub_text(what).text, responsible=responsible, priority=int(priority), kind=kind,
                planned_date=planned_date, deadline=deadline, done_date=None, status="oppen", shared=bool(shared),
                walk_id=walk_id if walk_id is not None else first.walk_id,
                area_id=area_id if area_id is not None else first.area_id,
                created_by=_by(actor), audience="partner", created_at=now, updated_at=now,
                lon=first.lon, lat=first.lat, geom=None,
            ).returning(t.actions.c.id)).scalar_one())
            conn.execute(sa.insert(t.action_findings), [{"action_id": action_id, "finding_id": i} for i in ids])
            conn.execute(sa.insert(t.status_events), [{
                "kind": "action", "record_id": action_id, "at": now, "by": _by(actor), "from_status": None,
                "to_status": "oppen", "comment": scrub_text(comment).text,
            }])
            note = f"åtgärd {action_id}: {schema.label('party', responsible)}"
            for r in found:
                if r.status in ("tilldelad", "planerad"):
                    conn.execute(sa.update(t.findings).where(t.findings.c.id == int(r.id)).values(
                        responsible=responsible, updated_at=now))
                    continue
                self._finding_transition(conn, int(r.id), "tilldelad", actor, note, responsible=responsible)
            due = deadline or planned_date
            if due is not None:
                conn.execute(sa.update(t.findings).where(t.findings.c.id.in_(ids),
                                                         t.findings.c.due_date.is_(None)).values(due_date=due))
            self.audit("create", actor, "action", action_id, {"findings": ids, "responsible": responsible},
                       conn=conn)
        return action_id

    def set_action_dates(self, action_id: int, actor: Viewer | None = None, *, planned_date: dt.date | None,
                         deadline: dt.date | None) -> None:
        """Set an action's planned date and deadline (senast). Planners set both; the responsible party plans
        its own action (the planned date) but does not move the deadline it was given."""
        planned_date = _optional_date(planned_date, "planned date")
        deadline = _optional_date(deadline, "deadline")
        with self.write() as conn:
            row = self._action_row(conn, action_id)
            self._check_action_actor(actor, row, comment_only=False)
            if actor is not None and actor.role not in _PLANNERS and deadline != row.deadline:
                msg = "Bara en planerare ändrar åtgärdens senast-datum."
                raise PermissionDeniedError(msg)
            conn.execute(sa.update(t.actions).where(t.actions.c.id == int(action_id)).values(
                planned_date=planned_date, deadline=deadline, updated_at=now_utc()))
            conn.execute(sa.insert(t.status_events), [{
                "kind": "action", "record_id": int(action_id), "at": now_utc(), "by": _by(actor),
                "from_status": row.status, "to_status": row.status,
                "comment": f"planerat {planned_date or '–'}, senast {deadline or '–'}",
            }])
            self.audit("dates", actor, "action", int(action_id),
                       {"planned_date": str(planned_date), "deadline": str(deadline)}, conn=conn)

    def _action_row(self, conn: Connection, action_id: int) -> Any:
        row = conn.execute(sa.select(t.actions).where(t.actions.c.id == int(action_id))).first()
        if row is None:
            msg = f"no action with id {action_id}"
            raise NotFoundError(msg)
        return row

    @staticmethod
    def _check_action_actor(actor: Viewer | None, row: Any, *, comment_only: bool) -> None:
        """Planners and admins act on every action; a partner on its own (and comments on shared ones)."""
        if actor is None or actor.role in _PLANNERS:
            return
        if actor.role in schema.PARTNER_ROLES and actor.organisation:
            if row.responsible == actor.organisation:
                return
            if comment_only and row.shared:
                return
        what = "comment on" if comment_only else "change the status of"
        msg = f"role {actor.role} ({actor.organisation or 'no organisation'}) may not {what} action {row.id}"
        raise PermissionDeniedError(msg)

    def change_action_status(self, action_id: int, to_status: str, actor: Viewer | None = None, comment: str = "",
                             *, done_date: dt.date | None = None, at: dt.datetime | None = None) -> None:
        """Move an action along its lifecycle, with an event. ``klar`` sets the done date and marks the
        linked open findings ``atgardad``; reopening (``klar`` → ``pagar``) clears the done date."""
        schema.require_key("action_status", to_status, "action status")
        with self.write() as conn:
            row = self._action_row(conn, action_id)
            self._check_action_actor(actor, row, comment_only=False)
            allowed = ACTION_TRANSITIONS[row.status]
            if to_status != row.status and to_status not in allowed:
                msg = (f"action {action_id} cannot go from {row.status} to {to_status}; "
                       f"allowed next: {', '.join(sorted(allowed))}")
                raise ValidationError(msg)
            if to_status == "stangd" and not comment.strip():
                msg = f"action {action_id}: say why it is closed without action"
                raise ValidationError(msg)
            values: dict[str, Any] = {"status": to_status, "updated_at": now_utc()}
            if to_status == "klar":
                values["done_date"] = done_date or _local_today()
            elif row.status == "klar":
                values["done_date"] = None
            conn.execute(sa.update(t.actions).where(t.actions.c.id == int(action_id)).values(**values))
            conn.execute(sa.insert(t.status_events), [{
                "kind": "action", "record_id": int(action_id), "at": at or now_utc(), "by": _by(actor),
                "from_status": row.status, "to_status": to_status, "comment": scrub_text(comment).text,
            }])
            if to_status == "klar":
                linked = conn.execute(sa.select(t.findings.c.id, t.findings.c.status).join(
                    t.action_findings, t.action_findings.c.finding_id == t.findings.c.id).where(
                    t.action_findings.c.action_id == int(action_id))).all()
                for fid, status in linked:
                    if "atgardad" in schema.STATUS_TRANSITIONS[status]:
                        self._finding_transition(conn, int(fid), "atgardad", actor,
                                                 f"åtgärd {action_id} klar", at=at)
            self.audit("status", actor, "action", int(action_id), {"from": row.status, "to": to_status}, conn=conn)

    def add_action_progress(self, action_id: int, actor: Viewer | None, comment: str) -> None:
        """A progress comment by the responsible party (partners: own or shared actions), as an event."""
        if not str(comment or "").strip():
            msg = "a progress note needs a comment"
            raise ValidationError(msg)
        with self.write() as conn:
            row = self._action_row(conn, action_id)
            self._check_action_actor(actor, row, comment_only=True)
            conn.execute(sa.insert(t.status_events), [{
                "kind": "action", "record_id": int(action_id), "at": now_utc(), "by": _by(actor),
                "from_status": row.status, "to_status": row.status, "comment": scrub_text(comment).text,
            }])
            conn.execute(sa.update(t.actions).where(t.actions.c.id == int(action_id)).values(updated_at=now_utc()))
            self.audit("progress", actor, "action", int(action_id), conn=conn)

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

    def set_route(self, category: str | None, area_id: int | None, party: str, actor: Viewer | None = None) -> None:
        """Route ``category`` (None: any) in ``area_id`` (None: any) to ``party``; replaces an existing row."""
        if not access.may_administer(actor):
            msg = "only an administrator edits the routing"
            raise PermissionDeniedError(msg)
        if category is not None:
            schema.require_key("category", category, "category")
        schema.require_key("party", party, "responsible party")
        with self.write() as conn:
            if area_id is not None and conn.execute(sa.select(t.areas.c.id).where(
                    t.areas.c.id == int(area_id))).first() is None:
                msg = f"no area with id {area_id}"
                raise NotFoundError(msg)
            conn.execute(sa.delete(t.routing).where(*self._route_key(category, area_id)))
            conn.execute(sa.insert(t.routing).values(category=category,
                                                     area_id=None if area_id is None else int(area_id), party=party))
            self.audit("routing", actor, None, None, {"category": category, "area_id": area_id, "party": party},
                       conn=conn)

    def delete_route(self, category: str | None, area_id: int | None, actor: Viewer | None = None) -> bool:
        """Remove one routing row; True if there was one."""
        if not access.may_administer(actor):
            msg = "only an administrator edits the routing"
            raise PermissionDeniedError(msg)
        with self.write() as conn:
            n = conn.execute(sa.delete(t.routing).where(*self._route_key(category, area_id))).rowcount
            self.audit("routing_delete", actor, None, None, {"category": category, "area_id": area_id}, conn=conn)
        return bool(n)

    @staticmethod
    def _route_key(category: str | None, area_id: int | None) -> list[Any]:
        # NULLs are distinct in unique constraints on both backends, so "any" rows are matched with IS NULL.
        return [t.routing.c.category.is_(None) if category is None else t.routing.c.category == category,
                t.routing.c.area_id.is_(None) if area_id is None else t.routing.c.area_id == int(area_id)]

    def seed_default_routing(self, actor: Viewer | None = None, *, restore: bool = False) -> int:
        """Write ``actions.DEFAULT_ROUTING`` (one any-area row per category) where a category has none.

        Runs once per database (``trygghetskarta init``): afterwards the table belongs to the administrator, so
        a row they deleted is not written again. ``restore`` (an administrator's choice) fills in the missing
        defaults again; rows the administrator changed are never overwritten. Returns the rows written."""
        from trygghetskarta.actions import DEFAULT_ROUTING

        if not access.may_administer(actor):
            msg = "only an administrator edits the routing"
            raise PermissionDeniedError(msg)
        if not restore and self.get_meta("routing_defaults") is not None:
            return 0
        with self.write() as conn:
            have = set(conn.execute(sa.select(t.routing.c.category).where(
                t.routing.c.area_id.is_(None), t.routing.c.category.is_not(None))).scalars().all())
            rows = [{"category": c, "area_id": None, "party": p} for c, p in DEFAULT_ROUTING.items()
                    if c not in have]
            if rows:
                conn.execute(sa.insert(t.routing), rows)
            self.set_meta("routing_defaults", "1", conn=conn)
            if rows:
                self.audit("routing_defaults", actor, None, None, {"rows": len(rows)}, conn=conn)
        return len(rows)

    def propose_party(self, category: str, area_id: int | None = None) -> str:
        """The responsible party the routing proposes (category+area > category > area > default > okand)."""
        from trygghetskarta.actions import party_from_routing

        return party_from_routing(self.routing_table(), category, area_id)

    # --- admin settings --------------------------------------------------------------------------------

    def app_setting(self, key: str, default: Any = None) -> Any:
        """A setting an administrator saved (JSON value), else ``default``."""
        with self.read_conn() as conn:
            raw = conn.execute(sa.select(t.app_settings.c.value).where(t.app_settings.c.key == key)).scalar()
        return default if raw is None else json.loads(raw)

    def set_app_setting(self, key: str, value: Any, actor: Viewer | None = None) -> None:
        """Save a setting (any JSON-serialisable value); administrators only."""
        if not access.may_administer(actor):
            msg = "only an administrator changes settings"
            raise PermissionDeniedError(msg)
        if not key or len(key) > 100:
            msg = f"a setting key must be 1-100 characters, got {key!r}"
            raise ValidationError(msg)
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        except TypeError as exc:
            msg = f"setting {key!r} cannot be saved: {exc}"
            raise ValidationError(msg) from None
        with self.write() as conn:
            conn.execute(sa.delete(t.app_settings).where(t.app_settings.c.key == key))
            conn.execute(sa.insert(t.app_settings).values(key=key, value=text, updated_by=_by(actor),
                                                          updated_at=now_utc()))
            self.audit("setting", actor, None, None, {"key": key}, conn=conn)

    # --- partner EST reports ---------------------------------------------------------------------------

    def save_partner_reports(self, frame: pd.DataFrame, actor: Viewer | None = None) -> int:
        """Insert or replace weekly EST checklist rows (organisation, area_id, period_start, period_end, type,
        count, optional comment). A partner reports for its own organisation only. Returns rows written.

        Each organisation's rows for one period become one weekly report (``est_reports``): approved at once
        when a planner or administrator writes them, submitted for review when a partner does. The app's
        form, the template import and the review step are in ``trygghetskarta.est_reports``."""
        need = ["organisation", "period_start", "period_end", "type", "count"]
        if not isinstance(frame, pd.DataFrame):
            msg = f"expected a DataFrame of partner reports, got {type(frame).__name__}"
            raise ValidationError(msg)
        missing = [c for c in need if c not in frame]
        if missing:
            msg = f"partner reports lack column(s) {', '.join(missing)}"
            raise ValidationError(msg)
        if actor is not None and actor.role not in _PLANNERS and actor.role not in schema.PARTNER_ROLES:
            msg = f"role {actor.role} may not file EST reports"
            raise PermissionDeniedError(msg)
        rows = []
        for n, rec in enumerate(frame.to_dict("records"), start=1):
            where = f"partner report row {n}"
            org = str(rec["organisation"])
            if org not in schema.PARTY:
                msg = f"{where}: unknown organisation {org!r}; allowed: {', '.join(schema.PARTY)}"
                raise ValidationError(msg)
            if actor is not None and actor.role in schema.PARTNER_ROLES and org != actor.organisation:
                msg = f"{where}: {actor.username} reports for {actor.organisation}, not {org}"
                raise PermissionDeniedError(msg)
            typ = str(rec["type"])
            if typ not in schema.INCIDENT_TYPE:
                msg = f"{where}: unknown type {typ!r}; allowed: {', '.join(schema.INCIDENT_TYPE)}"
                raise ValidationError(msg)
            try:
                start = pd.Timestamp(rec["period_start"]).date()
                end = pd.Timestamp(rec["period_end"]).date()
            except (ValueError, TypeError):
                msg = f"{where}: period_start/period_end are not dates"
                raise ValidationError(msg) from None
            if end < start:
                msg = f"{where}: period_end {end} is before period_start {start}"
                raise ValidationError(msg)
            count = pd.to_numeric(pd.Series([rec["count"]]), errors="coerce").iloc[0]
            if pd.isna(count) or count < 0 or count % 1:
                msg = f"{where}: count must be a whole number >= 0, got {rec['count']!r}"
                raise ValidationError(msg)
            area = rec.get("area_id")
            area = None if area is None or pd.isna(area) else int(area)
            rows.append({"organisation": org, "area_id": area, "period_start": start, "period_end": end,
                         "type": typ, "category": schema.EST_CATEGORY_OF_TYPE[typ], "count": int(count),
                         "comment": scrub_text(rec.get("comment") or "").text,
                         "reported_by": _by(actor), "created_at": now_utc()})
        status = "godkand" if actor is None or actor.role in _PLANNERS else "inskickad"
        with self.write() as conn:
            headers: dict[tuple[str, dt.date, dt.date], int] = {}
            for r in rows:
                key = (r["organisation"], r["period_start"], r["period_end"])
                if key not in headers:
                    year, week, _ = r["period_start"].isocalendar()
                    when = now_utc()
                    headers[key] = int(conn.execute(sa.insert(t.est_reports).values(
                        organisation=key[0], week=f"{year}-W{week:02d}", week_start=key[1], week_end=key[2],
                        status=status, source="import", comment="", submitted_by=_by(actor), submitted_at=when,
                        reviewed_by=_by(actor) if status == "godkand" else None,
                        reviewed_at=when if status == "godkand" else None, created_at=when, updated_at=when,
                    ).returning(t.est_reports.c.id)).scalar())
                r["report_id"] = headers[key]
            for r in rows:
                area_clause = (t.partner_reports.c.area_id.is_(None) if r["area_id"] is None
                               else t.partner_reports.c.area_id == r["area_id"])
                conn.execute(sa.delete(t.partner_reports).where(
                    t.partner_reports.c.organisation == r["organisation"], area_clause,
                    t.partner_reports.c.period_start == r["period_start"],
                    t.partner_reports.c.period_end == r["period_end"], t.partner_reports.c.type == r["type"]))
            if rows:
                conn.execute(sa.insert(t.partner_reports), rows)
            self.audit("partner_report", actor, None, None, {"rows": len(rows)}, conn=conn)
        return len(rows)

    def partner_reports(self, viewer: Viewer | None = None, start: dt.date | None = None,
                        end: dt.date | None = None, area_ids: Sequence[int] | None = None,
                        statuses: Sequence[str] | None = None) -> pd.DataFrame:
        """EST report lines whose period starts within ``start``..``end`` (inclusive dates); ``statuses`` keeps
        the lines of reports with those review statuses (the lägesbild asks for approved ones only). A partner
        gets other organisations' lines without their comment and reporter."""
        if viewer is not None and viewer.role not in _REPORT_READERS:
            msg = f"role {viewer.role} may not read partner EST reports"
            raise PermissionDeniedError(msg)
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
        if viewer is not None and viewer.role in schema.PARTNER_ROLES:
            other = frame["organisation"] != (viewer.organisation or "")
            frame.loc[other, "comment"] = ""
            frame.loc[other, "reported_by"] = None
        return frame

    # --- further reports on an existing finding ("lägg till på befintligt") ----------------------------

    def add_report_to_finding(self, finding_id: int, actor: Viewer | None = None, description: str = "",
                              photos: Sequence[Any] = (), client_id: str | None = None) -> int:
        """Another report of the same problem on an existing finding: counts a supporter, keeps the new text
        (scrubbed) as a ``tillagg`` event and the new photos on the finding, in one transaction. A report with
        a ``client_id`` already stored on the finding (a double tap, a retry) adds nothing. ``photos`` are
        ``photos.StoredPhoto`` objects already written to media. Returns the finding's supporter count."""
        text = scrub_text(str(description or "").strip()).text
        with self.write() as conn:
            current = conn.execute(sa.select(t.findings.c.supporters, t.findings.c.status).where(
                t.findings.c.id == int(finding_id))).first()
            if current is None:
                msg = f"no finding with id {finding_id}"
                raise NotFoundError(msg)
            if client_id is not None:
                earlier = conn.execute(sa.select(t.status_events.c.comment).where(
                    t.status_events.c.kind == REPORT_KIND,
                    t.status_events.c.record_id == int(finding_id))).scalars().all()
                if any(json.loads(c or "{}").get("client_id") == client_id for c in earlier):
                    return int(current.supporters or 0)
            n = conn.execute(sa.update(t.findings).where(t.findings.c.id == int(finding_id)).values(
                supporters=sa.func.coalesce(t.findings.c.supporters, 0) + 1, updated_at=now_utc()).returning(
                t.findings.c.supporters)).scalar()
            photo_ids = [self.add_photo(int(finding_id), str(p.path), str(p.thumb_path), p.sha256, p.width,
                                        p.height, p.taken_at, conn=conn) for p in photos]
            conn.execute(sa.insert(t.status_events), [{
                "kind": REPORT_KIND, "record_id": int(finding_id), "at": now_utc(), "by": _by(actor),
                "from_status": current.status, "to_status": current.status,
                "comment": json.dumps({"description": text, "photo_ids": photo_ids, "client_id": client_id},
                                      ensure_ascii=False),
            }])
            self.audit("support", actor, "finding", int(finding_id), {"photos": len(photo_ids)}, conn=conn)
            return int(n)

    def finding_reports(self, finding_ids: Sequence[int]) -> pd.DataFrame:
        """The further reports added to findings (``finding_id``, ``at``, ``by``, ``description``,
        ``photo_ids``), oldest first."""
        se = t.status_events
        with self.read_conn() as conn:
            rows = conn.execute(sa.select(se.c.record_id, se.c.at, se.c.by, se.c.comment).where(
                se.c.kind == REPORT_KIND, se.c.record_id.in_([int(i) for i in finding_ids])).order_by(
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

    def followup_checklist(self, area_id: int, walk_id: int, viewer: Viewer | None = None) -> pd.DataFrame:
        """The findings a walk in ``area_id`` checks: open and fixed-but-unverified findings lying in the area
        (its neighbourhoods included), reported before the walk and not on it, safe places left out; fixed
        ones first. Every such finding is returned (no cut). Findings already answered at this walk stay on
        the list (whatever their status now) with the answer. Columns: finding fields + ``action_id`` (the
        latest linked action), ``action_what``, ``action_planned_date``, ``action_deadline``,
        ``followup_fixed``, ``followup_safer``, ``followup_by`` (the latest answer at this walk, else NA)."""
        with self.read_conn() as conn:
            walk = conn.execute(sa.select(t.walks.c.started_at).where(t.walks.c.id == int(walk_id))).first()
        if walk is None:
            msg = f"no walk with id {walk_id}"
            raise NotFoundError(msg)
        areas = self.areas()
        if not (areas["id"] == int(area_id)).any():
            msg = f"no area with id {area_id}"
            raise NotFoundError(msg)
        # The one area rule (trygghetskarta.areas): a locality's walk checks its neighbourhoods' findings too;
        # read in SQL by the findings' smallest area, never the whole table.
        in_area = areas_rule.nesting(areas).expand([int(area_id)])
        statuses = sorted(schema.OPEN_STATUSES | {"atgardad"})
        answers = self.followups(walk_id=int(walk_id)).drop_duplicates("finding_id", keep="last")
        answered = set(answers["finding_id"].astype(int))
        found = self.read("finding", viewer, statuses=statuses, area_ids=in_area)
        if answered:
            extra = self.read("finding", viewer, ids=sorted(answered), area_ids=in_area)
            found = pd.concat([found, extra[~extra["id"].isin(found["id"])]], ignore_index=True)
        keep = ~found["positive"].astype(bool)
        keep &= (found["reported_at"] < pd.Timestamp(walk.started_at)) & (
            found["walk_id"].astype("Float64").fillna(-1) != int(walk_id))
        found = found[keep.to_numpy(dtype=bool)].copy()
        links = self.action_finding_ids()
        first_action = links.groupby("finding_id")["action_id"].max() if not links.empty else pd.Series(dtype="int64")
        found["action_id"] = found["id"].map(first_action).astype("Int64")
        ids = [int(a) for a in found["action_id"].dropna().unique()]
        # the actions the checklist's reader may see (a narrower audience's action text is never shown)
        acts = self.read("action", viewer, ids=ids) if ids else pd.DataFrame(columns=["id", "what", "planned_date"])
        acts = acts.set_index("id")
        for col, src in (("action_what", "what"), ("action_planned_date", "planned_date"),
                         ("action_deadline", "deadline")):
            values = acts[src] if src in acts else pd.Series(dtype=object)
            found[col] = found["action_id"].map(lambda a, v=values: v.get(int(a)) if pd.notna(a) else None)
        by_id = answers.set_index("finding_id")
        found["followup_fixed"] = found["id"].map(by_id["fixed"]).astype(object)
        found["followup_safer"] = found["id"].map(by_id["feels_safer"]).astype(object)
        found["followup_by"] = found["id"].map(by_id["by"]).astype(object)
        order = {"atgardad": 0, "planerad": 1, "tilldelad": 2, "bedomd": 3, "ny": 4}
        # an answered finding keeps its place (by its status before the answer), so a card does not jump
        before = (found["id"].map(by_id["from_status"]).astype(object) if len(answers)
                  else pd.Series(None, index=found.index, dtype=object))
        found["_o"] = before.where(before.notna(), found["status"].astype(object)).map(order).fillna(5)
        return found.sort_values(["_o", "reported_at", "id"]).drop(columns="_o").reset_index(drop=True)

    def is_participant(self, walk_id: int, username: str) -> bool:
        """Whether ``username`` takes part in the walk (``walk_participants``)."""
        with self.read_conn() as conn:
            return conn.execute(sa.select(t.walk_participants.c.walk_id).where(
                t.walk_participants.c.walk_id == int(walk_id),
                t.walk_participants.c.username == username)).first() is not None

    def record_followup(self, finding_id: int, walk_id: int, fixed: bool, feels_safer: bool | None,
                        actor: Viewer | None = None, comment: str = "") -> str:
        """Record a walk's check of a finding: fixed → ``verifierad``; not fixed → reopened to ``tilldelad``.

        The answer is kept as a ``followup`` event; linked actions get ``verified_walk_id`` (fixed) or go
        back from ``klar`` to ``pagar`` (not fixed). Returns the finding's new status.
        """
        if actor is not None and actor.role not in _PLANNERS | {"deltagare"} | schema.PARTNER_ROLES:
            msg = f"Rollen {schema.label('role', actor.role)} kan inte svara på uppföljningen vid en vandring."
            raise PermissionDeniedError(msg)
        if not isinstance(fixed, bool) or not (feels_safer is None or isinstance(feels_safer, bool)):
            msg = "fixed must be true/false and feels_safer true/false or empty"
            raise ValidationError(msg)
        if actor is not None and actor.role not in _PLANNERS and self.read(
                "finding", actor, ids=[int(finding_id)]).empty:
            msg = f"Fynd nr {finding_id} finns inte eller syns inte för dig."
            raise NotFoundError(msg)
        safer = {True: "ja", False: "nej", None: "–"}[feels_safer]
        note = (f"uppföljning vid vandring {walk_id}: {'åtgärdat' if fixed else 'inte åtgärdat'}, "
                f"känns tryggare: {safer}" + (f". {comment.strip()}" if comment.strip() else ""))
        with self.write() as conn:
            if conn.execute(sa.select(t.walks.c.id).where(t.walks.c.id == int(walk_id))).first() is None:
                msg = f"Vandring nr {walk_id} finns inte."
                raise NotFoundError(msg)
            if actor is not None and actor.role not in _PLANNERS and conn.execute(
                    sa.select(t.walk_participants.c.walk_id).where(
                        t.walk_participants.c.walk_id == int(walk_id),
                        t.walk_participants.c.username == actor.username)).first() is None:
                # Participants answer on their phones during the walk; only those who take part in it.
                msg = (f"Bara deltagare i vandring nr {walk_id} svarar på dess uppföljning; gå med i vandringen "
                       "först.")
                raise PermissionDeniedError(msg)
            row = conn.execute(sa.select(t.findings.c.status, t.findings.c.responsible, t.findings.c.category,
                                         t.findings.c.area_id).where(t.findings.c.id == int(finding_id))).first()
            if row is None:
                msg = f"Fynd nr {finding_id} finns inte."
                raise NotFoundError(msg)
            status, party, category, area = row
            if status in ("dubblett", "ej_atgardas"):
                label = schema.label("status", status)
                msg = f"Fynd nr {finding_id} har status {label} och följs inte upp."
                raise ValidationError(msg)
            if fixed:
                new = "verifierad"
                # A follow-up walk may confirm a fix the responsible party never reported.
                self._finding_transition(conn, int(finding_id), new, actor, note, force=True)
            elif status in ("atgardad", "verifierad"):
                new = "tilldelad"
                responsible = None if party else self.propose_party(category, area)
                self._finding_transition(conn, int(finding_id), new, actor, note, responsible=responsible,
                                         force=True)
            else:
                # Still open (ny, bedömd, tilldelad, planerad): the status and its dates stay; the answer is
                # an event on the finding. (A transition to the same status would ask a planned finding for
                # a new date.)
                new = status
                conn.execute(sa.insert(t.status_events), [{
                    "kind": "finding", "record_id": int(finding_id), "at": now_utc(), "by": _by(actor),
                    "from_status": status, "to_status": status, "comment": scrub_text(note).text,
                }])
            conn.execute(sa.insert(t.status_events), [{
                "kind": FOLLOWUP_KIND, "record_id": int(finding_id), "at": now_utc(), "by": _by(actor),
                "from_status": status, "to_status": new,
                "comment": json.dumps({"walk_id": int(walk_id), "fixed": fixed, "feels_safer": feels_safer,
                                       "comment": scrub_text(comment).text}, ensure_ascii=False),
            }])
            action_ids = conn.execute(sa.select(t.action_findings.c.action_id).where(
                t.action_findings.c.finding_id == int(finding_id))).scalars().all()
            for aid in action_ids:
                if fixed:
                    conn.execute(sa.update(t.actions).where(t.actions.c.id == aid).values(
                        verified_walk_id=int(walk_id), updated_at=now_utc()))
                    continue
                a_status = conn.execute(sa.select(t.actions.c.status).where(t.actions.c.id == aid)).scalar()
                if a_status == "klar":
                    conn.execute(sa.update(t.actions).where(t.actions.c.id == aid).values(
                        status="pagar", done_date=None, updated_at=now_utc()))
                    conn.execute(sa.insert(t.status_events), [{
                        "kind": "action", "record_id": int(aid), "at": now_utc(), "by": _by(actor),
                        "from_status": "klar", "to_status": "pagar", "comment": note,
                    }])
            self.audit("followup", actor, "finding", int(finding_id), {"walk_id": int(walk_id), "fixed": fixed},
                       conn=conn)
        return new

    def followups(self, finding_ids: Sequence[int] | None = None, walk_id: int | None = None) -> pd.DataFrame:
        """Recorded follow-ups: ``finding_id``, ``walk_id``, ``at``, ``by``, ``fixed``, ``feels_safer``,
        ``comment``, ``from_status``, ``to_status``; newest last."""
        se = t.status_events
        q = sa.select(se.c.record_id, se.c.at, se.c.by, se.c.from_status, se.c.to_status, se.c.comment).where(
            se.c.kind == FOLLOWUP_KIND)
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
