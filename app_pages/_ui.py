"""Shared UI helpers: the page registry (who sees which page), the cached store, cached reads, the
logged-in viewer, texts, error display and map rendering. Pages stay thin by calling these and the core.
"""

from __future__ import annotations

import datetime as dt
import logging
import string
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from app_pages._texts import text
from trygghetskarta import gdalsafe, i18n, schema, settings
from trygghetskarta.access import Viewer
from trygghetskarta.errors import TrygghetskartaError
from trygghetskarta.i18n import N_
from trygghetskarta.store import RestrictedView, Store, deferred_view_audit, open_store
from trygghetskarta.timeutil import local_today

ALL_ROLES = frozenset(schema.ROLE)


@dataclass(frozen=True)
class PageDef:
    """One page: its key (file name and URL), icon and the roles that may see it."""

    key: str
    icon: str
    roles: frozenset[str]

    @property
    def path(self) -> str:
        return f"app_pages/{self.key}.py"


# The navigation shows a role only its pages, and every page refuses the other roles itself.
PARTNERS = schema.PARTNER_ROLES  # police, housing companies, security guards, fire and rescue
PAGES: tuple[PageDef, ...] = (
    PageDef("oversikt", ":material/dashboard:", schema.EST_READER_ROLES),
    PageDef("karta", ":material/map:", ALL_ROLES),
    PageDef("rapportera", ":material/add_location_alt:",
            schema.KOMMUN_STAFF_ROLES | {"deltagare", "nattvandrare"}),
    PageDef("vandringar", ":material/directions_walk:", schema.PLANNER_ROLES | {"deltagare"}),
    PageDef("atgarder", ":material/task_alt:", schema.PLANNER_ROLES | PARTNERS),
    PageDef("lagesbild", ":material/summarize:", schema.EST_READER_ROLES),
    PageDef("est_rapport", ":material/assignment_add:", PARTNERS),
    PageDef("granskning", ":material/fact_check:", schema.PLANNER_ROLES),
    PageDef("import_export", ":material/swap_vert:", schema.PLANNER_ROLES),
    PageDef("admin", ":material/admin_panel_settings:", frozenset({"admin"})),
    PageDef("moderering", ":material/rate_review:", schema.PLANNER_ROLES),  # issue 16
)
# Public pages (issue 16): reachable with no account, by everyone; their texts are in four languages
# (``app_pages/_public.py``, ``trygghetskarta.public_texts``).
PUBLIC_PAGE_KEYS: tuple[str, ...] = ("anmal", "status", "publik_karta", "hjalp")
PAGE = {p.key: p for p in PAGES}
# Where a role lands after logging in: the work it came to do.
HOME: dict[str, str] = {"deltagare": "rapportera", "nattvandrare": "rapportera", "faltgrupp": "rapportera"}

_log = logging.getLogger("trygghetskarta.app")


# --- session --------------------------------------------------------------------------------------


def lang() -> str:
    value = st.session_state.get("tk_lang") or settings.get("lang")
    return value if value in schema.LANGUAGES else "sv"


def t(key: str, **values: object) -> str:
    return text(key, lang(), **values)


def label(vocabulary: str, key: Any) -> str:
    return schema.label(vocabulary, None if key is None or (not isinstance(key, str) and pd.isna(key)) else str(key),
                        lang())


def viewer() -> Viewer | None:
    """The logged-in user, from the session (set by the login page)."""
    user = st.session_state.get("tk_user")
    if not user:
        return None
    return Viewer(user["username"], user["role"], user.get("organisation"))


def set_viewer(v: Viewer, sso_subject: str | None = None, next_path: str = "/") -> None:
    """Log ``v`` in (just authenticated): a server-side session (``trygghetskarta.sessions``) for this browser
    connection at once, and a one-time ticket that the next run hands to the browser (``hand_over``), whose
    ``/auth/session`` route turns it into the HttpOnly session cookie, so that a reload stays logged in; then
    the browser goes to ``next_path`` (a page and its query, e.g. ``/atgarder?id=12``)."""
    from trygghetskarta import sessions

    sid, ticket = sessions.start(store(), v, sso_subject=sso_subject)
    st.session_state["tk_user"] = {"username": v.username, "role": v.role, "organisation": v.organisation}
    st.session_state["tk_session_id"] = sid
    st.session_state["tk_handover"] = f"{SESSION_ROUTE}?{urlencode({'ticket': ticket, 'next': next_path})}"
    if sso_subject:
        st.session_state["tk_sso_subject"] = sso_subject
    else:
        st.session_state.pop("tk_sso_subject", None)


