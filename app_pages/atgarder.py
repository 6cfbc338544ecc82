"""Åtgärder: the action list per responsible party, with filters and status changes; planners create
actions from findings (routing proposes the responsible party)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import actions, schema
from trygghetskarta.store.actions import ACTION_TRANSITIONS

viewer = _ui.require("atgarder")
_ui.header("atgarder")
planner = viewer.role in ("planerare", "admin")

with _ui.guard():
    store = _ui.store()
    today = _ui.today()
    if planner:
        with st.expander(_ui.t("create_action"), icon=":material/add_task:"):
            open_findings = _ui.points("finding", viewer, statuses=["ny", "bedomd", "ej_atgardas"],
                                       columns=("category", "status", "description", "area_id"))
            open_findings = open_findings.sort_values("id", ascending=False)
            labels = {int(r.id): f"nr {r.id} – {_ui.label('category', r.category)} – {str(r.description)[:50]}"
                      for r in open_findings.itertuples()}
            chosen = st.multiselect(_ui.t("findings_to_assign"), list(labels), format_func=labels.get,
                                    key="act_findings", placeholder=_ui.t("choose"))
            first = open_findings[open_findings["id"] == chosen[0]].iloc[0] if chosen else None
            proposed = store.propose_party(first["category"], None if pd.isna(first["area_id"]) else
                                           int(first["area_id"])) if first is not None else "okand"
            with st.form("new_action", clear_on_submit=True):
                what = st.text_input(_ui.t("what"))
                c1, c2 = st.columns(2)
                parties = schema.keys("party")
                responsible = c1.selectbox(_ui.t("responsible"), parties, index=parties.index(proposed),
                                           format_func=lambda k: _ui.label("party", k))
                priority = c2.selectbox(_ui.t("priority"), [1, 2, 3], index=1,
                                        format_func=lambda k: _ui.label("priority", str(k)))
                kind = c1.selectbox(_ui.t("action_kind"), schema.keys("action_kind"),
                                    format_func=lambda k: _ui.label("action_kind", k))
                planned = c2.date_input(_ui.t("planned_date"), value=None, format="YYYY-MM-DD")
                shared = st.checkbox(_ui.t("shared"))
                if st.form_submit_button(_ui.t("create_action"), type="primary"):
                    action_id = store.create_action(chosen, what, responsible, viewer, priority=priority, kind=kind,
                                                    planned_date=planned, shared=shared)
                    _ui.bump()
                    st.session_state["act_flash"] = _ui.t("action_created", id=action_id)
                    st.session_state.pop("act_findings", None)
                    st.rerun()
    flash = st.session_state.pop("act_flash", None)
    if flash:
        st.success(flash)

    listed = actions.action_list_for_viewer(store, viewer, today, _ui.lang())
    c1, c2, c3 = st.columns([2, 2, 1])
    parties = c1.multiselect(_ui.t("responsible"), sorted(listed["responsible"].dropna().unique()),
                             format_func=lambda k: _ui.label("party", k), placeholder=_ui.t("choose"))
    statuses = c2.multiselect(_ui.t("action_status"), schema.keys("action_status"), default=["oppen", "pagar"],
                              format_func=lambda k: _ui.label("action_status", k), placeholder=_ui.t("choose"))
    overdue = c3.toggle(_ui.t("overdue_only"))
    shown = listed[(listed["responsible"].isin(parties) if parties else True)
                   & (listed["status"].isin(statuses) if statuses else True)
                   & (listed["overdue"] if overdue else True)]
    if shown.empty:
        st.info(_ui.t("no_actions"))
    groups = actions.party_lists_from_actions(shown, today, _ui.lang()) if not shown.empty else {}
    columns = {"id": "nr", "what": _ui.t("what"), "priority_label": _ui.t("priority"),
               "kind_label": _ui.t("action_kind"),
               "status_label": _ui.t("action_status"), "planned_date": _ui.t("planned_date"),
               "days_overdue": "⏰"}
    for party, frame in groups.items():
        st.subheader(f"{_ui.label('party', party)} ({len(frame)})")
        st.dataframe(frame[list(columns)].rename(columns=columns), hide_index=True, width="stretch")

    if not shown.empty:
        st.subheader(_ui.t("change_status"))
        by_id = shown.set_index("id")
        action_id = st.selectbox("nr", by_id.index.astype(int).tolist(),
                                 format_func=lambda i: f"nr {i} – {by_id.at[i, 'what']}")
        with st.form("action_status"):
            allowed = sorted(ACTION_TRANSITIONS[by_id.at[action_id, "status"]])
            to = st.selectbox(_ui.t("new_status"), allowed, format_func=lambda k: _ui.label("action_status", k))
            comment = st.text_input(_ui.t("comment"))
            c1, c2 = st.columns(2)
            if c1.form_submit_button(_ui.t("apply"), type="primary"):
                store.change_action_status(int(action_id), to, viewer, comment)
                _ui.bump()
                st.success(_ui.t("status_changed"))
            if c2.form_submit_button(_ui.t("progress_note")):
                store.add_action_progress(int(action_id), viewer, comment)
                _ui.bump()
                st.success(_ui.t("status_changed"))
