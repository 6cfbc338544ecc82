"""User rows: the store side of accounts (hashing and lock-out rules live in ``auth``)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pandas as pd
import sqlalchemy as sa

from trygghetskarta import schema
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError, StoreError, ValidationError
from trygghetskarta.store import tables as t
from trygghetskarta.store.core import StoreCore
from trygghetskarta.timeutil import now_utc

_USER_COLUMNS = ("id", "username", "role", "organisation", "active", "failed_attempts", "locked_until",
                 "last_login", "created_at", "sso_subject")
_AUDIT_NAME_KEY = "audit_name_key"


class UsersMixin(StoreCore):
    """Create, read and update user rows. Password hashes never leave through ``users()``."""

    def add_user(self, username: str, role: str, password_hash: str | None, organisation: str | None = None,
                 actor: Viewer | None = None, sso_subject: str | None = None) -> int:
        username = (username or "").strip()
        if not username or len(username) > 100 or any(ch.isspace() for ch in username):
            msg = "a username is 1–100 characters without spaces"
            raise ValidationError(msg)
        schema.require_key("role", role, "role")
        if organisation is not None:
            schema.require_key("party", organisation, "organisation")
        with self.write() as conn:
            if conn.execute(sa.select(t.users.c.id).where(t.users.c.username == username)).first():
                msg = f"a user named {username!r} already exists"
                raise ValidationError(msg)
            uid = conn.execute(sa.insert(t.users).values(
                username=username, role=role, organisation=organisation, password_hash=password_hash,
                sso_subject=sso_subject, failed_attempts=0, active=True, created_at=now_utc(),
            ).returning(t.users.c.id)).scalar_one()
            self.audit("user_add", actor, "user", int(uid), {"username": username, "role": role}, conn=conn)
        return int(uid)

    def user_row(self, username: str) -> dict[str, Any] | None:
        """The full row of a user, hash included (for ``auth`` only), or None."""
        with self.read_conn() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.username == username)).mappings().first()
        return dict(row) if row else None

    def user_by_subject(self, sso_subject: str) -> dict[str, Any] | None:
        with self.read_conn() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.sso_subject == sso_subject)).mappings().first()
        return dict(row) if row else None

    def update_user(self, username: str, actor: Viewer | None = None, audit_action: str | None = "user_update",
                    **values: Any) -> None:
        allowed = {"role", "organisation", "password_hash", "failed_attempts", "locked_until", "last_login",
                   "active", "sso_subject"}
        unknown = set(values) - allowed
        if unknown:
            msg = f"cannot update user fields {sorted(unknown)}"
            raise ValidationError(msg)
        if "role" in values:
            schema.require_key("role", values["role"], "role")
        with self.write() as conn:
            # lock the active admins' rows (PostgreSQL; SQLite's write transaction already excludes others), so
            # two admins demoting each other at once are checked one after the other
            conn.execute(sa.select(t.users.c.id).where(t.users.c.role == "admin", t.users.c.active.is_(True))
                         .with_for_update())
            was_admin = conn.execute(sa.select(t.users.c.id).where(
                t.users.c.username == username, t.users.c.role == "admin", t.users.c.active.is_(True))).first()
            n = conn.execute(sa.update(t.users).where(t.users.c.username == username).values(**values)).rowcount
            if not n:
                msg = f"no user named {username!r}"
                raise NotFoundError(msg)
            if was_admin and not self._active_admins(conn):
                # checked in the same transaction, so two admins demoting each other cannot both succeed
                msg = (f"{username} is the last active administrator: make another user administrator before "
                       f"changing this one's role or deactivating it")
                raise ValidationError(msg)
            if audit_action:
                shown = {k: ("***" if k == "password_hash" else v) for k, v in values.items()}
                self.audit(audit_action, actor, "user", None, {"username": username, **shown}, conn=conn)

    @staticmethod
    def _active_admins(conn: Any) -> int:
        q = sa.select(sa.func.count()).select_from(t.users).where(t.users.c.role == "admin",
                                                                  t.users.c.active.is_(True))
        return int(conn.execute(q).scalar_one())

    def reserve_login_attempt(self, username: str, limit: int, now: dt.datetime,
                              lock_until: dt.datetime) -> int | None:
        """Reserve one password check for ``username`` BEFORE the hash is checked, in one ``UPDATE … RETURNING``.

        Every attempt is counted as failed until a correct password resets the counter, so parallel guesses
        cannot all pass a read-then-check: the database hands out attempt numbers one at a time. Returns the
        attempt's number since the last successful login (None: no such user). A number at most ``limit`` may
        check the password; the attempt that reaches ``limit`` also locks the account until ``lock_until``.
        While locked (``locked_until`` after ``now``) the number is always above ``limit``, whatever the order
        of arrival; once the lock has run out, counting starts again at 1.
        """
        u = t.users.c
        when = sa.literal(now, type_=u.locked_until.type)
        count = sa.func.coalesce(u.failed_attempts, 0)
        locked = sa.and_(u.locked_until.is_not(None), u.locked_until > when)
        expired = sa.and_(u.locked_until.is_not(None), u.locked_until <= when)
        new_count = sa.case((locked, sa.case((count < limit, limit + 1), else_=count + 1)), (expired, 1),
                            else_=count + 1)
        until = sa.literal(lock_until, type_=u.locked_until.type)
        new_lock = sa.case((locked, u.locked_until), (new_count >= limit, until), else_=sa.null())
        with self.write() as conn:
            attempt = conn.execute(sa.update(t.users).where(u.username == username).values(
                failed_attempts=new_count, locked_until=new_lock).returning(u.failed_attempts)).scalar()
        return None if attempt is None else int(attempt)

    def finish_login_attempt(self, username: str, attempt: int, limit: int, ok: bool, actor: Viewer | None,
                             lock_until: dt.datetime | None = None, values: dict[str, Any] | None = None) -> None:
        """Record the outcome of a reserved attempt (``reserve_login_attempt``) with its audit event.

        A correct password whose reservation was within ``limit`` resets the counter and any lock (and stores
        ``values``, e.g. ``last_login``); a wrong one was already counted. Refused attempts (above ``limit``) are
        only audited: a right password sent while locked changes nothing.
        """
        within = attempt <= limit
        with self.write() as conn:
            if ok and within:
                conn.execute(sa.update(t.users).where(t.users.c.username == username).values(
                    failed_attempts=0, locked_until=None, **(values or {})))
                self.audit("login_ok", actor, "user", None, {"username": username, "attempt": attempt}, conn=conn)
            elif within:
                locked = attempt >= limit
                self.audit("locked" if locked else "login_failed", actor, "user", None,
                           {"username": username, "failed_attempts": attempt,
                            **({"locked_until": lock_until} if locked else {})}, conn=conn)
            else:
                self.audit("login_failed", actor, "user", None, {"username": username, "reason": "locked",
                                                                  "attempt": attempt}, conn=conn)

    def audit_name_key(self) -> bytes:
        """This database's random key for hashing names typed at the login that are no account (created once)."""
        for _ in range(3):
            with self.read_conn() as conn:
                value = conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == _AUDIT_NAME_KEY)).scalar()
            if value:
                return bytes.fromhex(value)
            try:
                with self.write() as conn:
                    if conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == _AUDIT_NAME_KEY)).scalar() is None:
                        conn.execute(sa.insert(t.meta).values(key=_AUDIT_NAME_KEY, value=secrets.token_hex(32)))
            except StoreError:  # another process created it at the same moment: read theirs
                continue
        msg = "could not create the audit name key"
        raise StoreError(msg)

    def users(self) -> pd.DataFrame:
        """All users without their password hashes."""
        with self.read_conn() as conn:
            res = conn.execute(sa.select(*[t.users.c[c] for c in _USER_COLUMNS]).order_by(t.users.c.username))
            return pd.DataFrame(res.fetchall(), columns=list(_USER_COLUMNS))

    def audit_log(self, since: dt.datetime | None = None, limit: int = 1000) -> pd.DataFrame:
        """The newest audit events first."""
        q = sa.select(t.audit_events).order_by(t.audit_events.c.id.desc()).limit(int(limit))
        if since is not None:
            q = q.where(t.audit_events.c.at >= since)
        with self.read_conn() as conn:
            res = conn.execute(q)
            frame = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        if not frame.empty:
            frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame
