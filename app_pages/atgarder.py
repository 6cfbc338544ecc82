"""Åtgärder: the action list per responsible party, with filters and status changes; planners create
actions from findings (routing proposes the responsible party)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import actions, effect_export, schema
from trygghetskarta.errors import TrygghetskartaError

viewer = _ui.require("atgarder")
_ui.header("atgarder")
planner = viewer.role in schema.PLANNER_ROLES


def _linked_id() -> int | None:
    """The action a link names (``?id=12``), if the link names one."""
    value = st.query_params.get("id")
    return int(value) if value and value.isdigit() and len(value) < 10 else None

with _ui.guard():
    store = _ui.store()
    today = _ui.today()
    if planner:
        with st.expander(_ui.t("create_action"), icon=":material/add_task:"):
            open_findings = _ui.points("finding", viewer, statuses=["ny", "bedomd", "ej_atgardas"],
                                       columns=("category", "status", "description", "area_id"))
            open_findings = open_findings.sort_values("id", ascending=False)
            names = _ui.area_names()
            labels = {int(r.id): f"nr {r.id} – {_ui.label('category', r.category)} – "
                                 f"{names.get(int(r.area_id), '–') if pd.notna(r.area_id) else '–'} – "
                                 f"{str(r.description or '')[:50]}"
                      for r in open_findings.itertuples()}
            # A fresh picker (new key) for each action: the browser keeps a multiselect's chips otherwise, and
            # a finding assigned meanwhile (here or by another planner) must never break the page.
            n = st.session_state.get("act_n", 0)
            picked = st.multiselect(_ui.t("findings_to_assign"), list(labels),
                                    format_func=lambda i: labels.get(i, str(i)), key=f"act_findings_{n}",
                                    placeholder=_ui.t("choose"))
            chosen = [int(i) for i in picked if isinstance(i, int | np.integer) and int(i) in labels]
            # chosen before and assigned since (Streamlit drops them from the picker): say so
            gone = [i for i in st.session_state.get(f"act_prev_{n}", []) if i not in labels]
            st.session_state[f"act_prev_{n}"] = chosen
            if gone:
                st.warning(_ui.t("findings_gone", ids=", ".join(f"nr {i}" for i in gone)))
            first = open_findings[open_findings["id"] == chosen[0]].iloc[0] if chosen else None
            proposed = actions.propose_party(store, first["category"], None if pd.isna(first["area_id"]) else
                                           int(first["area_id"])) if first is not None else "okand"
            with st.form(f"new_action_{n}"):
                what = st.text_input(_ui.t("what"))
                c1, c2 = st.columns(2)
                parties = schema.keys("party")
                responsible = c1.selectbox(_ui.t("responsible"), parties, index=parties.index(proposed),
                                           format_func=lambda k: _ui.label("party", k))
                priority = c2.selectbox(_ui.t("priority"), [1, 2, 3], index=1,
                                        format_func=lambda k: _ui.label("priority", str(k)))
                kind = c1.selectbox(_ui.t("action_kind"), schema.keys("action_kind"),
                                    format_func=lambda k: _ui.label("action_kind", k))
                shared = c2.checkbox(_ui.t("shared"))
                planned = c1.date_input(_ui.t("planned_date"), value=None, format="YYYY-MM-DD")
                deadline = c2.date_input(_ui.t("deadline"), value=None, format="YYYY-MM-DD")
                if st.form_submit_button(_ui.t("create_action"), type="primary"):
                    try:
                        action_id = actions.create_action(store, chosen, what, responsible, viewer, priority=priority,
                                                        kind=kind, planned_date=planned, deadline=deadline,
                                                        shared=shared)
                    except TrygghetskartaError as exc:  # said here; the picker and the list stay
                        st.error(_ui.error_text(exc))
                    else:
                        st.session_state["act_flash"] = _ui.t("action_created", id=action_id)
                        st.session_state["act_n"] = n + 1
                        st.rerun()
    flash = st.session_state.pop("act_flash", None)
    if flash:
        st.success(flash)

    listed = actions.action_list_for_viewer(store, viewer, today, _ui.lang())
    c1, c2, c3 = st.columns([2, 2, 1])
    parties = c1.multiselect(_ui.t("responsible"), sorted(listed["responsible"].dropna().unique()),
                             format_func=lambda k: _ui.label("party", k), placeholder=_ui.t("choose"))
    # a linked action is shown even when it is done: its status joins the filter's default
    linked_status = listed.loc[listed["id"] == _linked_id(), "status"].tolist()
    statuses = c2.multiselect(_ui.t("action_status"), schema.keys("action_status"),
                              default=[k for k in schema.keys("action_status")
                                       if k in {"oppen", "pagar", *linked_status}],
                              format_func=lambda k: _ui.label("action_status", k), placeholder=_ui.t("choose"))
    overdue = c3.toggle(_ui.t("overdue_only"))
    shown = listed[(listed["responsible"].isin(parties) if parties else True)
                   & (listed["status"].isin(statuses) if statuses else True)
                   & (listed["overdue"] if overdue else True)]
    if shown.empty:
        st.info(_ui.t("no_actions"))
    late = int(shown["overdue"].sum()) if not shown.empty else 0
    if late:
        st.warning(_ui.t("overdue_summary", n=late), icon=":material/alarm:")
    by_party = st.segmented_control(_ui.t("action_view"), [True, False], default=True, key="act_by_party",
                                    format_func=lambda k: _ui.t("view_by_party" if k else "view_by_deadline"))
    columns = {"id": "nr", "what": _ui.t("what"), "responsible_label": _ui.t("responsible"),
               "priority_label": _ui.t("priority"), "kind_label": _ui.t("action_kind"),
               "status_label": _ui.t("action_status"), "planned_date": _ui.t("planned_date"),
               "deadline": _ui.t("deadline"), "days_overdue": _ui.t("days_overdue")}

    def _table(frame: pd.DataFrame) -> None:
        """The list sorted by deadline (overdue first), overdue rows tinted red."""
        cols = {k: v for k, v in columns.items() if k != "responsible_label" or by_party is False}
        table = _ui.shown(frame[list(cols)]).rename(columns=cols)
        tint = ["background-color: #ffcdd2" if o else "" for o in frame["overdue"]]
        st.dataframe(table.style.apply(lambda _row: tint, axis=0), hide_index=True, width="stretch")

    if not shown.empty and by_party is False:
        _table(actions.action_list_from_actions(shown, today, _ui.lang()))
    elif not shown.empty:
        for party, frame in actions.party_lists_from_actions(shown, today, _ui.lang()).items():
            st.subheader(f"{_ui.label('party', party)} ({len(frame)})")
            _table(frame)

    if not shown.empty:
        st.subheader(_ui.t("change_status"))
        by_id = shown.set_index("id")
        ids = by_id.index.astype(int).tolist()
        linked = _linked_id()  # a link to one action (``/atgarder?id=12``) opens it here
        if linked is not None and linked not in ids:
            st.warning(_ui.t("record_not_shown", id=linked))
        action_id = st.selectbox("nr", ids, index=ids.index(linked) if linked in ids else 0,
                                 format_func=lambda i: f"nr {i} – {by_id.at[i, 'what']}")
        with st.form("action_status"):
            allowed = sorted(schema.ACTION_TRANSITIONS[by_id.at[action_id, "status"]])
            to = st.selectbox(_ui.t("new_status"), allowed, format_func=lambda k: _ui.label("action_status", k))
            comment = st.text_input(_ui.t("comment"))
            c1, c2 = st.columns(2)
            if c1.form_submit_button(_ui.t("apply"), type="primary"):
                actions.change_action_status(store, int(action_id), to, viewer, comment)
                st.success(_ui.t("status_changed"))
            if c2.form_submit_button(_ui.t("progress_note")):
                actions.add_action_progress(store, int(action_id), viewer, comment)
                st.success(_ui.t("status_changed"))
        if planner or by_id.at[action_id, "responsible"] == viewer.organisation:
            with st.form(f"action_dates_{action_id}"):
                c1, c2 = st.columns(2)
                current = by_id.loc[action_id]
                planned = c1.date_input(_ui.t("planned_date"), value=current["planned_date"] if pd.notna(
                    current["planned_date"]) else None, format="YYYY-MM-DD")
                deadline = c2.date_input(_ui.t("deadline"), value=current["deadline"] if pd.notna(
                    current["deadline"]) else None, format="YYYY-MM-DD", disabled=not planner)
                if st.form_submit_button(_ui.t("save_dates")):
                    actions.set_action_dates(store, int(action_id), viewer, planned_date=planned,
                                           deadline=deadline if planner else current["deadline"])
                    st.success(_ui.t("dates_saved"))

    # --- did it help? (#17): the effect of an action against a control area ------------------------------
    if planner or viewer.role in schema.PARTNER_ROLES:
        from trygghetskarta import effect_service

        st.subheader(_ui.t("effect_title"))
        evaluable = listed[listed["status"].isin(schema.ACTION_DONE_STATUSES) | listed["planned_date"].notna()]
        if evaluable.empty:
            st.info(_ui.t("effect_none"))
        else:
            by_eff = evaluable.set_index("id")
            names = _ui.area_names()
            with st.form("action_effect"):
                e1, e2 = st.columns(2)
                chosen_id = e1.selectbox(_ui.t("effect_action"), by_eff.index.astype(int).tolist(),
                                         format_func=lambda i: f"nr {i} – {by_eff.at[i, 'what']}")
                controls = e2.multiselect(_ui.t("effect_control"), list(names), format_func=lambda a: names[a],
                                          placeholder=_ui.t("choose"))
                e3, e4, e5 = st.columns(3)
                weeks = e3.number_input(_ui.t("effect_weeks"), 4, 104, 26, step=1)
                buffer_m = e4.number_input(_ui.t("effect_buffer"), 0, 1000, 200, step=50)
                kinds = e5.multiselect(_ui.t("effect_kinds"), list(effect_service.EFFECT_KINDS),
                                       default=list(effect_service.DEFAULT_KINDS),
                                       format_func=lambda k: _ui.label("record_kind", k),
                                       placeholder=_ui.t("choose"))
                run = st.form_submit_button(_ui.t("effect_title"), type="primary")
            if run:
                try:
                    target, label_, date, area_ids = effect_service.action_target(store, viewer, int(chosen_id))
                    if date is None:
                        raise TrygghetskartaError(_ui.t("effect_date"))
                    report = effect_service.effect_report(
                        store, viewer, target=target, target_label=label_, date=date, weeks=int(weeks),
                        buffer_m=float(buffer_m), controls=[int(c) for c in controls] or None,
                        kinds=kinds or list(effect_service.DEFAULT_KINDS), lang=_ui.lang(), target_area_ids=area_ids)
                except TrygghetskartaError as exc:
                    st.error(_ui.error_text(exc))
                else:
                    st.session_state["act_effect"] = report
            kept: effect_service.EffectReport | None = st.session_state.get("act_effect")
            if kept is not None:
                report = kept
                st.markdown(f"**{_ui.plain(report.target)}** · {_ui.t('effect_date')}: {report.date} · "
                            f"{_ui.t('effect_control_used')}: {_ui.plain(', '.join(report.controls))}")
                st.info(_ui.plain(report.verdict), icon=":material/balance:")
                for note in report.notes:
                    st.caption(_ui.plain(note))
                counts, measures = effect_export.report_rows(report)
                c1, c2 = st.columns(2)
                c1.dataframe(pd.DataFrame(counts, columns=[_ui.t("effect_zone"), _ui.t("effect_before"),
                                                           _ui.t("effect_after")]), hide_index=True)
                c2.dataframe(pd.DataFrame(measures, columns=[_ui.t("effect_measure"), _ui.t("effect_value")]),
                             hide_index=True)
                from trygghetskarta.analysis.effect import FORMULA_VERSION

                st.caption(_ui.plain(_ui.t("effect_formula", version=FORMULA_VERSION)))
