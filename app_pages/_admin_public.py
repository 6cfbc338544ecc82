"""The Admin page's section for the public face (issue 16): Open311 API keys (made here or with
``trygghetskarta api-keys add NAME``; a key is shown once), the responsible parties' e-mail addresses, the
content of the "Hjälp och stöd" page, and the outbox's state."""

from __future__ import annotations

import json

import streamlit as st

from app_pages import _ui
from trygghetskarta import helpinfo, open311, outbox, schema
from trygghetskarta.access import Viewer
from trygghetskarta.store import Store


def section(store: Store, viewer: Viewer) -> None:
    state = st.session_state
    st.subheader(_ui.t("adm_keys"))
    shown = state.pop("adm_new_key", None)
    if shown:
        st.success(_ui.plain(_ui.t("adm_key_shown", name=shown[0])))
        st.code(shown[1], language=None)
    keys = store.api_keys()
    if not keys.empty:
        st.dataframe(keys, hide_index=True, width="stretch")
    c1, c2 = st.columns([3, 1])
    name = c1.text_input(_ui.t("adm_key_name"), key="adm_key_name")
    if c2.button(_ui.t("adm_key_add"), key="adm_key_add", type="primary") and name.strip():
        state["adm_new_key"] = (name.strip(), open311.add_key(store, name.strip(), viewer))
        st.rerun()
    active = keys[keys["revoked_at"].isna()]["name"].tolist() if not keys.empty else []
    if active:
        c1, c2 = st.columns([3, 1])
        which = c1.selectbox(_ui.t("adm_key_revoke"), active, key="adm_key_which")
        if c2.button(_ui.t("adm_key_revoke"), key="adm_key_revoke") and store.revoke_api_key(which, viewer):
            st.success(_ui.plain(_ui.t("adm_key_revoked", name=which)))

    st.subheader(_ui.t("adm_contacts"))
    contacts = outbox.party_contacts(store)
    with st.form("adm_contacts"):
        edited = {p: st.text_input(_ui.label("party", p), value=contacts.get(p, ""), key=f"adm_contact_{p}")
                  for p in schema.keys("party") if p != "okand"}
        if st.form_submit_button(_ui.t("adm_contacts_save")):
            outbox.set_party_contacts(store, edited, viewer)
            st.success(_ui.t("adm_saved"))

    st.subheader(_ui.t("adm_help"))
    current = json.dumps(helpinfo.load(store), ensure_ascii=False, indent=2)
    text = st.text_area(_ui.t("adm_help"), value=current, height=320, key="adm_help_text",
                        label_visibility="collapsed")
    c1, c2 = st.columns(2)
    if c1.button(_ui.t("adm_help_save"), key="adm_help_save", type="primary"):
        helpinfo.save(store, text, viewer)
        st.success(_ui.t("adm_saved"))
    if c2.button(_ui.t("adm_help_reset"), key="adm_help_reset"):
        helpinfo.save(store, helpinfo.default(), viewer)
        state.pop("adm_help_text", None)
        st.rerun()

    st.subheader(_ui.t("adm_outbox"))
    counts = store.outbox_counts()
    st.caption(_ui.t("adm_outbox_counts", counts=", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "0"))
    messages = store.outbox_messages(limit=100)
    if not messages.empty:
        st.dataframe(messages, hide_index=True, width="stretch")
