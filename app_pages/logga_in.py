"""Login: a local account (username + password, lock-out in ``auth``) or single sign-on when configured."""

from __future__ import annotations

import streamlit as st

from app_pages import _ui
from trygghetskarta import auth
from trygghetskarta.errors import AuthenticationError


def _sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


st.title(_ui.t("app_title"))
st.caption(_ui.t("login_intro"))
flash = st.session_state.pop("tk_flash", None)
if flash:
    st.info(_ui.t(flash))

with _ui.guard():
    if _sso_configured() and getattr(st.user, "is_logged_in", False):
        try:
            _ui.set_viewer(auth.viewer_from_oidc_claims(_ui.store(), st.user.to_dict()))
            st.rerun()
        except AuthenticationError as exc:
            st.error(str(exc))
            st.logout()

    with st.form("login", border=True):
        username = st.text_input(_ui.t("username"), autocomplete="username")
        password = st.text_input(_ui.t("password"), type="password", autocomplete="current-password")
        submitted = st.form_submit_button(_ui.t("login"), type="primary", width="stretch")
    if submitted:
        try:
            _ui.set_viewer(auth.authenticate(_ui.store(), username.strip(), password))
        except AuthenticationError as exc:
            st.error(str(exc))
        else:
            st.rerun()
    if _sso_configured():
        st.button(_ui.t("login_sso"), on_click=st.login, icon=":material/badge:")
