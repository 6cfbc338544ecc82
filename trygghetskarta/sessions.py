"""Server-side login sessions (issue #14): a reload, a second tab or a phone that discarded the tab keeps the
login until the idle timeout; logout and the timeout end it on the server.

- A login (password or single sign-on) makes a session row with a one-time **ticket** (random, 60 s, kept only
  as its SHA-256) and sends the browser to ``/auth/session?ticket=…&next=/page``.
- That route (``app_pages/_session_routes.py``) redeems the ticket, once: it makes the session **token**
  (``secrets.token_urlsafe(32)``), stores only its SHA-256 and sets it in a cookie that is HttpOnly (no script
  reads it), SameSite=Lax and Secure when the app is served over https; then it redirects to ``next``, which
  must be a path on this site (``safe_next``). The token is never in a URL, a page or the browser's storage.
- Every run of the app looks the session up by that cookie (``check``): idle longer than
  ``session_timeout_minutes``, an account that is gone or inactive, or one whose role changed since the login,
  ends it (the row is deleted), so a deactivation or demotion takes effect at that user's next interaction on
  every app instance over the same database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from trygghetskarta import auth, settings
from trygghetskarta.access import Viewer
from trygghetskarta.timeutil import now_utc

COOKIE = "tk_session"
TICKET_SECONDS = 60
# The last-seen time is written at most this often: a run within it changes nothing in the database.
TOUCH_SECONDS = 30
# A report draft never saved is removed after this long (it may hold a description: personal data).
DRAFT_MAX_AGE = dt.timedelta(days=7)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def digest(value: str) -> str:
    """SHA-256 of a token or ticket (hex): all the database ever holds of either."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session: its id, the viewer it stands for and the SSO subject it came with (if any)."""

    id: int
    viewer: Viewer
    sso_subject: str | None


def start(store: Any, viewer: Viewer, sso_subject: str | None = None,
          now: dt.datetime | None = None) -> tuple[int, str]:
    """Make a session for ``viewer`` (just authenticated); its id and the one-time ticket the browser redeems at
    ``/auth/session``. Sessions idle past the timeout, expired tickets and drafts older than ``DRAFT_MAX_AGE``,
    of anyone, are removed on the way."""
    now = now or now_utc()
    ticket = secrets.token_urlsafe(32)
    store.purge_sessions(now - _timeout(), now)
    store.purge_drafts(now - DRAFT_MAX_AGE)
    sid = store.create_session(viewer.username, viewer.role, viewer.organisation, sso_subject,
                               ticket_hash=digest(ticket), ticket_expires_at=now + dt.timedelta(seconds=TICKET_SECONDS),
                               now=now)
    return sid, ticket


def redeem(store: Any, ticket: str | None, now: dt.datetime | None = None) -> str | None:
    """The new session token for a valid, unused, unexpired ticket (the ticket is used up), else None."""
    if not isinstance(ticket, str) or not ticket or len(ticket) > 200:
        return None
    token = secrets.token_urlsafe(32)
    sid = store.redeem_ticket(digest(ticket), digest(token), now or now_utc())
    return token if sid is not None else None


def check(store: Any, *, token: str | None = None, session_id: int | None = None,
          now: dt.datetime | None = None, touch: bool = True) -> Session | None:
    """The live session for the cookie's ``token`` (or a known ``session_id``), or None. A session that is idle
    too long or whose account no longer allows it (gone, inactive, another role) is deleted and None returned;
    a live one has its last-seen time refreshed unless ``touch`` is false (an automatic refresh is no
    activity). Raises the store's errors (the caller fails closed)."""
    if session_id is None and (not isinstance(token, str) or not token or len(token) > 200):
        return None
    row = store.session_row(session_id=session_id, token_hash=None if session_id is not None else digest(token or ""))
    if row is None:
        return None
    now = now or now_utc()
    viewer = None if auth.session_expired(row["last_seen_at"], now) else _current_viewer(store, row)
    if viewer is None:
        store.delete_session(session_id=int(row["id"]))
        return None
    if touch and now - row["last_seen_at"] > dt.timedelta(seconds=TOUCH_SECONDS):
        store.touch_session(int(row["id"]), now)
    return Session(int(row["id"]), viewer, row.get("sso_subject"))


def _current_viewer(store: Any, row: dict[str, Any]) -> Viewer | None:
    """The viewer a session stands for now: its user row must exist, be active and have the role of the login
    (a single sign-on user without a row keeps the role of the identity token, unless a row for their subject
    has since been made, which then decides)."""
    user = store.user_row(row["username"])
    if user is None and row.get("sso_subject"):
        user = store.user_by_subject(row["sso_subject"])
        if user is None:
            return Viewer(row["username"], row["role"], row.get("organisation"))
    if user is None or not user.get("active") or user["role"] != row["role"]:
        return None
    return Viewer(row["username"], row["role"], user.get("organisation"))


def end(store: Any, *, token: str | None = None, session_id: int | None = None) -> None:
    """End a session on the server (logout): the row is deleted, so its cookie opens nothing any more."""
    if session_id is not None:
        store.delete_session(session_id=session_id)
    elif token and len(token) <= 200:
        store.delete_session(token_hash=digest(token))


def safe_next(value: str | None) -> str:
    """``value`` if it is a path on this site (``/atgarder?id=12``), else ``/``: no scheme, no host, no ``//``
    or backslash that a browser would read as another site, no control characters."""
    if not value or not value.startswith("/") or value.startswith("//") or _CONTROL.search(value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _timeout() -> dt.timedelta:
    return dt.timedelta(minutes=int(settings.get("session_timeout_minutes")))
