"""Tillgänglighetsredogörelse: the accessibility statement that lag (2018:1937) requires, in the structure of
Digg's model (issue 14). Public (no login), in Swedish and English: how accessible the service is, what is not
and why, how to report a problem (the address in the ``accessibility_contact`` setting), Digg as the enforcement
body, how it was assessed and when. The facts come from ``trygghetskarta.accessibility``."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from app_pages import _ui
from trygghetskarta import accessibility, geography, settings

t = _ui.t
kommun = geography.municipality_name()

# a soft hyphen, so the long Swedish word breaks where it should on a phone ("Tillgänglighets-redogörelse")
st.title(t("page_tillganglighet").replace("Tillgänglighetsred", "Tillgänglighets\u00adred"))
st.markdown(t("a11y_intro", kommun=kommun, law=accessibility.LAW))

st.header(t("a11y_status_title"))
st.markdown(t("a11y_status"))

st.header(t("a11y_limits_title"))
for limitation in accessibility.LIMITATIONS:
    with st.container(border=True):
        st.markdown(t(f"a11y_lim_{limitation.key}"))
        st.markdown(t("a11y_criterion", criterion=limitation.criterion))
        if limitation.issue:
            st.markdown(t("a11y_upstream", url=limitation.issue))

st.header(t("a11y_report_title"))
contact = str(settings.get("accessibility_contact") or "").strip()
if contact:
    link = contact if contact.startswith(("http://", "https://")) else f"mailto:{contact}"
    st.markdown(t("a11y_report", contact=f"[{_ui.plain(contact)}]({link})"))
else:
    st.markdown(t("a11y_report", contact=kommun))
    st.info(t("a11y_report_none", kommun=kommun))

st.header(t("a11y_enforcement_title"))
st.markdown(t("a11y_enforcement", url=accessibility.DIGG_REPORT_URL))

st.header(t("a11y_method_title"))
st.markdown(t("a11y_method", axe=accessibility.AXE_CORE_VERSION))
st.caption(t("a11y_date", date=accessibility.STATEMENT_DATE.isoformat()))

if _ui.viewer() is None:
    st.divider()
    try:
        st.page_link("app_pages/logga_in.py", label=t("page_login"), icon=":material/arrow_back:")
    except StreamlitPageNotFoundError:  # the page run on its own (tests)
        st.markdown(f"[{t('page_login')}](./)")