SESSION_ROUTE = "/auth/session"  # app_pages/_session_routes.py
LOGOUT_ROUTE = "/auth/session/end"


def hand_over() -> bool:
    """After a login: send the browser to the session route once (it sets the cookie and comes back to the
    page). Whether it did: then the page is not drawn, so nothing is begun on a page that is about to reload."""
    target = st.session_state.pop("tk_handover", None)
    if target:
        st.caption(t("logging_in"))
        redirect(target)
    return bool(target)


def redirect(target: str) -> None:
    """Send the browser to ``target`` (a path on this site, made by the app, JSON-quoted into the script)."""
    import json

    quoted = json.dumps(target).replace("<", "\\u003c")  # no "</script>" can end the script early
    st.html(f"<script>window.location.replace({quoted});</script>", unsafe_allow_javascript=True)


# Streamlit's sidebar overlays the page below this width (its "md" breakpoint) and stays open after a page is
# chosen there; this folds it away once per page change (the script's text names the page, so Streamlit runs it
# again only when the page changes, not on every tap within a page).
_FOLD_SIDEBAR_JS = """<script>
(() => {{ const page = {page}; if (window.innerWidth >= 768) return;
  // only once a page has been chosen (another page than the last one drawn), never on a rerun of the same page
  const last = sessionStorage.getItem('tk_page'); sessionStorage.setItem('tk_page', page);
  if (last === page) return;
  setTimeout(() => {{
    const bar = document.querySelector('[data-testid="stSidebar"]');
    if (!bar || bar.getAttribute('data-collapsed') !== 'false') return;
    const fold = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (fold) fold.click();
  }}, 60); }})();
</script>"""


def fold_sidebar_on_phone(page_key: str) -> None:
    """On a phone, close the navigation after a page is chosen in it (issue #14)."""
    import json

    st.html(_FOLD_SIDEBAR_JS.format(page=json.dumps(page_key)), unsafe_allow_javascript=True)


def _cookie_token() -> str | None:
    from trygghetskarta import sessions

    try:
        value = st.context.cookies.get(sessions.COOKIE)
    except (AttributeError, RuntimeError):  # no request context (a test without a browser)
        return None
    return value if isinstance(value, str) and value else None  # AppTest has no real request context


def authenticated(*, touch: bool = True) -> Viewer | None:
    """The logged-in viewer of this run, from the server-side session: the one this connection logged in with,
    else the one the browser's session cookie names (a reload, a second tab). Idle too long, logged out
    elsewhere, or an account deactivated or given another role since the login: the session is ended and
    None returned (with the notice ``session_expired`` where a login had been). Fails closed when the
    database cannot be asked."""
    import sqlalchemy as sa

    from trygghetskarta import sessions

    state = st.session_state
    sid = state.get("tk_session_id")
    token = None if sid is not None else _cookie_token()
    had_login = sid is not None or token is not None or viewer() is not None
    live = None
    if sid is not None or token is not None:
        try:
            live = sessions.check(store(), token=token, session_id=sid, touch=touch)
        except (TrygghetskartaError, sa.exc.SQLAlchemyError):
            _log.exception("the session could not be checked")
    if live is None:
        if had_login:
            end_session("session_expired", server=False)
        return None
    state["tk_user"] = {"username": live.viewer.username, "role": live.viewer.role,
                        "organisation": live.viewer.organisation}
    state["tk_session_id"] = live.id
    if live.sso_subject:
        state["tk_sso_subject"] = live.sso_subject
    return live.viewer


