"""Granskning: the planner reviews the week's EST reports from the partners (approve, correct, return with a
reason) before they enter the shared lägesbild, sees who has not reported (a reminder list), and records the EST
meeting's decisions for the coming week and their follow-up."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import actions, est_reports, schema, settings
from trygghetskarta.errors import TrygghetskartaError

viewer = _ui.require("granskning")
_ui.header("granskning")
state = st.session_state

with _ui.guard():
    store = _ui.store()
    st.caption(_ui.t("est_review_intro"))
    flash = state.pop("gr_flash", None)
    if flash:
        st.success(flash)
    names = _ui.area_names()
    this_week = est_reports.current_week(_ui.today())
    start_this, _ = est_reports.week_bounds(this_week)
    weeks = [est_reports.week_of(start_this - dt.timedelta(days=7 * n)) for n in range(0, 8)]
    waiting = est_reports.list_reports(store, viewer, statuses=["inskickad"])
    weeks += sorted(set(waiting["week"]) - set(weeks), reverse=True)
    week = st.selectbox(_ui.t("est_week"), weeks, key="gr_week",
                        format_func=lambda w: f"{w} ({(waiting['week'] == w).sum()} "
                                              f"{_ui.label('est_report_status', 'inskickad').lower()})")

    # --- who has not reported ----------------------------------------------------------------------------
    missing = est_reports.missing_reporters(store, viewer, week)
    if missing.empty:
        st.success(_ui.t("est_all_reported", week=week))
    else:
        st.markdown(f"**{_ui.t('est_missing', week=week)}**")
        st.dataframe(pd.DataFrame({
            _ui.t("organisation"): missing["organisation_label"],
            _ui.t("est_status"): missing["state"].map(lambda s: _ui.t(f"est_missing_state_{s}")),
            _ui.t("est_users"): missing["users"]}), hide_index=True, width="stretch")
        with st.expander(_ui.t("est_reminder"), icon=":material/notifications:"):
            st.code(_ui.t("est_reminder_text", week=week, orgs=", ".join(missing["organisation_label"])),
                    language=None, wrap_lines=True)

    if viewer.role == "admin":
        with st.expander(_ui.t("est_expected"), icon=":material/groups:"):
            current = est_reports.expected_reporters(store)
            chosen = st.multiselect(_ui.t("est_expected"), schema.keys("party"), default=current,
                                    format_func=lambda k: _ui.label("party", k), key="gr_expected",
                                    help=_ui.t("est_expected_help"))
            if st.button(_ui.t("apply"), key="gr_expected_save"):
                actions.set_app_setting(store, est_reports.EXPECTED_SETTING, list(chosen), viewer)
                state["gr_flash"] = _ui.t("setting_saved")
                st.rerun()

    # --- the week's reports ---------------------------------------------------------------------------------
    st.subheader(_ui.t("est_reports_week", week=week))
    reports = est_reports.list_reports(store, viewer, week)
    if reports.empty:
        st.caption(_ui.t("est_no_reports"))
        lines = pd.DataFrame()  # no report, no lines: the loop below has nothing to show
    else:
        lines = est_reports.report_lines(store, viewer, reports["id"].astype(int).tolist())
    tz = settings.get("timezone")
    category_of_label = {_ui.label("est_category", k): k for k in schema.keys("est_category")}
    whole = _ui.t("est_whole")
    for r in reports.itertuples():
        title = _ui.t("est_report_title", id=r.id, org=r.organisation_label, status=r.status_label, lines=r.lines,
                      total=r.total)
        with st.expander(title, expanded=r.status == "inskickad"):
            st.caption(f"{_ui.label('est_report_source', r.source)} · {r.submitted_by or ''}"
                       + (f" · {_ui.plain(r.file_name)}" if r.file_name else ""))
            if r.comment:
                st.markdown(_ui.plain(r.comment))
            if r.status == "returnerad" and r.reason:
                st.warning(f"{_ui.t('est_reason')}: {_ui.plain(r.reason)}")
            mine = lines[lines["report_id"] == r.id]
            table = pd.DataFrame({
                "category": mine["category"].map(lambda c: _ui.label("est_category", c)),
                "area": mine["area_id"].map(lambda a: whole if pd.isna(a) else names.get(int(a), str(a))),
                "count": mine["count"].astype(int),
                "occurred_at": mine["occurred_at"].map(
                    lambda x: "" if pd.isna(x) else f"{pd.Timestamp(x).tz_convert(tz):%Y-%m-%d %H:%M}"),
                "place": mine["place"].fillna(""), "comment": mine["comment"].fillna(""),
                "type": mine["type"]}).reset_index(drop=True)
            config = {
                "category": st.column_config.SelectboxColumn(_ui.t("category"), options=list(category_of_label),
                                                             required=True, width="large"),
                "area": st.column_config.SelectboxColumn(_ui.t("est_area"), options=[whole, *names.values()],
                                                         required=True),
                "count": st.column_config.NumberColumn(_ui.t("est_count"), min_value=1, max_value=100_000, step=1,
                                                       required=True),
                "occurred_at": st.column_config.TextColumn(_ui.t("est_date")),
                "place": st.column_config.TextColumn(_ui.t("est_place")),
                "comment": st.column_config.TextColumn(_ui.t("comment")),
                "type": None,
            }
            editable = r.status == "inskickad"
            edited = st.data_editor(table, column_config=config, hide_index=True, width="stretch",
                                    num_rows="dynamic" if editable else "fixed", disabled=not editable,
                                    key=f"gr_lines_{r.id}")
            if editable:
                c1, c2 = st.columns(2)
                if c1.button(_ui.t("est_approve"), key=f"gr_approve_{r.id}", type="primary",
                             icon=":material/check_circle:", width="stretch"):
                    est_reports.approve(store, viewer, int(r.id))
                    state["gr_flash"] = _ui.t("est_approved", id=r.id)
                    st.rerun()
                if c2.button(_ui.t("est_save_correction"), key=f"gr_correct_{r.id}", icon=":material/edit:",
                             width="stretch"):
                    corrected = []
                    for row in edited.to_dict("records"):
                        if not row.get("category"):
                            continue
                        area = row.get("area")
                        corrected.append({
                            "category": category_of_label.get(row["category"], row["category"]),
                            "area": None if area in (None, whole) else area, "count": row.get("count"),
                            "occurred_at": row.get("occurred_at") or None, "place": row.get("place") or "",
                            "comment": row.get("comment") or "",
                            "type": row.get("type") if isinstance(row.get("type"), str) else None})
                    try:
                        est_reports.correct(store, viewer, int(r.id), corrected)
                    except TrygghetskartaError as exc:
                        st.error(_ui.error_text(exc))
                    else:
                        state["gr_flash"] = _ui.t("est_corrected", id=r.id)
                        st.rerun()
            if r.status in ("inskickad", "godkand"):
                reason = st.text_input(_ui.t("est_return_reason"), key=f"gr_reason_{r.id}", max_chars=2000)
                if st.button(_ui.t("est_return"), key=f"gr_return_{r.id}", icon=":material/undo:",
                             disabled=not reason.strip()):
                    est_reports.return_report(store, viewer, int(r.id), reason)
                    state["gr_flash"] = _ui.t("est_returned", id=r.id)
                    st.rerun()

    # --- the EST meeting's decisions -----------------------------------------------------------------------
    st.subheader(_ui.t("est_decisions"))
    st.caption(_ui.t("est_decisions_intro"))
    coming = est_reports.week_of(est_reports.week_bounds(week)[0] + dt.timedelta(days=7))
    decided = est_reports.decisions(store, viewer, [week, coming])
    for wk in (week, coming):
        shown = decided[decided["week"] == wk]
        st.markdown(f"**{_ui.t('est_decision_week')} {wk}**")
        if shown.empty:
            st.caption(_ui.t("est_no_decisions"))
            continue
        st.dataframe(pd.DataFrame({
            _ui.t("priority"): shown["priority"], _ui.t("est_area"): shown["area_name"],
            _ui.t("est_decision"): shown["decision"], _ui.t("est_owner"): shown["owner"],
            _ui.t("est_due"): shown["due_date"], _ui.t("est_status"): shown["status_label"],
            _ui.t("est_follow_up_note"): shown["followup"]}), hide_index=True, width="stretch")
    with st.expander(f"{_ui.t('est_add_decision')} ({coming})", icon=":material/add:"), \
            st.form("gr_decision", clear_on_submit=True):
        text = st.text_input(_ui.t("est_decision"), max_chars=2000, key="gr_d_text")
        owner = st.text_input(_ui.t("est_owner"), max_chars=200, key="gr_d_owner")
        area = st.selectbox(_ui.t("est_area"), [None, *names], key="gr_d_area",
                            format_func=lambda a: _ui.t("est_whole") if a is None else names[a])
        priority = st.number_input(_ui.t("est_priority"), min_value=1, max_value=99,
                                   value=int((decided["week"] == coming).sum()) + 1, step=1, key="gr_d_priority")
        due = st.date_input(_ui.t("est_due"), value=None, format="YYYY-MM-DD", key="gr_d_due")
        if st.form_submit_button(_ui.t("est_add_decision"), type="primary"):
            did = est_reports.add_decision(store, viewer, coming, text, owner, priority=int(priority),
                                           due_date=due, area_id=area)
            state["gr_flash"] = _ui.t("est_decision_added", id=did)
            st.rerun()
    to_follow = decided[(decided["week"] == week)]
    if not to_follow.empty:
        with st.expander(_ui.t("est_follow_up"), icon=":material/rule:"), st.form("gr_followup"):
            chosen = st.selectbox("nr", to_follow["id"].astype(int).tolist(),
                                  format_func=lambda i: f"{i} – {to_follow.set_index('id').at[i, 'decision']}")
            status = st.selectbox(_ui.t("est_status"), schema.keys("est_decision_status"),
                                  format_func=lambda k: _ui.label("est_decision_status", k))
            note = st.text_input(_ui.t("est_follow_up_note"), max_chars=2000)
            if st.form_submit_button(_ui.t("est_follow_up")):
                est_reports.follow_up_decision(store, viewer, int(chosen), status, note)
                state["gr_flash"] = _ui.t("status_changed")
                st.rerun()
