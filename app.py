"""Trygghetskarta: routing only. Login gate, language switch, and the pages each role may see."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from app_pages import _ui

# A shipped icon: a Material or emoji page icon makes the browser fetch the favicon from Google's font CDN.
st.set_page_config(page_title="Trygghetskarta", page_icon=str(Path(__file__).parent / "app_pages" / "favicon.png"),
                   layout="wide")



def _language_switch() -> None:
    with st.sidebar:
        st.segmented_control(_ui.t("language"), options=["sv", "en"], key="tk_lang",
                             format_func=lambda k: {"sv": "Svenska", "en": "English"}[k], default=_ui.lang())


def _logout() -> None:
    """End the app's session on the server, and the single sign-on identity with it (Streamlit sends the browser
    to the provider's end-session page); a local login sends the browser through the route that clears the
    session cookie. A callback, so that no rerun drops the redirect."""
    _ui.end_session(None)
    if getattr(st.user, "is_logged_in", False):
        st.logout()
    else:
        st.session_state["tk_logged_out"] = True


# The server-side session (issue #14): this connection's login, else the browser's session cookie; idle too long,
# or the account deactivated or given another role since the login, ends it here, at the next interaction.
viewer = _ui.authenticated()

def _public_pages() -> list:
    """The public pages (no account needed): report a place, follow a report, the public map, help, and the
    accessibility statement."""
    from app_pages._public import PUBLIC_PAGES, t

    return [*(st.Page(f"app_pages/{key}.py", title=t(text_key), icon=icon, url_path=key)
              for key, text_key, icon in PUBLIC_PAGES),
            st.Page("app_pages/tillganglighet.py", title=_ui.t("page_tillganglighet"), icon=":material/accessibility:",
                    url_path="tillganglighet")]


# A visible keyboard focus on every control (WCAG 2.4.7): Streamlit draws none on its navigation links, its table
# and chart toolbars and its inputs' own element, only a faint ring on some buttons.
_FOCUS_CSS = """<style>
:focus-visible { outline: 3px solid #a61e2e !important; outline-offset: 2px !important; }
</style>"""


def _document_frame(public: bool) -> None:
    """The visible focus, and the page's language on the document: Streamlit's index.html says ``lang="en"``
    whatever the app writes (streamlit/streamlit#15726), which makes a screen reader read Swedish with English
    rules (WCAG 3.1.1)."""
    from app_pages import _public

    code = _public.lang() if public else _ui.lang()
    st.html(f"{_FOCUS_CSS}<script>document.documentElement.lang = {json.dumps(code)};</script>",
            unsafe_allow_javascript=True)


def _login_pages() -> list:
    """The login as the default page and under every page's own address, so that a link to a page or a record
    (``/atgarder?id=12``) shows the login and, once logged in, that page (``tk_next``)."""
    login = [st.Page("app_pages/logga_in.py", title=_ui.t("page_login"), icon=":material/login:",
                     url_path="logga_in", default=True)]
    return login + [st.Page("app_pages/logga_in.py", title=_ui.t("page_login"), url_path=p.key) for p in _ui.PAGES]


if viewer is None:
    if st.session_state.pop("tk_logged_out", False):
        _ui.redirect(_ui.LOGOUT_ROUTE)  # clears the session cookie in the browser and comes back to the login
    # The login is the default page; the public pages link to each other and are reached by their links.
    page = st.navigation([*_login_pages(), *_public_pages()], position="hidden")
    if page.url_path in _ui.PAGE:
        query = urlencode(st.query_params.to_dict())
        st.session_state["tk_next"] = f"/{page.url_path}" + (f"?{query}" if query else "")
    else:
        st.session_state.pop("tk_next", None)
else:
    if _ui.hand_over():  # just logged in: the browser gets its session cookie and comes back to the page
        st.stop()
    home = _ui.HOME.get(viewer.role, "oversikt")
    allowed = _ui.pages_for(viewer.role)
    if home not in {p.key for p in allowed}:
        home = allowed[0].key
    # One flat list: Streamlit writes a section's header inside the list (a <div> in the <ul>), which breaks the
    # list for a screen reader (axe "list"/"listitem", WCAG 1.3.1). Every page listed: no "View 3 more", which
    # Streamlit writes in English.
    page = st.navigation([*(st.Page(p.path, title=_ui.t(f"page_{p.key}"), icon=p.icon, url_path=p.key,
                                    default=p.key == home) for p in allowed), *_public_pages()], expanded=True)
    with st.sidebar:
        st.caption(_ui.t("logged_in_as", user=_ui.plain(viewer.username), role=_ui.label("role", viewer.role)))
        st.button(_ui.t("logout"), icon=":material/logout:", on_click=_logout)
        _ui.fold_sidebar_on_phone(page.url_path)
public_page = page.url_path in _ui.PUBLIC_PAGE_KEYS
if page.url_path == "tillganglighet" and "tk_lang" not in st.session_state:
    # the statement is in Swedish and English: a resident who chose English on a public page (or a link's
    # ?lang=en) reads it in English
    asked = st.query_params.get("lang") or st.session_state.get("pub_lang")
    st.session_state["tk_lang"] = asked if asked in ("sv", "en") else _ui.lang()
if not public_page:  # the public pages have their own four-language choice
    _language_switch()
_document_frame(public_page)
page.run()