def end_session(flash: str | None = "session_expired", *, server: bool = True) -> None:
    """Forget the logged-in user (the next run shows the login, with ``flash`` as its notice) and, unless
    ``server`` is false (it is gone already), end the server-side session too."""
    sid = st.session_state.get("tk_session_id")
    if server and sid is not None:
        from trygghetskarta import sessions

        try:
            sessions.end(store(), session_id=int(sid))
        except TrygghetskartaError:
            _log.exception("the session could not be ended on the server")
    for key in ("tk_user", "tk_session_id", "tk_sso_subject", "tk_handover"):
        st.session_state.pop(key, None)
    if flash:
        st.session_state["tk_flash"] = flash


def session_ended(v: Viewer) -> bool:
    """Whether the session of ``v`` must log in again (``authenticated`` found no live session for it), without
    counting this as activity."""
    current = authenticated(touch=False)
    return current is None or (current.username, current.role) != (v.username, v.role)


def _is_fragment_rerun() -> bool:
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx is None or bool(getattr(ctx, "fragment_ids_this_run", None))


def live_viewer() -> Viewer:
    """Call first in every part of a page that refreshes itself (``st.fragment(run_every=…)``).

    A full run of the page has passed the session check in ``app.py`` just before. A fragment's own rerun skips
    ``app.py``, so here the session is checked again: idle timeout and whether the user is still active. An
    automatic refresh is not activity, so it does not extend the idle time. An ended session is forgotten and the
    whole app reruns, which shows the login instead of the data.
    """
    v = viewer()
    if v is None or (_is_fragment_rerun() and session_ended(v)):
        end_session(server=False)
        st.rerun(scope="app")
    return v


def pages_for(role: str | None) -> list[PageDef]:
    return [p for p in PAGES if role in p.roles]


def require(page_key: str) -> Viewer:
    """The viewer, if their role may see ``page_key``; otherwise show the refusal and stop the page."""
    page = PAGE[page_key]
    v = viewer()
    if v is None:
        st.warning(t("not_logged_in"))
        st.stop()
    if v.role not in page.roles:
        st.error(t("refused", role=label("role", v.role), page=t(f"page_{page_key}")))
        st.stop()
    return v


def header(page_key: str) -> None:
    st.title(t(f"page_{page_key}"))
    st.html(streamlit_texts())


def _replaced(selector: str, text: str) -> str:
    """CSS that shows ``text`` in place of the text Streamlit writes in ``selector``."""
    shown = text.replace("\\", "").replace('"', "'")
    return f'{selector} {{ font-size: 0; }}{selector}::after {{ content: "{shown}"; font-size: 0.875rem; }}'


def streamlit_texts() -> str:
    """CSS that writes in the chosen language what Streamlit's own widgets write in English whatever the
    language: an empty date field's ``yyyy-mm-dd`` (``åååå-mm-dd``), a file uploader's "Upload" button and
    its "200MB per file" line. (Screen readers still hear Streamlit's English labels: docs/ARCHITECTURE.md.)"""
    year, month, day = [*t("date_input_format").split("-"), "", "", ""][:3]
    field = '[data-testid="stDateInput"] [data-placeholder="true"]'
    dropzone = '[data-testid="stFileUploaderDropzone"]'
    rules = [_replaced(f'{field}[data-type="{kind}"]', text) for kind, text in
             (("year", year), ("month", month), ("day", day))]
    rules.append(_replaced(f'{dropzone} button [data-testid="stMarkdownContainer"] p', t("upload_button")))
    rules.append(_replaced('[data-testid="stFileUploaderDropzoneInstructions"] span',
                           t("upload_limit", mb=int(st.get_option("server.maxUploadSize")))))
    return f"<style>{''.join(rules)}</style>"


# --- store and cached reads -----------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _store_for(url: str) -> Store:
    gdalsafe.harden()  # once for the app's process: GDAL with only the product's drivers and no network
    s = open_store(url)
    s.require_initialised()
    return s


def store() -> Store:
    """The process-wide store for the configured database (one engine, shared by all sessions)."""
    return _store_for(settings.database_url())


_run_memos: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_run_memos_lock = threading.Lock()


