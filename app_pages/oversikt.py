"""Översikt: key figures, the latest lägesbild status per area, what changed this week, findings per week,
when findings are reported (weekday × hour) and the findings' statuses over time."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import access, actions, analysis, schema

viewer = _ui.require("oversikt")
_ui.header("oversikt")

with _ui.guard():
    store = _ui.store()
    today = _ui.today()
    week_ago = today - dt.timedelta(days=6)
    findings = _ui.points("finding", viewer, today - dt.timedelta(days=365), today)
    c1, c2, c3, c4 = st.columns(4)
    by_status = store.count_by("finding", ["status"], viewer)
    c1.metric(_ui.t("kf_findings_open"), int(by_status.loc[by_status["status"].isin(schema.OPEN_STATUSES),
                                                           "count"].sum()))
    recent = findings[findings["reported_at"].dt.tz_convert("Europe/Stockholm").dt.date >= week_ago]
    c2.metric(_ui.t("kf_findings_week"), len(recent))
    if access.policy(viewer, "action").mode != "none":
        action_list = actions.action_list_for_viewer(store, viewer, today, _ui.lang(), include_done=False)
        c3.metric(_ui.t("kf_actions_overdue"), int(action_list["overdue"].sum()))
    if access.policy(viewer, "incident").mode != "none":
        c4.metric(_ui.t("kf_incidents_week"), len(_ui.points("incident", viewer, week_ago, today)))

    st.subheader(_ui.t("area_status"))
    report = _ui.lagesbild_for(viewer, today)
    st.caption(_ui.plain(report.title))
    _ui.area_status_table(report)

    left, right = st.columns(2)
    with left:
        st.subheader(_ui.t("changed_week"))
        now = dt.datetime.now(dt.UTC)
        events = store.events_between(now - dt.timedelta(days=7), now)
        visible_actions = set(_ui.read("action", viewer)["id"]) if access.policy(viewer, "action").mode != "none" \
            else set()
        visible = (((events["kind"] == "finding") & events["record_id"].isin(set(findings["id"])))
                   | ((events["kind"] == "action") & events["record_id"].isin(visible_actions))) \
            if not events.empty else pd.Series(dtype=bool)
        events = events[visible] if not events.empty else events
        if events.empty:
            st.caption(_ui.t("no_changes"))
        else:
            vocab = events["kind"].map({"finding": "status", "action": "action_status"})
            st.dataframe(pd.DataFrame({
                "": events["at"].dt.tz_convert("Europe/Stockholm").dt.strftime("%Y-%m-%d %H:%M"),
                _ui.t("kind"): events["kind"].map(lambda k: _ui.label("record_kind", k)) + " " +
                events["record_id"].astype(str),
                _ui.t("statuses"): [f"{_ui.label(v, a) if a else '–'} → {_ui.label(v, b)}" for v, a, b in
                                    zip(vocab, events["from_status"], events["to_status"], strict=True)],
            }).iloc[::-1], hide_index=True, width="stretch", height=320)
    with right:
        st.subheader(_ui.t("trend"))
        weekly = (findings.assign(week=findings["reported_at"].dt.tz_convert("Europe/Stockholm").dt.tz_localize(None)
                                  .dt.to_period("W").dt.start_time).groupby("week").size().rename("n").reset_index())
        _ui.chart(alt.Chart(weekly).mark_bar().encode(
            x=alt.X("week:T", title=None), y=alt.Y("n:Q", title=_ui.t("layer_findings")),
        ).properties(height=300), width="stretch")

    left, right = st.columns(2)
    with left:
        st.subheader(_ui.t("weekday_hour"))
        table = analysis.weekday_hour_from_records(findings, "reported_at", lang=_ui.lang())
        cells = table.reset_index().melt(id_vars="weekday", var_name="hour", value_name="n")
        _ui.chart(alt.Chart(cells).mark_rect().encode(
            x=alt.X("hour:O", title=_ui.t("hour")),
            y=alt.Y("weekday:N", sort=list(table.index), title=None),
            color=alt.Color("n:Q", title=_ui.t("layer_findings"), scale=alt.Scale(scheme="orangered")),
            tooltip=[alt.Tooltip("weekday:N", title=_ui.t("weekday")), alt.Tooltip("hour:O", title=_ui.t("hour")),
                     alt.Tooltip("n:Q", title=_ui.t("chart_count"))]).properties(height=260), width="stretch")
        st.caption(_ui.t("weekday_hour_note"))
    with right:
        st.subheader(_ui.t("status_over_time"))
        all_findings = _ui.points("finding", viewer, columns=("status",))
        now = dt.datetime.now(dt.UTC)
        history = store.events_between(now - dt.timedelta(days=3650), now, kinds=("finding",))
        over_time = analysis.status_over_time(all_findings, history)
        over_time = over_time[over_time["period_start"] >= over_time["period_start"].max() - pd.Timedelta(weeks=52)]
        order = list(schema.keys("status"))
        _ui.chart(alt.Chart(over_time.assign(
            label=over_time["status"].map(lambda k: _ui.label("status", k)),
            rank=over_time["status"].map(order.index))).mark_area().encode(
            x=alt.X("period_start:T", title=None), y=alt.Y("count:Q", stack=True, title=_ui.t("layer_findings")),
            color=alt.Color("label:N", sort=[_ui.label("status", k) for k in order], title=None),
            order=alt.Order("rank:Q"), tooltip=[alt.Tooltip("label:N", title=_ui.t("statuses")),
                                                alt.Tooltip("count:Q", title=_ui.t("chart_count"))],
        ).properties(height=260), width="stretch")


    # --- perceived safety beside reported events (#17): the police's trygghetsmätning -----------------------
    from trygghetskarta import perceived

    st.subheader(_ui.t("perceived_title"))
    st.caption(_ui.t("perceived_intro"))
    beside = perceived.beside_events(store, viewer, lang=_ui.lang())
    if beside.empty:
        st.info(_ui.t("perceived_none"))
    else:
        st.dataframe(pd.DataFrame({
            _ui.t("perceived_year"): beside["year"], _ui.t("areas"): beside["area_name"],
            _ui.t("perceived_mean"): beside["mean_index"], _ui.t("perceived_top"): [
                f"{q} ({v:.1f})" for q, v in zip(beside["top_question"], beside["top_index"], strict=True)],
            _ui.t("perceived_events"): beside["events_display"]}), hide_index=True)
