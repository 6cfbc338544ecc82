"""Login: a local account (username + password, lock-out in ``auth``) or single sign-on when configured."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from app_pages import _public, _sso, _ui
from trygghetskarta import auth, settings
from trygghetskarta.errors import AuthenticationError

# What the core's refusal means, in the user's language.
_SSO_MESSAGES = {auth.SSO_WRONG_ISSUER: "sso_wrong_issuer", auth.SSO_WRONG_AUDIENCE: "sso_wrong_audience",
                 auth.SSO_REFUSED: "sso_no_role"}


def _fresh(claims: dict) -> bool:
    """Whether the identity from Streamlit's login cookie may still be taken without a new sign-on: its ID token
    has not expired and was issued within the idle timeout (the cookie itself lives for 30 days)."""
    now = dt.datetime.now(dt.UTC).timestamp()
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, int | float) and now >= exp:
        return False
    limit = int(settings.get("session_timeout_minutes")) * 60
    return not (isinstance(iat, int | float) and now - iat > limit)


st.title(_ui.t("app_title"))
st.caption(_ui.t("login_intro"))
flash = st.session_state.pop("tk_flash", None)
if flash:
    st.info(_ui.t(flash))
elif st.session_state.get("tk_next"):
    st.info(_ui.t("login_for_page"), icon=":material/link:")

with _ui.guard():
    sso = _sso.providers()
    if sso:
        _sso.install_callback_notice()
    sso_user = bool(sso) and bool(getattr(st.user, "is_logged_in", False))
    if sso_user and flash is None and _fresh(st.user.to_dict()):
        claims = st.user.to_dict()
        provider = claims.get("provider")
        try:
            if provider not in sso:
                raise AuthenticationError(auth.SSO_WRONG_ISSUER)  # a provider no longer configured
            issuer, audience = _sso.trust_for(provider)
            viewer = auth.viewer_from_oidc_claims(_ui.store(), claims, issuer=issuer, audience=audience)
        except AuthenticationError as exc:
            key = _SSO_MESSAGES.get(str(exc))
            st.error(_ui.t(key) if key else _ui.plain(str(exc)))
        else:
            _ui.set_viewer(viewer, sso_subject=str(claims.get("sub")), next_path=st.session_state.get("tk_next", "/"))
            st.rerun()
    elif not sso_user and (reason := _sso.refused_notice() if sso else None):
        st.error(_ui.t(f"sso_{'wrong_' if reason != 'failed' else ''}{reason}"))

    with st.form("login", border=True):
        username = st.text_input(_ui.t("username"), autocomplete="username")
        password = st.text_input(_ui.t("password"), type="password", autocomplete="current-password")
        submitted = st.form_submit_button(_ui.t("login"), type="primary", width="stretch")
    if submitted:
        try:
            _ui.set_viewer(auth.authenticate(_ui.store(), username.strip(), password),
                           next_path=st.session_state.get("tk_next", "/"))
        except AuthenticationError as exc:
            st.error(_ui.error_text(exc))
        else:
            st.rerun()
    for name in sso:
        label = _ui.t("login_sso") if len(sso) == 1 else _ui.t("login_sso_named", provider=name)
        st.button(label, on_click=st.login, args=(name,), icon=":material/badge:", key=f"sso_{name}")
    if sso_user:
        st.button(_ui.t("sso_logout"), on_click=st.logout, icon=":material/logout:", key="sso_logout")

# Residents need no account (issue 16): the public pages.
st.divider()
for _key, _text_key, _icon in _public.PUBLIC_PAGES:
    st.page_link(f"app_pages/{_key}.py", label=_public.t(_text_key), icon=_icon)
_public.accessibility_link()
