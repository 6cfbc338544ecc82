"""Login sessions and report drafts (issue #14): the store side. Tokens and tickets never reach the store, only
their SHA-256 hashes (``trygghetskarta.sessions`` makes them and applies the rules).

None of these writes changes what a cached read shows, so they do not advance the data version
(``write(changes_data=False)``): a click that only refreshes the session's last-seen time leaves every cache
of every instance warm."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from trygghetskarta.store import tables as t
from trygghetskarta.store.core import StoreCore

_S = t.sessions.c


class SessionsMixin(StoreCore):
    """Create, look up, refresh and end login sessions; keep one draft per user and form."""

    def create_session(self, username: str, role: str, organisation: str | None, sso_subject: str | None, *,
                       ticket_hash: str, ticket_expires_at: dt.datetime, now: dt.datetime) -> int:
        """A new session waiting for its one-time ticket to be redeemed (``redeem_ticket``); returns its id."""
        with self.write(changes_data=False) as conn:
            sid = conn.execute(sa.insert(t.sessions).values(
                ticket_hash=ticket_hash, ticket_expires_at=ticket_expires_at, username=username, role=role,
                organisation=organisation, sso_subject=sso_subject, created_at=now, last_seen_at=now,
            ).returning(_S.id)).scalar_one()
        return int(sid)

    def redeem_ticket(self, ticket_hash: str, token_hash: str, now: dt.datetime) -> int | None:
        """Exchange an unexpired ticket for the session token (its hash), once: one ``UPDATE`` that clears the
        ticket, so a second use finds nothing. The session's id, or None."""
        when = sa.literal(now, type_=_S.ticket_expires_at.type)
        with self.write(changes_data=False) as conn:
            sid = conn.execute(sa.update(t.sessions).where(
                _S.ticket_hash == ticket_hash, _S.ticket_expires_at > when, _S.token_hash.is_(None),
            ).values(token_hash=token_hash, ticket_hash=None, ticket_expires_at=None, last_seen_at=now)
                .returning(_S.id)).scalar()
        return None if sid is None else int(sid)

    def session_row(self, *, session_id: int | None = None, token_hash: str | None = None) -> dict[str, Any] | None:
        """A session by its id or by its token's hash (without either hash), or None."""
        if session_id is None and token_hash is None:
            return None
        cond = _S.id == int(session_id) if session_id is not None else _S.token_hash == token_hash
        columns = [c for c in t.sessions.c if c.name not in ("token_hash", "ticket_hash")]
        with self.read_conn() as conn:
            row = conn.execute(sa.select(*columns).where(cond)).mappings().first()
        return dict(row) if row else None

    def touch_session(self, session_id: int, now: dt.datetime) -> None:
        with self.write(changes_data=False) as conn:
            conn.execute(sa.update(t.sessions).where(_S.id == int(session_id)).values(last_seen_at=now))

    def delete_session(self, *, session_id: int | None = None, token_hash: str | None = None) -> int:
        """End one session (by id or token hash); the number of rows removed."""
        if session_id is None and token_hash is None:
            return 0
        cond = _S.id == int(session_id) if session_id is not None else _S.token_hash == token_hash
        with self.write(changes_data=False) as conn:
            return int(conn.execute(sa.delete(t.sessions).where(cond)).rowcount or 0)

    def delete_user_sessions(self, username: str) -> int:
        """End every session of ``username`` (every browser, every app instance)."""
        with self.write(changes_data=False) as conn:
            return int(conn.execute(sa.delete(t.sessions).where(_S.username == username)).rowcount or 0)

    def purge_sessions(self, idle_before: dt.datetime, now: dt.datetime) -> int:
        """Remove sessions idle since before ``idle_before`` and tickets that ran out unredeemed."""
        idle = sa.literal(idle_before, type_=_S.last_seen_at.type)
        when = sa.literal(now, type_=_S.ticket_expires_at.type)
        with self.write(changes_data=False) as conn:
            return int(conn.execute(sa.delete(t.sessions).where(sa.or_(
                _S.last_seen_at < idle, sa.and_(_S.token_hash.is_(None), _S.ticket_expires_at < when)))).rowcount or 0)

    # --- drafts ------------------------------------------------------------------------------------

    def save_draft(self, username: str, form: str, data: str, now: dt.datetime) -> None:
        """Keep ``data`` (JSON text) as the draft of ``form`` for ``username``, replacing the one before."""
        d = t.drafts.c
        with self.write(changes_data=False) as conn:
            n = conn.execute(sa.update(t.drafts).where(d.username == username, d.form == form).values(
                data=data, updated_at=now)).rowcount
            if not n:
                conn.execute(sa.insert(t.drafts).values(username=username, form=form, data=data, updated_at=now))

    def draft(self, username: str, form: str) -> tuple[str, dt.datetime] | None:
        """The draft's JSON text and when it was last saved, or None."""
        d = t.drafts.c
        with self.read_conn() as conn:
            row = conn.execute(sa.select(d.data, d.updated_at).where(d.username == username, d.form == form)).first()
        return None if row is None else (str(row[0]), row[1])

    def purge_drafts(self, older_than: dt.datetime) -> int:
        """Remove drafts last saved before ``older_than`` (a report never finished)."""
        when = sa.literal(older_than, type_=t.drafts.c.updated_at.type)
        with self.write(changes_data=False) as conn:
            return int(conn.execute(sa.delete(t.drafts).where(t.drafts.c.updated_at < when)).rowcount or 0)

    def delete_draft(self, username: str, form: str) -> int:
        d = t.drafts.c
        with self.write(changes_data=False) as conn:
            return int(conn.execute(sa.delete(t.drafts).where(d.username == username, d.form == form)).rowcount or 0)