def _this_run() -> dict[str, Any]:
    """A dict that lives as long as the current run of this session's script (a full run or a fragment's rerun),
    empty at its start; outside a run a fresh one each call. Streamlit makes one ``parallel_coordinator`` per
    run (``ScriptRunContext.reset``), so it marks the run; weakly held, the memo goes with it."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    marker = getattr(ctx, "parallel_coordinator", None) if ctx is not None else None
    if marker is None:
        return {}
    with _run_memos_lock:
        memo = _run_memos.get(marker)
        if memo is None:
            memo = _run_memos[marker] = {}
        return memo


def data_version() -> str:
    """The database's data version (``Store.data_version``), read once per run: every cached read is keyed on it,
    and every write transaction of any process (another app instance, the CLI) advances it, so what was written
    anywhere is shown at the next interaction here. No page has to announce its writes."""
    memo = _this_run()
    url = settings.database_url()
    key = f"data_version:{url}"
    if key not in memo:
        memo[key] = store().data_version()
    return str(memo[key])


def _page_name() -> str:
    """The running page's file name without ``.py`` (e.g. ``karta``), for the audit log."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return "-"
    page: dict[str, Any] = dict(ctx.pages_manager.get_pages().get(ctx.page_script_hash) or {})
    return Path(str(page.get("script_path") or ctx.main_script_path)).stem or "-"


def _audit_views(v: Viewer | None, views: tuple[RestrictedView, ...]) -> None:
    """Audit the restricted rows a cached read showed ``v``, on a cache hit as on the first read: one
    ``view_restricted`` event per kind and run (a page view), with the page's key as its context."""
    if v is None or not views:
        return
    memo = _this_run()
    audited: set[str] = memo.setdefault("audited_kinds", set())
    fresh = tuple(view for view in views if view.kind not in audited)
    if not fresh:
        return
    store().audit_views(v, fresh, context=f"page:{_page_name()}")
    audited.update(view.kind for view in fresh)


def _viewer_key(v: Viewer | None) -> tuple[str, str, str | None] | None:
    return None if v is None else (v.username, v.role, v.organisation)


def _viewer_from_key(key: tuple[str, str, str | None] | None) -> Viewer | None:
    return None if key is None else Viewer(*key)


@st.cache_data(ttl=60, show_spinner=False, max_entries=200)
def _points(url: str, version: str, viewer_key: Any, kind: str, start: Any, end: Any, columns: tuple[str, ...] | None,
            filters: tuple[tuple[str, Any], ...]) -> tuple[pd.DataFrame, tuple[RestrictedView, ...]]:
    del version  # part of the cache key only
    with deferred_view_audit() as views:  # audited by the caller at every use, not here (only on a miss)
        frame = _store_for(url).points(kind, _viewer_from_key(viewer_key), start=start, end=end, columns=columns,
                                       **dict(filters))
    return frame, tuple(views)


def points(kind: str, v: Viewer | None, start: Any = None, end: Any = None, columns: tuple[str, ...] | None = None,
           **filters: Any) -> pd.DataFrame:
    """``store.points`` cached per viewer, period, filters and data version; restricted rows audited per view."""
    frozen = tuple(sorted((k, tuple(val) if isinstance(val, list | tuple | set) else val)
                          for k, val in filters.items() if val is not None))
    frame, views = _points(settings.database_url(), data_version(), _viewer_key(v), kind, start, end, columns,
                           frozen)
    _audit_views(v, views)
    return frame


@st.cache_data(ttl=60, show_spinner=False, max_entries=50)
def _read(url: str, version: str, viewer_key: Any, kind: str, start: Any, end: Any,
          filters: tuple[tuple[str, Any], ...]) -> tuple[pd.DataFrame, tuple[RestrictedView, ...]]:
    del version
    with deferred_view_audit() as views:
        frame = _store_for(url).read(kind, _viewer_from_key(viewer_key), start=start, end=end, **dict(filters))
    return frame, tuple(views)


def read(kind: str, v: Viewer | None, start: Any = None, end: Any = None, **filters: Any) -> pd.DataFrame:
    """``store.read`` cached per viewer, period, filters and data version; restricted rows audited per view."""
    frozen = tuple(sorted((k, tuple(val) if isinstance(val, list | tuple | set) else val)
                          for k, val in filters.items() if val is not None))
    frame, views = _read(settings.database_url(), data_version(), _viewer_key(v), kind, start, end, frozen)
    _audit_views(v, views)
    return frame


@st.cache_resource(show_spinner=False)
def municipality() -> Any:
    from trygghetskarta import geography

    return geography.municipality()


