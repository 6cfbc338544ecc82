"""User rows: the store side of accounts (hashing and lock-out rules live in ``auth``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa

from trygghetskarta import schema
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError, ValidationError
from trygghetskarta.store import tables as t
from trygghetskarta.store.core import StoreCore, now_utc

_USER_COLUMNS = ("id", "username", "role", "organisation", "active", "failed_attempts", "locked_until",
                 "last_login", "created_at", "sso_subject")


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
            ).returning(t.users.c.id)).scalar()
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
            n = conn.execute(sa.update(t.users).where(t.users.c.username == username).values(**values)).rowcount
            if not n:
                msg = f"no user named {username!r}"
                raise NotFoundError(msg)
            if audit_action:
                shown = {k: ("***" if k == "password_hash" else v) for k, v in values.items()}
                self.audit(audit_action, actor, "user", None, {"username": username, **shown}, conn=conn)

    def record_failed_login(self, username: str, limit: int, lock_until: dt.datetime, actor: Viewer | None) -> bool:
        """Count one wrong password in a single UPDATE (parallel guesses are all counted); at ``limit`` in a
        row the account is locked until ``lock_until`` and the counter starts again. True when it locked."""
        with self.write() as conn:
            failures = conn.execute(sa.update(t.users).where(t.users.c.username == username).values(
                failed_attempts=sa.func.coalesce(t.users.c.failed_attempts, 0) + 1).returning(
                t.users.c.failed_attempts)).scalar()
            if failures is None:
                msg = f"no user named {username!r}"
                raise NotFoundError(msg)
            locked = int(failures) >= int(limit)
            if locked:
                conn.execute(sa.update(t.users).where(t.users.c.username == username).values(
                    failed_attempts=0, locked_until=lock_until))
            self.audit("locked" if locked else "login_failed", actor, "user", None,
                       {"username": username, "failed_attempts": int(failures),
                        **({"locked_until": lock_until} if locked else {})}, conn=conn)
        return locked

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
