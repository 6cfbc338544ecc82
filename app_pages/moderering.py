"""Invånarnas anmälningar: the planner moderates residents' reports (approve, or reject with a reason the
reporter sees), moves them along their lifecycle (the reporter is told by e-mail through the outbox), and
makes the QR code that opens the public report page at a walk or place (issue 16)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import outbox, public, public_texts, schema, workflow

_MODERATION = {"vantar": "Väntar", "godkand": "Godkänd", "avvisad": "Avvisad"}

viewer = _ui.require("moderering")
_ui.header("moderering")
state = st.session_state
st.caption(_ui.t("mod_intro"))
flash = state.pop("mod_flash", None)
if flash:
    st.success(flash)


def _done(message: str) -> None:
    store = _ui.store()
    outbox.collect(store)  # the reporter's message is queued now; `trygghetskarta outbox send` delivers it
    state["mod_flash"] = message
    st.rerun()


with _ui.guard():
    store = _ui.store()
    pending = store.public_reports(viewer, moderation=["vantar"])
    # a choice that stays put across reruns (a status change reruns the page; tabs would fall back to the first)
    views = {"pending": _ui.t("mod_pending", n=len(pending)), "all": _ui.t("mod_all"), "qr": _ui.t("mod_qr")}
    view = st.segmented_control(_ui.t("page_moderering"), list(views), format_func=lambda k: views[k], key="mod_view",
                                default="pending", label_visibility="collapsed") or "pending"

    if view == "pending":
        if pending.empty:
            st.info(_ui.t("mod_none"))
        for row in pending.head(50).itertuples():
            with st.container(border=True, key=f"mod_item_{row.finding_id}"):
                when = pd.Timestamp(row.created_at).tz_convert("Europe/Stockholm").strftime("%Y-%m-%d %H:%M")
                title = _ui.t("mod_item", id=row.finding_id, when=when, channel=row.channel,
                              category=_ui.label("category", row.category))
                st.markdown(f"**{_ui.plain(title)}**")
                if row.description:
                    st.text(row.description)
                if row.address:
                    st.caption(_ui.plain(_ui.t("mod_address", address=row.address)))
                st.caption(_ui.t("mod_position", lat=row.lat, lon=row.lon))
                if row.has_email:
                    st.caption(_ui.t("mod_email"))
                shots = store.photos([int(row.finding_id)], viewer)
                if not shots.empty:
                    st.image([str(p) for p in shots["thumb_path"]], width=160)
                c1, c2 = st.columns(2)
                if c1.button(_ui.t("mod_approve"), key=f"mod_ok_{row.finding_id}", type="primary", width="stretch"):
                    public.moderate(store, int(row.finding_id), True, viewer)
                    _done(_ui.t("mod_approved", id=row.finding_id))
                reason = c2.text_input(_ui.t("mod_reason"), key=f"mod_reason_{row.finding_id}")
                if c2.button(_ui.t("mod_reject"), key=f"mod_no_{row.finding_id}", width="stretch"):
                    public.moderate(store, int(row.finding_id), False, viewer, reason)
                    _done(_ui.t("mod_rejected", id=row.finding_id))

    if view == "all":
        every = store.public_reports(viewer)
        if every.empty:
            st.info(_ui.t("mod_none"))
        else:
            table = pd.DataFrame({
                "nr": every["finding_id"], "kvittokod": every["receipt_code"],
                "kategori": every["category"].map(lambda k: _ui.label("category", k)),
                "status": every["status"].map(lambda k: _ui.label("status", k)),
                "granskning": every["moderation"].map(_MODERATION), "kanal": every["channel"],
                "språk": every["lang"].map(lambda k: public_texts.LANGUAGE_NAMES.get(k, k))})
            st.dataframe(table, hide_index=True, width="stretch")
            approved = every[every["moderation"] == "godkand"]
            if not approved.empty:
                chosen = st.selectbox(_ui.t("mod_status_of"), approved["finding_id"].tolist(), key="mod_pick",
                                      format_func=lambda i: f"nr {i}")
                current = str(approved.loc[approved["finding_id"] == chosen, "status"].iloc[0])
                options = sorted(schema.STATUS_TRANSITIONS.get(current, frozenset()) - {"dubblett", "planerad"})
                if not options:
                    st.info(_ui.t("mod_no_change"))
                else:
                    to = st.selectbox(_ui.t("mod_new_status"), options, key=f"mod_to_{chosen}_{current}",
                                      index=None, placeholder=_ui.t("choose"),
                                      format_func=lambda k: _ui.label("status", k))
                    party = None
                    if to == "tilldelad":
                        party = st.selectbox(_ui.t("mod_party"), schema.keys("party"), key=f"mod_party_{chosen}",
                                             format_func=lambda k: _ui.label("party", k))
                    comment = st.text_input(_ui.t("mod_comment"), key=f"mod_comment_{chosen}")
                    if st.button(_ui.t("mod_change"), key=f"mod_change_{chosen}", type="primary",
                                 disabled=to is None) and to is not None:
                        workflow.change_status(store, int(chosen), to, viewer, comment or "", responsible=party)
                        _done(_ui.t("mod_changed", id=chosen, status=_ui.label("status", to)))

    if view == "qr":
        walks = store.points("walk", viewer, columns=("title",))
        walk_ids = [None, *walks["id"].astype(int).tolist()]
        titles = dict(zip(walks["id"].astype(int), walks["title"], strict=True))
        walk = st.selectbox(_ui.t("qr_walk"), walk_ids, key="mod_qr_walk",
                            format_func=lambda i: "–" if i is None else f"{i}: {titles[i]}")
        c1, c2 = st.columns(2)
        lat = c1.number_input("lat", value=None, format="%.6f", key="mod_qr_lat")
        lon = c2.number_input("lon", value=None, format="%.6f", key="mod_qr_lon")
        name = st.text_input(_ui.t("qr_name"), key="mod_qr_name")
        qr_lang = st.selectbox(_ui.t("qr_lang"), list(public_texts.PUBLIC_LANGUAGES), key="mod_qr_lang",
                               format_func=lambda k: public_texts.LANGUAGE_NAMES[k])
        place: tuple[float, float, str | None] | None = None
        if walk is not None:
            lon_w, lat_w, title = public.walk_place(store, int(walk))
            place = (lon_w, lat_w, name or title)
        elif lat is not None and lon is not None:
            place = (float(lon), float(lat), name or None)
        if place is None:
            st.info(_ui.t("qr_none"))
        else:
            url = public.report_url(place[0], place[1], lang=qr_lang, place=place[2])
            png = public.qr_png(url)
            st.image(png, width=240)
            st.caption(_ui.plain(_ui.t("qr_link", url=url)))
            st.download_button(_ui.t("qr_download"), png, file_name="trygghetskarta-qr.png", mime="image/png")