def areas() -> Any:
    return read("area", None)


def area_names() -> dict[int, str]:
    frame = areas()
    return {int(i): str(n) for i, n in zip(frame["id"], frame["name"], strict=True)}


def today() -> dt.date:

    return local_today()


# --- user text ------------------------------------------------------------------------------------

_PUNCTUATION = frozenset(string.punctuation)


def plain(value: Any) -> str:
    """Text a user entered (a description, a walk's organisations, a name, an error quoting an input), made safe
    for the Markdown that ``st.markdown``/``caption``/``info``/``success``/``warning``/``error`` render: shown
    literally, never as a link, an image, HTML, a heading, a list, an icon or a colour.

    Every ASCII punctuation character is backslash-escaped (CommonMark lets any of them be), so ``![x](url)``
    stays text and no browser fetches ``url``; lines are stripped of leading blanks (no code blocks) and kept
    as hard line breaks. Use it for every record field and every message built from one; use it on the values,
    not on the app's own texts (``t``), which may carry formatting."""
    if value is None or (pd.api.types.is_scalar(value) and not isinstance(value, str) and pd.isna(value)):
        return ""
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    escaped = ["".join(f"\\{c}" if c in _PUNCTUATION else " " if c == "\t" else c for c in line.strip())
               for line in lines]
    return "  \n".join(escaped)


# --- errors ---------------------------------------------------------------------------------------


def _log_path() -> Path:
    folder = settings.data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "app.log"


def log_unexpected(exc: BaseException) -> str:
    """Log ``exc`` with its traceback under a new error id (data/logs/app.log); returns the id."""
    error_id = uuid.uuid4().hex[:12]
    path = _log_path()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in _log.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        _log.addHandler(handler)
        _log.setLevel(logging.INFO)
        _log.propagate = False
    v = viewer()
    _log.error("error-id %s user=%s role=%s", error_id, v.username if v else "-", v.role if v else "-",
               exc_info=(type(exc), exc, exc.__traceback__))
    return error_id


def _is_control_flow(exc: BaseException) -> bool:
    """Streamlit's own stop/rerun signals, which must pass through."""
    return type(exc).__module__.startswith("streamlit.") and type(exc).__name__ in (
        "StopException", "RerunException")


def _core_messages() -> dict[str, str]:
    """The core's fixed refusals (English, for the CLI and the logs) and the text each one is shown as."""
    from trygghetskarta import auth

    return {auth.LOGIN_FAILED: N_("login_failed"), auth.SSO_WRONG_ISSUER: N_("sso_wrong_issuer"),
            auth.SSO_WRONG_AUDIENCE: N_("sso_wrong_audience"), auth.SSO_REFUSED: N_("sso_no_role")}


def error_text(exc: TrygghetskartaError) -> str:
    """A project error as the user reads it, in the chosen language: its own text (``msgid``), a fixed refusal's,
    the refusal of a role; else its message, which quotes the input it refuses (plain text, never Markdown)."""
    from trygghetskarta.errors import PermissionDeniedError

    msgid = getattr(exc, "msgid", None) or _core_messages().get(str(exc))
    if msgid:
        values = {k: label("role", v) if k == "role" else v for k, v in getattr(exc, "values", {}).items()}
        return plain(t(msgid, **values))
    if isinstance(exc, PermissionDeniedError):
        v = viewer()
        return t("error_permission", role=label("role", v.role) if v else "–")
    return plain(str(exc))


@contextmanager
def guard() -> Iterator[None]:
    """Show a project error as its message and anything else as a logged error id, never a traceback."""
    try:
        yield
    except TrygghetskartaError as exc:
        st.error(error_text(exc))
    except Exception as exc:
        if _is_control_flow(exc):
            raise
        st.error(t("unexpected", id=log_unexpected(exc)))


# --- maps -----------------------------------------------------------------------------------------


def show_map(m: Any, *, height: int = 560) -> None:
    """Render a folium map in an iframe whose libraries (Leaflet and its plugins) come from the app itself
    (``_assets``), so the planners' map needs no CDN and the browser caches the libraries between reruns;
    only base-map tiles, if configured, are remote. Panning and zooming never rerun the page."""
    from app_pages import _assets
    from trygghetskarta import maps

    # Our own document: every user text in it is escaped by maps (see the XSS tests).
    st.iframe(maps.map_html(_assets.local(m)), height=height)


