"""Vandringar: plan a walk (date, area, organisations), follow it live, download its protocol, and check
earlier findings in the area at the next walk (the follow-up checklist)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import actions, protocol, schema
from trygghetskarta.errors import TrygghetskartaError
from trygghetskarta.timeutil import local_zone

viewer = _ui.require("vandringar")
_ui.header("vandringar")
planner = viewer.role in schema.PLANNER_ROLES
zone = local_zone()


@st.fragment(run_every=dt.timedelta(seconds=20))
def live_findings(walk_id: int) -> None:
    _ui.live_viewer()  # the session is checked before every refresh (issue 11)
    frame = _ui.store().points("finding", viewer, walk_id=walk_id, columns=("category", "status", "description",
                                                                             "severity"))
    st.subheader(f"{_ui.t('walk_findings')} ({len(frame)})")
    _ui.table(pd.DataFrame({
        _ui.t("category"): frame["category"].map(lambda k: _ui.label("category", k)),
        _ui.t("severity"): frame["severity"].map(lambda k: _ui.label("severity", str(k))),
        _ui.t("statuses"): frame["status"].map(lambda k: _ui.label("status", k)),
        _ui.t("description"): frame["description"]}), hide_index=True, width="stretch")


FOLLOWUP_PAGE = 15  # cards per page of the follow-up checklist (every finding is reachable, never cut)


def _place(row: object, names: dict[int, str]) -> str:
    area = getattr(row, "area_id", None)
    name = names.get(int(area), "") if area is not None and pd.notna(area) else ""
    where = f"{float(row.lat):.5f}, {float(row.lon):.5f}"  # type: ignore[attr-defined]
    return f"{name} ({where})" if name else where


def followup_checklist(walk_id: int, area_id: int) -> None:
    """The follow-up of earlier findings in the walk's area (and the areas inside it): every open and fixed
    finding, a card each with its place, photo and earlier text, answered by the planner or by the walk's
    participants on their phones."""
    store = _ui.store()
    names = _ui.area_names()
    st.subheader(_ui.t("followup"))
    checklist = actions.followup_checklist(store, area_id, walk_id, viewer)
    if checklist.empty:
        st.caption(_ui.t("nothing_to_check"))
        return
    answered = checklist["followup_fixed"].notna()
    st.caption(_ui.t("followup_count", n=len(checklist), k=int(answered.sum())))
    only_open = st.toggle(_ui.t("followup_unanswered"), key=f"fu_open_{walk_id}")
    shown = checklist[~answered] if only_open else checklist
    pages = max(1, -(-len(shown) // FOLLOWUP_PAGE))
    page = 1
    if pages > 1:
        page = st.segmented_control(_ui.t("followup_page"), list(range(1, pages + 1)), default=1,
                                    key=f"fu_page_{walk_id}_{only_open}") or 1
    part = shown.iloc[(page - 1) * FOLLOWUP_PAGE:page * FOLLOWUP_PAGE]
    if pages > 1:
        st.caption(_ui.t("followup_range", a=(page - 1) * FOLLOWUP_PAGE + 1,
                         b=(page - 1) * FOLLOWUP_PAGE + len(part), n=len(shown)))
    ids = part["id"].astype(int).tolist()
    photos = store.photos(ids, viewer) if ids else pd.DataFrame(columns=["finding_id", "thumb_path"])
    thumbs = photos.drop_duplicates("finding_id").set_index("finding_id")["thumb_path"] if len(photos) else {}
    further = store.finding_reports(ids) if ids else pd.DataFrame(columns=["finding_id", "description"])
    for row in part.itertuples():
        with st.container(border=True):
            _followup_card(row, names, thumbs.get(int(row.id)) if len(photos) else None, further)
            _followup_answer(store, walk_id, row)


def _followup_card(row: Any, names: dict[int, str], thumb_path: str | None, further: pd.DataFrame) -> None:
    """What the finding was: category, status, place, photo, its texts, the action taken and an earlier answer."""
    st.markdown(f"**{_ui.label('category', row.category)}** · {_ui.label('status', row.status)} · "
                f"nr {row.id}")
    st.caption(f":material/location_on: {_ui.plain(_place(row, names))} · "
               f"{_ui.t('reported')} {pd.Timestamp(row.reported_at).tz_convert(zone):%Y-%m-%d}")
    thumb = protocol._resolve(thumb_path)
    if thumb is not None:
        st.image(str(thumb), width=160)
    if row.description:
        st.markdown(_ui.plain(row.description))
    for text in further.loc[further["finding_id"] == int(row.id), "description"]:
        if str(text).strip():
            st.markdown(f"\\+ {_ui.plain(text)}")
    if pd.notna(row.action_what) and row.action_what:
        dates = [f"{_ui.t(k)} {pd.Timestamp(v):%Y-%m-%d}" for k, v in
                 (("planned_date", row.action_planned_date), ("deadline", row.action_deadline))
                 if v is not None and pd.notna(v)]
        st.caption(f":material/task_alt: {_ui.plain(row.action_what)}"
                   + (f" ({', '.join(dates)})" if dates else ""))
    if pd.notna(row.followup_fixed):
        safer = row.followup_safer
        st.success(_ui.t("followup_answer", fixed=_yes_no(bool(row.followup_fixed)),
                         safer=_yes_no(bool(safer)) if pd.notna(safer) else "–"),
                   icon=":material/fact_check:")


def _yes_no(value: bool) -> str:
    return _ui.t("yes") if value else _ui.t("no")


def _followup_answer(store: Any, walk_id: int, row: Any) -> None:
    """The questions (fixed? safer? a comment) and the button that records the answer."""
    key = f"{walk_id}_{row.id}"
    fixed = st.segmented_control(_ui.t("fixed_q"), [True, False], key=f"fu_fixed_{key}",
                                 format_func=_yes_no, width="stretch")
    safer = st.segmented_control(_ui.t("safer_q"), [True, False], key=f"fu_safer_{key}",
                                 format_func=_yes_no, width="stretch")
    comment = st.text_input(_ui.t("comment"), key=f"fu_comment_{key}", placeholder=_ui.t("no_names"))
    if st.button(_ui.t("record_followup"), key=f"fu_save_{key}", type="primary", width="stretch"):
        if fixed is None:
            st.warning(_ui.t("choose_fixed"))
            return
        try:
            actions.record_followup(store, int(row.id), walk_id, bool(fixed), safer, actor=viewer, comment=comment)
        except TrygghetskartaError as exc:  # shown on the card; the checklist stays
            st.error(_ui.error_text(exc))
        else:
            st.session_state["fu_flash"] = (walk_id, int(row.id))
            st.rerun()  # the card shows the answer at once
    flash = st.session_state.get("fu_flash")
    if flash == (walk_id, int(row.id)):
        st.success(_ui.t("followup_saved"))


with _ui.guard():
    store = _ui.store()
    names = _ui.area_names()
    if planner:
        with st.expander(_ui.t("plan_walk"), icon=":material/add:"), st.form("plan_walk", clear_on_submit=True):
            title = st.text_input(_ui.t("walk_title"))
            c1, c2 = st.columns(2)
            day = c1.date_input(_ui.t("walk_date"), value=_ui.today(), format="YYYY-MM-DD")
            start = c2.time_input(_ui.t("walk_time"), value=dt.time(19, 0))
            area = st.selectbox(_ui.t("walk_area"), list(names), format_func=names.__getitem__)
            orgs = st.text_input(_ui.t("walk_orgs"), placeholder="Upplands-Bro kommun, Upplands-Brohus, Polisen")
            notes = st.text_area(_ui.t("walk_notes"))
            audience = st.selectbox(_ui.t("audience"), schema.keys("audience"),
                                    format_func=lambda k: _ui.label("audience", k))
            if st.form_submit_button(_ui.t("plan_walk"), type="primary"):
                res = store.insert("walk", gpd.GeoDataFrame([{
                    "title": title, "started_at": dt.datetime.combine(day, start, tzinfo=zone), "area_id": area,
                    "organisations": orgs, "notes": notes, "audience": audience, "created_by": viewer.username,
                    "geometry": None}], geometry="geometry", crs=schema.CRS_STORE), actor=viewer)
                st.success(_ui.t("walk_created", id=res.ids[0]))

    walks = _ui.read("walk", viewer).sort_values("started_at", ascending=False)
    if walks.empty:
        st.info(_ui.t("no_walk"))
        st.stop()
    labels = {int(w.id): f"{w.title} – {w.started_at.tz_convert(zone):%Y-%m-%d %H:%M}" for w in walks.itertuples()}
    walk_id = st.selectbox(_ui.t("walk"), list(labels), format_func=labels.__getitem__)
    walk = walks[walks["id"] == walk_id].iloc[0]
    area_name = names.get(walk["area_id"], "") if pd.notna(walk["area_id"]) else ""
    st.caption(f"{_ui.plain(area_name)} · {_ui.plain(walk['organisations'])}"
               f" · {_ui.label('light', walk['light']) if walk['light'] else ''}")
    if viewer.role == "deltagare":
        # open walks only (today or later); the store checks this again (store.add_participant)
        if walk["started_at"].tz_convert(zone).date() < _ui.today():
            st.caption(_ui.t("walk_closed"))
        elif st.button(_ui.t("join_walk"), icon=":material/group_add:"):
            store.add_participant(walk_id, viewer.username, actor=viewer)
            st.success(_ui.t("walk_joined"))
    if planner:
        with st.form(f"invite_{walk_id}", clear_on_submit=True):
            users = store.users()
            invitable = sorted(users.loc[(users["role"] == "deltagare") & users["active"].astype(bool), "username"])
            chosen = st.multiselect(_ui.t("invite_participants"), invitable, placeholder=_ui.t("choose"))
            if st.form_submit_button(_ui.t("invite_participants"), icon=":material/group_add:"):
                for username in chosen:
                    store.add_participant(walk_id, username, actor=viewer)
                st.success(_ui.t("invited", n=len(chosen)))
    live_findings(walk_id)

    st.subheader(_ui.t("protocol"))
    # Rendered when the button is clicked, from the state at that moment: never an earlier, stale copy.
    lang = _ui.lang()
    c1, c2 = st.columns(2)
    c1.download_button(_ui.t("download_html"),
                       lambda: protocol.protocol_html_text(store, walk_id, viewer=viewer, lang=lang),
                       file_name=f"protokoll_{walk_id}.html", mime="text/html", icon=":material/download:",
                       key=f"proto_html_{walk_id}", on_click="ignore")
    c2.download_button(_ui.t("download_pdf"),
                       lambda: protocol.protocol_pdf_bytes(store, walk_id, viewer=viewer, lang=lang),
                       file_name=f"protokoll_{walk_id}.pdf", mime="application/pdf",
                       icon=":material/picture_as_pdf:", key=f"proto_pdf_{walk_id}", on_click="ignore")

    participant = viewer.role != "deltagare" or store.is_participant(walk_id, viewer.username)
    if (planner or (viewer.role == "deltagare" and participant)) and pd.notna(walk["area_id"]):
        followup_checklist(walk_id, int(walk["area_id"]))
