"""Drafts of the report page (issue #14): what a user has begun to fill in survives a reload, a second tab or a
phone that discarded the page, until it is saved. Kept on the server (``Store.save_draft``), keyed by user and
form, not in the browser: no storage for the page's scripts to read, and the same draft on every device of
the user. Photos are not kept (the browser cannot be given a file back); the notice says so."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import streamlit as st

from app_pages import _ui
from trygghetskarta.errors import TrygghetskartaError
from trygghetskarta.timeutil import now_utc

_log = logging.getLogger("trygghetskarta.app")


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
    try:
        if filled:
            _ui.store().save_draft(viewer.username, form, text, now_utc())
        else:
            _ui.store().delete_draft(viewer.username, form)
    except TrygghetskartaError:
        _log.exception("a draft could not be kept")
        return
    state[_flag(form, "last")] = text


def clear(form: str) -> None:
    """The report is saved (or started over): remove its draft."""
    viewer = _ui.viewer()
    st.session_state.pop(_flag(form, "last"), None)
    if viewer is None:
        return
    try:
        _ui.store().delete_draft(viewer.username, form)
    except TrygghetskartaError:
        _log.exception("a draft could not be removed")