MARKERS_SHOWN = 200  # rows of a map's marker list (an HTML table a screen reader can walk)


def marker_list(table: pd.DataFrame, *, shown: int = MARKERS_SHOWN) -> None:
    """The map's markers outside the map (issue 14): an expander with a plain HTML table (``st.table``, which a
    screen reader reads row by row) of ``maps.marker_table``'s newest ``shown`` rows. Cells go through
    ``plain``: ``st.table`` renders Markdown and area names and labels are data."""
    with st.expander(t("markers_list", n=len(table)), icon=":material/list:"):
        if table.empty:
            st.caption(t("markers_none"))
            return
        if len(table) > shown:
            st.caption(t("markers_more", shown=shown, n=len(table)))
        head = table.head(shown)
        columns = {t(f"col_{c}"): [plain(v) for v in head[c]] for c in ("id", "layer", "what", "status", "time",
                                                                       "area")}
        columns[t("col_position")] = [plain(f"{la:.5f}, {lo:.5f}") for la, lo in zip(head["lat"], head["lon"],
                                                                                      strict=True)]
        st.table(pd.DataFrame(columns), hide_index=True, alt=t("markers_alt"))


@st.cache_data(ttl=60, show_spinner=False, max_entries=50)
def _map_data(url: str, version: str, viewer_key: Any, filters: Any) -> tuple[Any, tuple[RestrictedView, ...]]:
    del version
    from trygghetskarta import mapview

    with deferred_view_audit() as views:
        data = mapview.map_data(_store_for(url), _viewer_from_key(viewer_key), filters)
    return data, tuple(views)


def map_data(v: Viewer | None, filters: Any) -> Any:
    """``mapview.map_data`` cached per viewer, filters and data version; restricted rows audited per view."""
    data, views = _map_data(settings.database_url(), data_version(), _viewer_key(v), filters)
    _audit_views(v, views)
    return data


# --- lägesbild ------------------------------------------------------------------------------------


def chart(spec: Any, **kwargs: Any) -> None:
    """An Altair chart whose numbers and dates read in the chosen language (Swedish: ``14 000``, ``december``):
    Vega-Lite's ``config.locale`` from Babel's CLDR data."""
    st.altair_chart(spec.configure(locale=i18n.d3_locale(lang())), **kwargs)


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as a table shows it: a missing value blank (Streamlit writes "None"), times in local time to the
    minute, yes/no in the chosen language."""
    out = frame.copy()
    zone = settings.get("timezone")
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = values.dt.tz_convert(zone).dt.strftime("%Y-%m-%d %H:%M").astype(object)
        elif values.dtype == bool:
            out[column] = values.map({True: t("yes"), False: t("no")})
        if out[column].isna().any():
            out[column] = out[column].astype(object).where(out[column].notna(), "")
    return out


def table(frame: Any, **kwargs: Any) -> None:
    """``st.dataframe`` of ``shown(frame)``, or a line saying there is nothing to show (Streamlit labels an empty
    table "empty")."""
    data = getattr(frame, "data", frame)  # a Styler's frame
    if len(data) == 0:
        st.caption(t("no_rows"))
    else:
        st.dataframe(frame if hasattr(frame, "data") else shown(frame), **kwargs)


# The action columns a table may show, and the text of each header.
ACTION_COLUMNS: dict[str, str] = {"id": N_("action_nr"), "what": N_("what"),
                                  "responsible_label": N_("responsible"),
                                  "priority_label": N_("priority"), "kind_label": N_("action_kind"),
                                  "status_label": N_("action_status"), "planned_date": N_("planned_date"),
                                  "deadline": N_("deadline"), "days_overdue": N_("days_overdue")}


def action_table(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``columns`` of an action list, headed in the chosen language (never ``responsible_label``)."""
    return shown(frame[list(columns)]).rename(columns={c: t(ACTION_COLUMNS[c]) for c in columns})


