"""Lägesbild: the EST situation report for a period (week, month, tertial, quarter or custom), the partner
view, and downloads as HTML, PDF and GeoPackage. Partners always get the partner audience (k-suppressed)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import lagesbild, schema
from trygghetskarta.i18n import N_

viewer = _ui.require("lagesbild")
_ui.header("lagesbild")
partner = viewer.role in schema.PARTNER_ROLES
KIND_LABEL = {"week": N_("period_kind_week"), "month": N_("period_kind_month"), "tertial": N_("period_kind_tertial"),
              "quarter": N_("period_kind_quarter"), "custom": N_("period_kind_custom")}

with _ui.guard():
    store = _ui.store()
    names = _ui.area_names()
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox(_ui.t("period_kind"), list(lagesbild.PERIOD_KINDS),
                        format_func=lambda k: _ui.t(KIND_LABEL[k]))
    if kind == "custom":
        chosen = c2.date_input(_ui.t("period"), value=(_ui.today() - dt.timedelta(days=27), _ui.today()),
                               format="YYYY-MM-DD")
        start, end = (chosen[0], chosen[-1]) if isinstance(chosen, tuple) and chosen else (_ui.today(), _ui.today())
    else:
        start = end = c2.date_input(_ui.t("period"), value=_ui.today(), format="YYYY-MM-DD")
    audience = "partner" if partner else c3.segmented_control(
        _ui.t("audience"), ["intern", "partner"], default="intern", format_func=lambda k: _ui.t(f"aud_{k}")) or "intern"
    area_ids = st.multiselect(_ui.t("areas"), list(names), format_func=names.__getitem__, placeholder=_ui.t("choose"))
    with st.spinner():
        report = _ui.lagesbild_for(viewer, start, end, kind, tuple(area_ids) or None, audience)

    st.subheader(_ui.plain(report.title))
    for note in report.notes:
        st.caption(_ui.plain(note))
    cols = st.columns(max(len(report.kind_totals), 1))
    for col, row in zip(cols, report.kind_totals.itertuples(), strict=False):
        delta = None if pd.isna(row.change_previous) else int(row.change_previous)
        col.metric(row.kind_label, row.count_display, delta=delta, delta_color="inverse")
    _ui.area_status_table(report)
    trends = report.trends.dropna(subset=["count"])
    if not trends.empty:
        when = {"last_year": _ui.t("trend_last_year"), "previous": _ui.t("trend_previous"),
                "count": _ui.t("trend_this_period")}
        long = trends.melt(id_vars=["area_name", "kind_label"], value_vars=list(when), var_name="when",
                           value_name="n").assign(when=lambda f: f["when"].map(when))
        _ui.chart(alt.Chart(long).mark_bar().encode(
            x=alt.X("when:N", sort=list(when.values()), title=None,
                    axis=alt.Axis(labelAngle=-40, labelLimit=0, labelOverlap=False)),
            y=alt.Y("sum(n):Q", title=_ui.t("chart_count")),
            color=alt.Color("kind_label:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=0,
                                                                          columns=1)),
            tooltip=[alt.Tooltip("area_name:N", title=_ui.t("areas")), alt.Tooltip("when:N", title=_ui.t("period")),
                     alt.Tooltip("kind_label:N", title=_ui.t("kind")),
                     alt.Tooltip("sum(n):Q", title=_ui.t("chart_count"))]).properties(width=130, height=160).facet(
            facet=alt.Facet("area_name:N", title=None, header=alt.Header(labelLimit=0)), columns=4))
    st.markdown(f"**{_ui.t('est_partner_figures')}**")
    figures = report.partner_figures
    if figures.empty:
        st.caption(_ui.t("est_no_partner_figures"))
    else:
        # a plain table (text in the page, readable by screen readers): a few rows per area and category
        st.table(pd.DataFrame({
            _ui.t("est_area"): figures["area_name"], _ui.t("category"): figures["category_label"],
            _ui.t("period"): figures["count_display"], _ui.t("trend_previous_short"): figures["previous_display"],
            "±": figures["change_previous"].map(lambda v: "" if pd.isna(v) else f"{int(v):+d}")}).set_index(
                _ui.t("est_area")))
    if not report.decisions.empty:
        st.markdown(f"**{_ui.t('est_decisions')}**")
        d = report.decisions
        st.dataframe(pd.DataFrame({
            _ui.t("est_week"): d["week"], _ui.t("priority"): d["priority"], _ui.t("est_area"): d["area_name"],
            _ui.t("est_decision"): d["decision"], _ui.t("est_owner"): d["owner"], _ui.t("est_due"): d["due_date"],
            _ui.t("est_status"): d["status_label"], _ui.t("est_follow_up_note"): d["followup"]}),
            hide_index=True, width="stretch")
    if not report.open_actions.empty:
        st.markdown(f"**{_ui.t('page_atgarder')}**")
        st.dataframe(_ui.action_table(report.open_actions, ("id", "what", "responsible_label", "priority_label",
                                                            "status_label", "planned_date", "days_overdue")),
                     hide_index=True, width="stretch")

    st.divider()
    stem = f"lagesbild_{report.period.start}_{report.period.end}_{report.audience}"
    c1, c2, c3 = st.columns(3)
    c1.download_button(_ui.t("download_html"), lagesbild.lagesbild_html(report), file_name=f"{stem}.html",
                       mime="text/html", icon=":material/download:", width="stretch")
    if c2.button(_ui.t("download_pdf"), key="lb_make_pdf", width="stretch", icon=":material/picture_as_pdf:"):
        bar = st.progress(0.0)

        def advance(share: float, what: str) -> None:
            bar.progress(min(max(share, 0.0), 1.0), text=what)

        with tempfile.TemporaryDirectory() as tmp:
            path = lagesbild.lagesbild_pdf(report, Path(tmp) / f"{stem}.pdf", progress=advance)
            st.session_state["lb_pdf"] = (stem, path.read_bytes())
        store.audit("export", viewer, "lagesbild", None, {"format": "pdf", "file": f"{stem}.pdf"})
        bar.empty()
    if c3.button(_ui.t("download_gpkg"), key="lb_make_gpkg", width="stretch", icon=":material/layers:"):
        with tempfile.TemporaryDirectory() as tmp:
            files = lagesbild.export_lagesbild(report, Path(tmp) / f"{stem}.gpkg", "gpkg")
            st.session_state["lb_gpkg"] = (stem, files[0].read_bytes())
        store.audit("export", viewer, "lagesbild", None, {"format": "gpkg", "file": f"{stem}.gpkg"})
    for key, col, ext, mime in (("lb_pdf", c2, "pdf", "application/pdf"),
                                ("lb_gpkg", c3, "gpkg", "application/geopackage+sqlite3")):
        ready = st.session_state.get(key)
        if ready and ready[0] == stem:
            col.download_button(f"{_ui.t('download')} {ext.upper()}", ready[1], file_name=f"{stem}.{ext}", mime=mime,
                                type="primary", key=f"{key}_dl", width="stretch", icon=":material/download:")
