"""The SQL of the public face (issue 16): residents' reports and their moderation, the e-mail outbox,
Open311 API keys and the rate-limit counters. The rules live in ``trygghetskarta.public``,
``trygghetskarta.outbox`` and ``trygghetskarta.open311``; this module only reads and writes."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from trygghetskarta import access, schema
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, ValidationError
from trygghetskarta.scrub import scrub_text
from trygghetskarta.store import tables as t
from trygghetskarta.store.workflow import WorkflowMixin
from trygghetskarta.timeutil import now_utc

MODERATION_STATES = ("vantar", "godkand", "avvisad")
MODERATORS = schema.PLANNER_ROLES
# Findings the public never sees on a map or through Open311, whatever their audience.
_NEVER_PUBLIC_STATUSES = ("dubblett",)
_OUTBOX_COLUMNS = ("id", "dedupe_key", "kind", "recipient", "lang", "subject", "state", "attempts", "next_try_at",
                   "last_error", "created_at", "sent_at", "finding_id")


def _frame(result: Any) -> pd.DataFrame:
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


class PublicMixin(WorkflowMixin):
    """Residents' reports, outbox, API keys and rate counters."""

    # --- helpers -----------------------------------------------------------------------------------

    def _upsert(self, table: sa.Table) -> Any:
        return (postgresql.insert(table) if self.backend == "postgresql" else sqlite.insert(table))

    # --- residents' reports ------------------------------------------------------------------------

    def add_public_report(self, conn: Connection, finding_id: int, *, receipt_code: str, status_token: str,
                          channel: str, lang: str, email: str | None, unsubscribe_token: str | None,
                          address: str = "", api_client: str | None = None) -> None:
        """The public metadata of a finding just inserted in ``conn``'s transaction (moderation: vantar)."""
        conn.execute(sa.insert(t.public_reports).values(
            finding_id=int(finding_id), receipt_code=receipt_code, status_token=status_token, channel=channel,
            api_client=api_client, lang=lang, email=email, unsubscribe_token=unsubscribe_token,
            address=scrub_text(address).text[:300], moderation="vantar", created_at=now_utc()))

    def public_report(self, *, receipt_code: str | None = None, status_token: str | None = None,
                      finding_id: int | None = None) -> dict[str, Any] | None:
        """One resident's report by its receipt code, status token or finding id, with the finding's state;
        None when there is none. No permission check: the code or token is the permission."""
        pr, f = t.public_reports, t.findings
        if receipt_code is not None:
            where = pr.c.receipt_code == str(receipt_code).strip().upper()
        elif status_token is not None:
            where = pr.c.status_token == str(status_token).strip()
        elif finding_id is not None:
            where = pr.c.finding_id == int(finding_id)
        else:
            return None
        q = sa.select(pr, f.c.category, f.c.description, f.c.status, f.c.responsible, f.c.reported_at,
                      f.c.updated_at, f.c.lon, f.c.lat, f.c.due_date, f.c.audience).join(
            f, f.c.id == pr.c.finding_id).where(where)
        with self.read_conn() as conn:
            row = conn.execute(q).mappings().first()
        return dict(row) if row is not None else None

    def public_report_history(self, finding_id: int) -> pd.DataFrame:
        """The status changes of a resident's report as the resident may see them: when, to which status and,
        for a report that will not be fixed, the reason (the comments are scrubbed when saved)."""
        events = self.status_events("finding", int(finding_id))
        if events.empty:
            return pd.DataFrame(columns=["at", "to_status", "reason"])
        reason = events["comment"].where(events["to_status"] == "ej_atgardas", "")
        return pd.DataFrame({"at": events["at"], "to_status": events["to_status"], "reason": reason.fillna("")})

    def public_reports(self, viewer: Viewer | None = None, moderation: Sequence[str] | None = None) -> pd.DataFrame:
        """Residents' reports with their findings, newest first, for a moderator (planner or administrator)."""
        if viewer is not None and viewer.role not in MODERATORS:
            msg = f"role {viewer.role} may not moderate residents' reports"
            raise PermissionDeniedError(msg)
        pr, f = t.public_reports, t.findings
        q = sa.select(pr.c.finding_id, pr.c.receipt_code, pr.c.channel, pr.c.api_client, pr.c.lang,
                      (pr.c.email.is_not(None)).label("has_email"), pr.c.address, pr.c.moderation,
                      pr.c.moderated_by, pr.c.moderated_at, pr.c.moderation_reason, pr.c.created_at,
                      f.c.category, f.c.description, f.c.status, f.c.lon, f.c.lat).join(
            f, f.c.id == pr.c.finding_id).order_by(pr.c.created_at.desc(), pr.c.finding_id.desc())
        if moderation:
            q = q.where(pr.c.moderation.in_(list(moderation)))
        with self.read_conn() as conn:
            return _frame(conn.execute(q))

    def moderation_state(self, conn: Connection, finding_id: int) -> tuple[str, str]:
        """(moderation, finding status) of a resident's report; ``NotFoundError`` when there is none."""
        row = conn.execute(sa.select(t.public_reports.c.moderation, t.findings.c.status).join(
            t.findings, t.findings.c.id == t.public_reports.c.finding_id).where(
            t.public_reports.c.finding_id == int(finding_id))).first()
        if row is None:
            msg = f"no resident's report with finding id {finding_id}"
            raise NotFoundError(msg)
        return str(row.moderation), str(row.status)

    def set_moderation(self, conn: Connection, finding_id: int, values: dict[str, Any]) -> None:
        conn.execute(sa.update(t.public_reports).where(t.public_reports.c.finding_id == int(finding_id)).values(
            **values))

    def unsubscribe(self, token: str) -> bool:
        """Stop e-mail to the reporter whose unsubscribe token this is, and cancel their queued messages;
        False when the token is unknown. Safe to repeat."""
        token = str(token or "").strip()
        if not token or len(token) > 64:
            return False
        with self.write() as conn:
            row = conn.execute(sa.select(t.public_reports.c.finding_id, t.public_reports.c.email).where(
                t.public_reports.c.unsubscribe_token == token)).first()
            if row is None:
                return False
            conn.execute(sa.update(t.public_reports).where(t.public_reports.c.unsubscribe_token == token).values(
                unsubscribed_at=now_utc(), email=None))
            if row.email:
                conn.execute(sa.update(t.outbox).where(t.outbox.c.recipient == row.email,
                                                       t.outbox.c.state == "queued").values(state="cancelled"))
            self.audit("unsubscribe", None, "finding", int(row.finding_id), {}, conn=conn, unauthenticated=True)
        return True

    def public_points(self, ids: Sequence[int] | None = None, statuses: Sequence[str] | None = None,
                      categories: Sequence[str] | None = None, start: dt.datetime | None = None,
                      end: dt.datetime | None = None, limit: int | None = None) -> pd.DataFrame:
        """The findings the public may see: audience ``publik`` only (never ``partner`` or ``begransad``), and
        a resident's report only once approved. Exact positions: callers coarsen them (``privacy``)."""
        f, pr = t.findings, t.public_reports
        q = sa.select(f.c.id, f.c.category, f.c.status, f.c.responsible, f.c.reported_at, f.c.updated_at,
                      f.c.due_date, f.c.lon, f.c.lat, pr.c.moderation).outerjoin(pr, pr.c.finding_id == f.c.id).where(
            f.c.audience == "publik", f.c.status.not_in(_NEVER_PUBLIC_STATUSES),
            sa.or_(pr.c.finding_id.is_(None), pr.c.moderation == "godkand"))
        if ids is not None:
            q = q.where(f.c.id.in_([int(i) for i in ids]))
        if statuses:
            q = q.where(f.c.status.in_(list(statuses)))
        if categories:
            q = q.where(f.c.category.in_(list(categories)))
        if start is not None:
            q = q.where(f.c.reported_at >= start)
        if end is not None:
            q = q.where(f.c.reported_at < end)
        q = q.order_by(f.c.reported_at.desc(), f.c.id.desc())
        if limit is not None:
            q = q.limit(int(limit))
        with self.read_conn() as conn:
            frame = _frame(conn.execute(q))
        for col in ("reported_at", "updated_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        return frame.drop(columns="moderation")

    def public_reasons(self, finding_ids: Sequence[int]) -> dict[int, str]:
        """The latest 'will not be fixed' reason of each finding (scrubbed when saved)."""
        if not finding_ids:
            return {}
        se = t.status_events
        q = sa.select(se.c.record_id, se.c.comment).where(
            se.c.kind == "finding", se.c.to_status == "ej_atgardas",
            se.c.record_id.in_([int(i) for i in finding_ids])).order_by(se.c.at, se.c.id)
        with self.read_conn() as conn:
            return {int(r.record_id): str(r.comment or "") for r in conn.execute(q)}

    # --- rate limits -------------------------------------------------------------------------------

    def hit_rate(self, buckets: Sequence[tuple[str, int]], window_s: int, now: dt.datetime | None = None) -> str | None:
        """Count one hit in each bucket's current window, in order, and stop at the first bucket that is over
        its limit (later buckets are not charged); returns that bucket, or None when every bucket is within its
        limit. One atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` per bucket, so parallel processes
        never let more through than the limit."""
        moment = now or now_utc()
        window = int(moment.timestamp()) // int(window_s) * int(window_s)
        table = t.rate_counters
        with self.write() as conn:
            for bucket, limit in buckets:
                stmt = self._upsert(table).values(bucket=bucket[:200], window_start=window, count=1)
                stmt = stmt.on_conflict_do_update(index_elements=["bucket", "window_start"],
                                                  set_={"count": table.c.count + 1}).returning(table.c.count)
                count = int(conn.execute(stmt).scalar_one())
                if count > int(limit):
                    return bucket
            if random.random() < 0.02:  # noqa: S311 - housekeeping, not security: drop windows a day old
                conn.execute(sa.delete(table).where(table.c.window_start < window - 86_400))
        return None

    # --- outbox ------------------------------------------------------------------------------------

    def enqueue_messages(self, rows: Sequence[dict[str, Any]], conn: Connection | None = None) -> int:
        """Queue messages; one whose ``dedupe_key`` is already in the outbox is not queued again. Returns how
        many were new."""
        if not rows:
            return 0
        now = now_utc()
        values = [{"state": "queued", "attempts": 0, "next_try_at": now, "created_at": now, **r} for r in rows]

        def _do(c: Connection) -> int:
            new = 0
            for v in values:
                stmt = self._upsert(t.outbox).values(**v).on_conflict_do_nothing(
                    index_elements=["dedupe_key"]).returning(t.outbox.c.id)
                new += len(c.execute(stmt).fetchall())  # no row back when the key was there already
            return new

        if conn is not None:
            return _do(conn)
        with self.write() as c:
            return _do(c)

    def known_dedupe_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are in the outbox already."""
        if not keys:
            return set()
        found: set[str] = set()
        with self.read_conn() as conn:
            for start in range(0, len(keys), 500):
                part = list(keys[start:start + 500])
                found |= {str(k) for k in conn.execute(sa.select(t.outbox.c.dedupe_key).where(
                    t.outbox.c.dedupe_key.in_(part))).scalars()}
        return found

    def claim_message(self, lease_s: float, now: dt.datetime | None = None) -> dict[str, Any] | None:
        """Take the next due message for sending (state ``sending`` with a lease), or None. A message whose
        sender died keeps its lease until it runs out; only then may another sender take it."""
        moment = now or now_utc()
        o = t.outbox
        due = sa.or_(sa.and_(o.c.state == "queued", o.c.next_try_at <= moment),
                     sa.and_(o.c.state == "sending", o.c.lease_until < moment))
        with self.write() as conn:
            q = sa.select(o).where(due).order_by(o.c.next_try_at, o.c.id).limit(1)
            if self.backend == "postgresql":
                q = q.with_for_update(skip_locked=True)
            row = conn.execute(q).mappings().first()
            if row is None:
                return None
            done = conn.execute(sa.update(o).where(o.c.id == row["id"], due).values(
                state="sending", lease_until=moment + dt.timedelta(seconds=lease_s)))
            if not done.rowcount:
                return None
        return dict(row)

    def message_sent(self, message_id: int) -> None:
        with self.write() as conn:
            conn.execute(sa.update(t.outbox).where(t.outbox.c.id == int(message_id)).values(
                state="sent", sent_at=now_utc(), lease_until=None, attempts=t.outbox.c.attempts + 1, last_error=None))

    def message_failed(self, message_id: int, error: str, *, retry_at: dt.datetime | None) -> None:
        """A failed attempt: queued again for ``retry_at``, or ``failed`` for good (a permanent refusal)."""
        values: dict[str, Any] = {"attempts": t.outbox.c.attempts + 1, "last_error": str(error)[:1000],
                                  "lease_until": None}
        values.update({"state": "queued", "next_try_at": retry_at} if retry_at is not None else {"state": "failed"})
        with self.write() as conn:
            conn.execute(sa.update(t.outbox).where(t.outbox.c.id == int(message_id)).values(**values))

    def outbox_messages(self, states: Sequence[str] | None = None, limit: int = 500) -> pd.DataFrame:
        """The outbox, newest first (no message bodies)."""
        o = t.outbox
        q = sa.select(*(o.c[c] for c in _OUTBOX_COLUMNS)).order_by(o.c.id.desc()).limit(int(limit))
        if states:
            q = q.where(o.c.state.in_(list(states)))
        with self.read_conn() as conn:
            return _frame(conn.execute(q))

    def outbox_counts(self) -> dict[str, int]:
        with self.read_conn() as conn:
            rows = conn.execute(sa.select(t.outbox.c.state, sa.func.count()).group_by(t.outbox.c.state)).all()
        return {str(s): int(n) for s, n in rows}

    def status_events_after(self, last_id: int, kinds: Sequence[str] = ("finding", "action")) -> pd.DataFrame:
        """Status events with an id above ``last_id``, oldest first (for the outbox's collector)."""
        se = t.status_events
        q = sa.select(se).where(se.c.id > int(last_id), se.c.kind.in_(list(kinds))).order_by(se.c.id)
        with self.read_conn() as conn:
            return _frame(conn.execute(q))

    def reporters(self, finding_ids: Sequence[int]) -> pd.DataFrame:
        """Reporter e-mail, language and unsubscribe token of the findings' residents' reports that left an
        address and did not unsubscribe."""
        pr = t.public_reports
        if not finding_ids:
            return pd.DataFrame(columns=["finding_id", "email", "lang", "unsubscribe_token", "receipt_code",
                                         "status_token"])
        q = sa.select(pr.c.finding_id, pr.c.email, pr.c.lang, pr.c.unsubscribe_token, pr.c.receipt_code,
                      pr.c.status_token).where(pr.c.finding_id.in_([int(i) for i in finding_ids]),
                                               pr.c.email.is_not(None), pr.c.unsubscribed_at.is_(None))
        with self.read_conn() as conn:
            return _frame(conn.execute(q))

    def purge_public_contacts(self, cutoff: dt.datetime, dry_run: bool = False) -> tuple[int, int]:
        """Retention for the public face: forget the e-mail address (and unsubscribe link) of residents' reports
        closed (fixed, verified, will not be fixed, duplicate) before ``cutoff``, and delete sent, failed or
        cancelled messages created before it. Returns (addresses, messages)."""
        pr, f, o = t.public_reports, t.findings, t.outbox
        closed = sa.select(f.c.id).where(f.c.status.in_(["atgardad", "verifierad", "ej_atgardas", "dubblett"]),
                                         f.c.updated_at < cutoff)
        who = sa.and_(pr.c.email.is_not(None), pr.c.finding_id.in_(closed))
        old = sa.and_(o.c.state.in_(["sent", "failed", "cancelled"]), o.c.created_at < cutoff)
        if dry_run:
            with self.read_conn() as conn:
                return (int(conn.execute(sa.select(sa.func.count()).select_from(pr).where(who)).scalar() or 0),
                        int(conn.execute(sa.select(sa.func.count()).select_from(o).where(old)).scalar() or 0))
        with self.write() as conn:
            addresses = conn.execute(sa.update(pr).where(who).values(email=None, unsubscribe_token=None)).rowcount
            messages = conn.execute(sa.delete(o).where(old)).rowcount
            if addresses or messages:
                self.audit("gallra_public", None, None, None, {"addresses": addresses, "messages": messages},
                           conn=conn)
        return int(addresses or 0), int(messages or 0)

    # --- API keys ----------------------------------------------------------------------------------

    def add_api_key(self, name: str, key_prefix: str, key_hash: str, actor: Viewer | None = None) -> int:
        if not access.may_administer(actor):
            msg = "only an administrator manages API keys"
            raise PermissionDeniedError(msg)
        with self.write() as conn:
            exists = conn.execute(sa.select(t.api_keys.c.id, t.api_keys.c.revoked_at).where(
                t.api_keys.c.name == name)).first()
            if exists is not None and exists.revoked_at is None:
                msg = f"an API key named {name!r} exists already; revoke it first"
                raise ValidationError(msg)
            if exists is not None:  # a revoked key's name is reused: the old row goes, its audit stays
                conn.execute(sa.delete(t.api_keys).where(t.api_keys.c.id == exists.id))
            key_id = int(conn.execute(sa.insert(t.api_keys).values(
                name=name, key_prefix=key_prefix, key_hash=key_hash, created_by=actor.username if actor else
                "admin (lokal)", created_at=now_utc()).returning(t.api_keys.c.id)).scalar_one())
            self.audit("api_key_add", actor, None, key_id, {"name": name}, conn=conn)
        return key_id

    def revoke_api_key(self, name: str, actor: Viewer | None = None) -> bool:
        if not access.may_administer(actor):
            msg = "only an administrator manages API keys"
            raise PermissionDeniedError(msg)
        with self.write() as conn:
            done = conn.execute(sa.update(t.api_keys).where(t.api_keys.c.name == name,
                                                            t.api_keys.c.revoked_at.is_(None)).values(
                revoked_at=now_utc()))
            if done.rowcount:
                self.audit("api_key_revoke", actor, None, None, {"name": name}, conn=conn)
        return bool(done.rowcount)

    def api_key_by_prefix(self, key_prefix: str) -> dict[str, Any] | None:
        with self.read_conn() as conn:
            row = conn.execute(sa.select(t.api_keys).where(t.api_keys.c.key_prefix == key_prefix,
                                                           t.api_keys.c.revoked_at.is_(None))).mappings().first()
        return dict(row) if row is not None else None

    def touch_api_key(self, key_id: int) -> None:
        with self.write() as conn:
            conn.execute(sa.update(t.api_keys).where(t.api_keys.c.id == int(key_id)).values(last_used_at=now_utc()))

    def api_keys(self) -> pd.DataFrame:
        k = t.api_keys
        with self.read_conn() as conn:
            return _frame(conn.execute(sa.select(k.c.name, k.c.key_prefix, k.c.created_by, k.c.created_at,
                                                 k.c.revoked_at, k.c.last_used_at).order_by(k.c.name)))


__all__ = ["MODERATION_STATES", "PublicMixin"]