def area_status_table(report: Any) -> None:
    """The lägesbild's level per area as a table whose level cells carry the level's colour (a tint of the
    colours in the PDF; no emoji, which not every desktop font has), with the plain-language reason for each
    colour in full (a static table wraps it; a data grid would cut it) and how the status is computed."""
    from trygghetskarta.lagesbild.render import LEVEL_COLOURS

    status = pd.DataFrame(report.area_status.drop(columns="geometry"))
    level_col = t("statuses")
    table = pd.DataFrame({t("areas"): status["area_name"],
                          level_col: status["level"].map(lambda k: label("area_level", k)),
                          t("area_status_why"): status["reasons"]})
    tints = [f"background-color: {LEVEL_COLOURS.get(k, '#ffffff')}55" for k in status["level"]]
    st.table(table.style.apply(lambda _col: tints, subset=[level_col]).hide(axis="index"))
    if getattr(report, "status_note", ""):
        st.caption(plain(report.status_note))



@st.cache_data(ttl=300, show_spinner=False, max_entries=20)
def _lagesbild(url: str, version: str, viewer_key: Any, start: dt.date, end: dt.date, kind: str, audience: str,
               area_ids: tuple[int, ...] | None, lang_: str) -> tuple[Any, tuple[RestrictedView, ...]]:
    del version
    from trygghetskarta import lagesbild

    period = lagesbild.period_from_bounds(start, end) if kind == "custom" else lagesbild.period_from_date(kind, start)
    v = _viewer_from_key(viewer_key)
    with deferred_view_audit() as views:
        report = lagesbild.build_lagesbild(_store_for(url), period, audience=audience, viewer=v,
                                           area_ids=list(area_ids) if area_ids else None, lang=lang_)
    return report, tuple(views)


def lagesbild_for(v: Viewer, start: dt.date, end: dt.date | None = None, kind: str = "week",
                  area_ids: tuple[int, ...] | None = None, audience: str = "intern") -> Any:
    """The lägesbild the viewer may see (partners always get the partner audience), cached per data version."""
    if v.role in schema.PARTNER_ROLES:
        audience = "partner"
    report, views = _lagesbild(settings.database_url(), data_version(), _viewer_key(v), start, end or start, kind,
                               audience, area_ids, lang())
    _audit_views(v, views)
    return report


# --- #17: trust in the hot-spot map, emerging hot spots, effect of actions ---------------------------------


@st.cache_data(ttl=300, show_spinner=False, max_entries=30)
def _hotspot_trust(url: str, version: str, viewer_key: Any, method: str, cell_m: float, until: dt.date,
                   lang_: str) -> tuple[dict[str, Any], tuple[RestrictedView, ...]]:
    del version
    from trygghetskarta import hotspot_service

    with deferred_view_audit() as views:
        result = hotspot_service.evaluate(_store_for(url), _viewer_from_key(viewer_key), method=method,
                                          period="month", periods=6, window=6, cell_m=cell_m, until=until,
                                          lang=lang_)
    return result, tuple(views)


def hotspot_trust(v: Viewer | None, method: str, cell_m: float) -> dict[str, Any]:
    """``hotspot_service.evaluate`` over the last six months (cached per viewer and data version; restricted rows
    audited per view)."""
    result, views = _hotspot_trust(settings.database_url(), data_version(), _viewer_key(v), method, float(cell_m),
                                   today(), lang())
    _audit_views(v, views)
    return result


@st.cache_data(ttl=300, show_spinner=False, max_entries=30)
def _emerging(url: str, version: str, viewer_key: Any, cell_m: float, until: dt.date,
              lang_: str) -> tuple[Any, tuple[RestrictedView, ...]]:
    del version
    from trygghetskarta import hotspot_service

    with deferred_view_audit() as views:
        result = hotspot_service.emerging(_store_for(url), _viewer_from_key(viewer_key), period="month",
                                          periods=12, cell_m=cell_m, until=until, lang=lang_)
    return result, tuple(views)


def emerging(v: Viewer | None, cell_m: float) -> Any:
    """Emerging hot-spot cells over the last 12 months (cached per viewer and data version; restricted rows
    audited per view)."""
    result, views = _emerging(settings.database_url(), data_version(), _viewer_key(v), float(cell_m), today(),
                              lang())
    _audit_views(v, views)
    return result
