"""Vandringar: plan a walk (date, area, organisations), follow it live, download its protocol, and check
earlier findings in the area at the next walk (the follow-up checklist)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import protocol, schema, settings

viewer = _ui.require("vandringar")
_ui.header("vandringar")
planner = viewer.role in ("planerare", "admin")
zone = ZoneInfo(settings.get("timezone"))


@st.fragment(run_every=dt.timedelta(seconds=20))
def live_findings(walk_id: int) -> None:
    frame = _ui.store().points("finding", viewer, walk_id=walk_id, columns=("category", "status", "description",
                                                                             "severity"))
    st.subheader(f"{_ui.t('walk_findings')} ({len(frame)})")
    st.dataframe(pd.DataFrame({
        _ui.t("category"): frame["category"].map(lambda k: _ui.label("category", k)),
        _ui.t("severity"): frame["severity"].map(lambda k: _ui.label("severity", str(k))),
        _ui.t("statuses"): frame["status"].map(lambda k: _ui.label("status", k)),
        _ui.t("description"): frame["description"]}), hide_index=True, width="stretch")


with _ui.guard():
    store = _ui.store()
    names = _ui.area_names()
    if planner:
        with st.expander(_ui.t("plan_walk"), icon=":material/add:"), st.form("plan_walk", clear_on_submit=True):
            title = st.text_input(_ui.t("walk_title"))
            c1, c2 = st.columns(2)
            day = c1.date_input(_ui.t("walk_date"), value=_ui.today(), format="YYYY-MM-DD")
            start = c2.time_input(_ui.t("walk_time"), value=dt.time(19, 0))
            area = st.selectbox(_ui.t("walk_area"), list(names), format_func=names.get)
            orgs = st.text_input(_ui.t("walk_orgs"), placeholder="Upplands-Bro kommun, Upplands-Brohus, Polisen")
            notes = st.text_area(_ui.t("walk_notes"))
            audience = st.selectbox(_ui.t("audience"), schema.keys("audience"),
                                    format_func=lambda k: _ui.label("audience", k))
            if st.form_submit_button(_ui.t("plan_walk"), type="primary"):
                res = store.insert("walk", gpd.GeoDataFrame([{
                    "title": title, "started_at": dt.datetime.combine(day, start, tzinfo=zone), "area_id": area,
                    "organisations": orgs, "notes": notes, "audience": audience, "created_by": viewer.username,
                    "geometry": None}], geometry="geometry", crs=schema.CRS_STORE), actor=viewer)
                _ui.bump()
                st.success(_ui.t("walk_created", id=res.ids[0]))

    walks = _ui.read("walk", viewer).sort_values("started_at", ascending=False)
    if walks.empty:
        st.info(_ui.t("no_walk"))
        st.stop()
    labels = {int(w.id): f"{w.title} – {w.started_at.tz_convert(zone):%Y-%m-%d %H:%M}" for w in walks.itertuples()}
    walk_id = st.selectbox(_ui.t("walk"), list(labels), format_func=labels.get)
    walk = walks[walks["id"] == walk_id].iloc[0]
    st.caption(f"{names.get(walk['area_id'], '') if pd.notna(walk['area_id']) else ''} · {walk['organisations']}"
               f" · {_ui.label('light', walk['light']) if walk['light'] else ''}")
    if viewer.role == "deltagare" and st.button(_ui.t("join_walk"), icon=":material/group_add:"):
        store.add_participant(walk_id, viewer.username)
        _ui.bump()
    live_findings(walk_id)

    st.subheader(_ui.t("protocol"))
    proto = protocol.walk_protocol(store, walk_id, viewer=viewer, lang=_ui.lang())
    c1, c2 = st.columns(2)
    c1.download_button(_ui.t("download_html"), protocol.protocol_html(proto), file_name=f"protokoll_{walk_id}.html",
                       mime="text/html", icon=":material/download:")
    if c2.button(_ui.t("download_pdf"), key="make_pdf"):
        with st.spinner(), tempfile.TemporaryDirectory() as tmp:
            st.session_state["walk_pdf"] = (walk_id, protocol.protocol_pdf(proto, Path(tmp) / "p.pdf").read_bytes())
    pdf = st.session_state.get("walk_pdf")
    if pdf and pdf[0] == walk_id:
        c2.download_button(_ui.t("download_pdf"), pdf[1], file_name=f"protokoll_{walk_id}.pdf",
                           mime="application/pdf", icon=":material/picture_as_pdf:", type="primary")

    if planner and pd.notna(walk["area_id"]):
        st.subheader(_ui.t("followup"))
        checklist = store.followup_checklist(int(walk["area_id"]), walk_id, viewer)
        if checklist.empty:
            st.caption(_ui.t("nothing_to_check"))
        for row in checklist.head(30).itertuples():
            with st.container(border=True):
                st.markdown(f"**{_ui.label('category', row.category)}** · {_ui.label('status', row.status)} · "
                            f"nr {row.id}")
                st.text(row.description or "")
                c1, c2, c3 = st.columns([1, 1, 1])
                fixed = c1.toggle(_ui.t("fixed"), key=f"fu_fixed_{walk_id}_{row.id}")
                safer = c2.toggle(_ui.t("feels_safer"), key=f"fu_safer_{walk_id}_{row.id}")
                if c3.button(_ui.t("record_followup"), key=f"fu_save_{walk_id}_{row.id}"):
                    store.record_followup(int(row.id), walk_id, fixed, safer, actor=viewer)
                    _ui.bump()
                    st.success(_ui.t("followup_saved"))
