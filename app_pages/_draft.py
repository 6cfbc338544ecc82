"""Drafts of the report page (issue #14): what a user has begun to fill in survives a reload, a second tab or a
phone that discarded the page, until it is saved. Kept on the server (``Store.save_draft``), keyed by user and
form, not in the browser: no storage for the page's scripts to read, and the same draft on every device of
the user. Photos are not kept (the browser cannot be given a file back); the notice says so.

The writes go to one background thread per process, in order (a change, then the save's removal), so a run
on the phone never waits for the database to keep the draft."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import streamlit as st

from app_pages import _ui
from trygghetskarta.errors import TrygghetskartaError
from trygghetskarta.timeutil import now_utc

_log = logging.getLogger("trygghetskarta.app")


@st.cache_resource(show_spinner=False)
def _writer() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="tk-drafts")


def _in_background(write: Callable[[], Any]) -> None:
    def run() -> None:
        try:
            write()
        except TrygghetskartaError:
            _log.exception("a draft could not be kept")

    _writer().submit(run)


def _flag(form: str, what: str) -> str:
    return f"tk_draft_{form}_{what}"


def restore(form: str, fields: Mapping[str, str], decode: Mapping[str, Any] | None = None) -> bool:
    """Once per browser connection: put the stored draft of ``form`` into the session state keys ``fields``
    ({draft field: session state key}) before the widgets are made. Whether a draft was restored in this run."""
    state = st.session_state
    if state.get(_flag(form, "checked")):
        return False
    state[_flag(form, "checked")] = True
    viewer = _ui.viewer()
    if viewer is None:
        return False
    try:
        found = _ui.store().draft(viewer.username, form)
    except TrygghetskartaError:
        _log.exception("a draft could not be read")
        return False
    if found is None:
        return False
    try:
        data = json.loads(found[0])
    except ValueError:
        return False
    restored = False
    for name, key in fields.items():
        if name in data and data[name] is not None:
            value = data[name]
            state[key] = decode[name](value) if decode and name in decode else value
            restored = True
    state[_flag(form, "last")] = found[0]
    return restored


def keep(form: str, values: Mapping[str, Any], *, filled: bool) -> None:
    """Store ``values`` (JSON-able) as the draft of ``form`` when they changed since the last run; ``filled``
    false (nothing begun yet) removes a stored draft instead."""
    viewer = _ui.viewer()
    if viewer is None:
        return
    state = st.session_state
    text = json.dumps(dict(values), ensure_ascii=False, sort_keys=True) if filled else ""
    if text == state.get(_flag(form, "last"), ""):
        return
    store, username, now = _ui.store(), viewer.username, now_utc()
    if filled:
        _in_background(lambda: store.save_draft(username, form, text, now))
    else:
        _in_background(lambda: store.delete_draft(username, form))
    state[_flag(form, "last")] = text


def clear(form: str) -> None:
    """The report is saved (or started over): remove its draft."""
    viewer = _ui.viewer()
    st.session_state.pop(_flag(form, "last"), None)
    if viewer is None:
        return
    store, username = _ui.store(), viewer.username
    _in_background(lambda: store.delete_draft(username, form))  # after any change still being written
