"""Följ din anmälan: a resident sees what happened to their report, by the status link (``?t=…``) or the
receipt code, with no account; ``?avregistrera=…`` is the one-link unsubscribe from the e-mails (issue 16)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _public, _ui
from trygghetskarta import public, public_texts
from trygghetskarta.errors import NotFoundError

lang = _public.frame("status")
t = _public.t
st.title(t("status_title"))

unsubscribe = st.query_params.get("avregistrera")
if unsubscribe:
    with _ui.guard():
        done = st.session_state.get("pub_unsubscribed") == unsubscribe or _ui.store().unsubscribe(unsubscribe)
        if done:
            st.session_state["pub_unsubscribed"] = unsubscribe
            st.success(t("unsubscribed"))
        else:
            st.warning(t("unsubscribe_unknown"))

token = st.query_params.get("t")
code = st.text_input(t("status_code"), placeholder="TK-XXXX-XXXX", max_chars=20, key="pub_status_code")
asked = st.button(t("status_find"), icon=":material/search:")
if asked or code or token:
    with _ui.guard():
        try:
            view = (public.status_view(_ui.store(), code=code) if code
                    else public.status_view(_ui.store(), token=token))
        except NotFoundError:
            if code or asked:
                st.warning(t("status_unknown"))
        else:
            st.subheader(f"{view['receipt_code']} · {public_texts.category_label(view['category'], lang)}")
            if view["moderation"] == "vantar":
                st.info(t("status_now", status=t("status_pending")))
            elif view["moderation"] == "avvisad":
                st.warning(t("status_rejected", reason=_ui.plain(view["reason"]) or "-"))
            else:
                st.success(t("status_now", status=public_texts.status_with_swedish(view["status"], lang)))
            if view["text"]:
                st.text(view["text"])
            st.caption(t("status_sent_at", at=pd.Timestamp(view["reported_at"]).tz_convert("Europe/Stockholm")
                                           .strftime("%Y-%m-%d %H:%M")))
            history = view["history"]
            if view["moderation"] != "vantar" and not history.empty:
                st.markdown(f"**{t('status_history')}**")
                for row in history.itertuples():
                    when = pd.Timestamp(row.at).tz_convert("Europe/Stockholm").strftime("%Y-%m-%d")
                    line = f"{public_texts.ltr(when)}: {public_texts.status_with_swedish(str(row.to_status), lang)}"
                    if row.reason:
                        line += " · " + t("status_reason", reason=row.reason)
                    st.text(line)
