"""Log an AppTest in as the login page does (issue #14): a server-side session for the connection."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from trygghetskarta import sessions
from trygghetskarta.access import Viewer
from trygghetskarta.store import open_store


def log_in(at: Any, viewer: Viewer, url: str | None = None, *, idle: dt.timedelta | None = None) -> int:
    """A session for ``viewer`` in the database at ``url`` (else ``TRYGGHETSKARTA_DB``), put into the AppTest's
    session state; ``idle``: as if the last interaction was that long ago. The session's id."""
    store = open_store(url or os.environ["TRYGGHETSKARTA_DB"])
    try:
        sid, _ticket = sessions.start(store, viewer)
        if idle is not None:
            store.touch_session(sid, dt.datetime.now(dt.UTC) - idle)
    finally:
        store.dispose()
    at.session_state["tk_user"] = {"username": viewer.username, "role": viewer.role,
                                   "organisation": viewer.organisation}
    at.session_state["tk_session_id"] = sid
    return sid
