"""EST-rapport: a partner (police, housing company, security guards, fire and rescue) files its weekly EST report
for its own organisation, by a form that works on a phone or by uploading the template the page hands out; and
sees its own reports' review status (a returned report can be corrected and sent in again)."""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages import _importer, _ui
from trygghetskarta import est_reports, schema, settings
from trygghetskarta.errors import TrygghetskartaError
from trygghetskarta.ingest import messages, uploads

viewer = _ui.require("est_rapport")
_ui.header("est_rapport")
state = st.session_state


def _week_label(week: str) -> str:
    start, end = est_reports.week_bounds(week)
    return f"{week} ({start:%d/%m} – {end:%d/%m})"


def _reset_draft() -> None:
    state["est_lines"] = []
    state["est_client"] = uuid.uuid4().hex
    state.pop("est_resubmit", None)


with _ui.guard():
    store = _ui.store()
    if not viewer.organisation:
        st.warning(_ui.t("est_no_org"))
        st.stop()
    st.caption(_ui.t("est_intro"))
    st.info(_ui.t("est_for_org", org=_ui.label("party", viewer.organisation)))
    if "est_lines" not in state:
        _reset_draft()
    flash = state.pop("est_flash", None)
    if flash:
        st.success(flash)
    names = _ui.area_names()
    this_week = est_reports.current_week(_ui.today())
    start_this, _ = est_reports.week_bounds(this_week)
    weeks = [est_reports.week_of(start_this - dt.timedelta(days=7 * n)) for n in range(0, 6)]
    if "est_week_pending" in state:  # a returned report chosen for correction sets its week
        state["est_week"] = state.pop("est_week_pending")
    resubmit_id = state.get("est_resubmit")
    if resubmit_id is not None and state.get("est_week") not in weeks:
        weeks.append(state["est_week"])
    week = st.selectbox(_ui.t("est_week"), weeks, key="est_week", format_func=_week_label,
                        disabled=resubmit_id is not None)

    form_tab, upload_tab, mine_tab = st.tabs([_ui.t("est_tab_form"), _ui.t("est_tab_upload"), _ui.t("est_tab_mine")])

    # --- the form (one line at a time; works at 390 px) ------------------------------------------------
    with form_tab:
        if resubmit_id is not None:
            st.warning(_ui.t("est_correct_returned", id=resubmit_id))
        with st.form("est_line_form", clear_on_submit=True):
            category = st.selectbox(_ui.t("category"), schema.keys("est_category"), key="est_f_category",
                                    format_func=lambda k: _ui.label("est_category", k))
            area = st.selectbox(_ui.t("est_area"), [None, *names], key="est_f_area",
                                format_func=lambda a: _ui.t("est_whole") if a is None else names[a])
            count = st.number_input(_ui.t("est_count"), min_value=1, max_value=100_000, value=1, step=1,
                                    key="est_f_count")
            st.caption(_ui.t("est_single"))
            day = st.date_input(_ui.t("est_date"), value=None, format="YYYY-MM-DD", key="est_f_date")
            clock = st.time_input(_ui.t("est_time"), value=None, key="est_f_time")
            place = st.text_input(_ui.t("est_place"), max_chars=300, key="est_f_place")
            comment = st.text_input(_ui.t("comment"), max_chars=500, key="est_f_comment",
                                    help=_ui.t("no_names"))
            if st.form_submit_button(_ui.t("est_add_line"), icon=":material/add:", width="stretch"):
                occurred = None
                if day is not None:
                    occurred = dt.datetime.combine(day, clock or dt.time(12, 0))
                line = {"category": category, "area_id": area, "count": int(count), "occurred_at": occurred,
                        "place": place, "comment": comment}
                try:  # a wrong line is refused now, not at submit
                    est_reports.validate_lines(store, [line], week)
                except TrygghetskartaError as exc:
                    st.error(_ui.error_text(exc))
                else:
                    state["est_lines"] = [*state["est_lines"], line]
                    st.success(_ui.t("est_line_added"))

        lines = state["est_lines"]
        st.markdown(f"**{_ui.t('est_lines')}**")
        if lines:
            shown = pd.DataFrame([{
                "#": n, _ui.t("category"): _ui.label("est_category", line["category"]),
                _ui.t("est_area"): _ui.t("est_whole") if line["area_id"] is None else names.get(line["area_id"], ""),
                _ui.t("est_count"): line["count"],
                _ui.t("est_date"): "" if line["occurred_at"] is None else f"{line['occurred_at']:%Y-%m-%d %H:%M}",
                _ui.t("est_place"): line["place"] or "", _ui.t("comment"): line["comment"] or ""}
                for n, line in enumerate(lines, start=1)])
            st.dataframe(shown, hide_index=True, width="stretch")
            remove = st.selectbox(_ui.t("est_remove_line"), list(range(1, len(lines) + 1)), index=None,
                                  key="est_remove", placeholder=_ui.t("choose"))
            if remove is not None and st.button(_ui.t("est_remove_line"), key="est_remove_btn",
                                                icon=":material/delete:"):
                state["est_lines"] = [x for n, x in enumerate(lines, start=1) if n != remove]
                state.pop("est_remove", None)
                st.rerun()
            nothing = False
        else:
            st.caption(_ui.t("est_no_lines"))
            nothing = st.checkbox(_ui.t("est_nothing"), key="est_nothing")
        report_comment = st.text_area(_ui.t("est_report_comment"), max_chars=2000, key="est_comment",
                                      help=_ui.t("no_names"))
        label = _ui.t("est_resubmit") if resubmit_id is not None else _ui.t("est_submit")
        if st.button(label, type="primary", key="est_submit_btn", disabled=not (lines or nothing),
                     icon=":material/send:", width="stretch"):
            if resubmit_id is not None:
                est_reports.resubmit(store, viewer, int(resubmit_id), lines, report_comment)
                report_id = int(resubmit_id)
            else:
                report_id = est_reports.submit(store, viewer, week, lines, comment=report_comment,
                                               client_id=state["est_client"])
            _reset_draft()
            state.pop("est_comment", None)
            state.pop("est_nothing", None)
            state["est_flash"] = _ui.t("est_submitted", id=report_id)
            st.rerun()

    # --- the template upload ------------------------------------------------------------------------------
    with upload_tab:
        st.caption(_ui.t("est_template_help"))
        with tempfile.TemporaryDirectory() as tmp:
            csv_bytes = est_reports.write_template(Path(tmp) / "est_rapport.csv", store).read_bytes()
            xlsx_bytes = est_reports.write_template(Path(tmp) / "est_rapport.xlsx", store, week).read_bytes()
        st.download_button(_ui.t("est_template_csv"), csv_bytes, file_name="est_rapport_mall.csv", mime="text/csv",
                           icon=":material/download:", key="est_tpl_csv", width="stretch")
        st.download_button(_ui.t("est_template_xlsx"), xlsx_bytes, file_name="est_rapport_mall.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           icon=":material/download:", key="est_tpl_xlsx", width="stretch")
        upload = st.file_uploader(_ui.t("file"), type=["csv", "xlsx"], key="est_upload")
        if upload is not None and st.button(_ui.t("preview"), key="est_preview", icon=":material/preview:"):
            _importer.preview_upload("est_plan", upload, lambda saved, name: est_reports.import_file(
                store, saved, actor=viewer, dry_run=True, name=name))
        pending = state.get("est_plan")
        if pending:
            path, name, preview = pending
            st.markdown(f"**{_ui.plain(name)}**")
            for warning in preview.warnings:
                st.warning(_ui.plain(messages.warning(warning, _ui.lang())))
            c1, c2 = st.columns(2)
            c1.metric(_ui.t("accepted_rows", n="").rstrip(": "), preview.accepted)
            c2.metric(_ui.t("rejected_rows", n="").rstrip(": "), preview.rejected)
            if len(preview.rejections):
                st.dataframe(_importer.rejected_preview(preview.rejections), hide_index=True, width="stretch")
            if st.button(_ui.t("est_upload_submit"), type="primary", key="est_upload_confirm",
                         disabled=not preview.accepted, icon=":material/send:", width="stretch"):
                result = est_reports.import_file(store, path, actor=viewer, name=name)
                uploads.discard(path)
                state.pop("est_plan", None)
                ids = ", ".join(map(str, result.report_ids))
                done = messages.summary(result.accepted, result.rejected, result.already_present, _ui.lang())
                state["est_flash"] = (_ui.t("est_imported", line=done, ids=ids) if ids else
                                      _ui.t("est_nothing_new", line=done))
                st.rerun()

    # --- my organisation's reports ------------------------------------------------------------------------
    with mine_tab:
        mine = est_reports.list_reports(store, viewer)
        if mine.empty:
            st.caption(_ui.t("est_no_reports"))
        else:
            for r in mine[mine["status"] == "returnerad"].itertuples():
                st.warning(_ui.t("est_returned_note", id=r.id, week=r.week, reason=_ui.plain(r.reason or "")))
                if st.button(_ui.t("est_correct_returned", id=r.id), key=f"est_fix_{r.id}",
                             icon=":material/edit:"):
                    lines = est_reports.report_lines(store, viewer, [int(r.id)])
                    state["est_lines"] = [{
                        "category": x.category, "area_id": None if pd.isna(x.area_id) else int(x.area_id),
                        "count": int(x.count),
                        "occurred_at": None if pd.isna(x.occurred_at) else pd.Timestamp(x.occurred_at).tz_convert(
                            settings.get("timezone")).tz_localize(None).to_pydatetime(),
                        "place": x.place or "", "comment": x.comment or "", "type": x.type}
                        for x in lines.itertuples()]
                    state["est_resubmit"] = int(r.id)
                    state["est_week_pending"] = r.week
                    st.rerun()
            table = pd.DataFrame({
                "nr": mine["id"], _ui.t("est_week"): mine["week"], _ui.t("est_status"): mine["status_label"],
                _ui.t("est_lines"): mine["lines"], _ui.t("est_count"): mine["total"],
                _ui.t("est_reason"): mine["reason"].fillna("")})
            st.dataframe(table, hide_index=True, width="stretch")
