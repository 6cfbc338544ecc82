"""Admin: users and roles, areas (import official RegSO/DeSO polygons), routing of categories to responsible
parties, lägesbild thresholds, retention (gallring), the audit log and demo data for training installations."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _importer, _ui
from trygghetskarta import actions as action_service
from trygghetskarta import auth, demo, i18n, lagesbild, privacy, schema, settings
from trygghetskarta.access import Viewer
from trygghetskarta.i18n import N_
from trygghetskarta.store import Store


def _change_user(store: Store, users: pd.DataFrame, actor: Viewer) -> None:
    """Change one user's role or active flag: starts from the user's current values and asks to confirm."""
    st.markdown(f"**{_ui.t('change_role')}**")
    c1, c2, c3 = st.columns(3)
    who = c1.selectbox(_ui.t("username"), users["username"].tolist(), key="chg_user")
    row = users[users["username"] == who].iloc[0]
    roles = schema.keys("role")
    # keyed on the user, so choosing another user shows that user's current role and state
    new_role = c2.selectbox(_ui.t("role"), roles, index=roles.index(row["role"]), key=f"chg_role_{who}",
                            format_func=lambda k: _ui.label("role", k))
    active = c3.toggle(_ui.t("active"), value=bool(row["active"]), key=f"chg_active_{who}")
    changes = []
    if new_role != row["role"]:
        changes.append(_ui.t("change_role_from_to", old=_ui.label("role", row["role"]),
                             new=_ui.label("role", new_role)))
    if active != bool(row["active"]):
        changes.append(_ui.t("activate") if active else _ui.t("deactivate"))
    if not changes:
        st.caption(_ui.t("no_change"))
        return
    admins = users[(users["role"] == "admin") & users["active"].astype(bool)]["username"].tolist()
    if admins == [who] and (new_role != "admin" or not active):
        st.error(_ui.t("last_admin", u=_ui.plain(who)))  # the store refuses it too, in the same transaction
        return
    st.warning(_ui.t("confirm_user_change", u=_ui.plain(who), what="; ".join(changes)))
    if st.button(_ui.t("confirm_change"), key="chg_confirm", type="primary"):
        store.update_user(who, actor=actor, role=new_role, active=active)
        st.success(_ui.t("setting_saved"))


viewer = _ui.require("admin")
_ui.header("admin")
ANY = "__any__"

# The settings shown on the retention tab, each with its help text in the catalogues (setting_help_<name>).
_SETTING_HELP_IDS = {"duplicate_radius_m": N_("setting_help_duplicate_radius_m"),
                     "privacy_k": N_("setting_help_privacy_k"),
                     "retention_sighting_days": N_("setting_help_retention_sighting_days"),
                     "retention_nightwalk_days": N_("setting_help_retention_nightwalk_days"),
                     "retention_incident_days": N_("setting_help_retention_incident_days"),
                     "retention_audit_days": N_("setting_help_retention_audit_days"),
                     "retention_public_email_days": N_("setting_help_retention_public_email_days"),
                     "lockout_attempts": N_("setting_help_lockout_attempts"),
                     "lockout_minutes": N_("setting_help_lockout_minutes"),
                     "session_timeout_minutes": N_("setting_help_session_timeout_minutes")}
_USER_COLUMNS = {"username": N_("username"), "role": N_("role"), "organisation": N_("organisation"),
                 "active": N_("active"), "failed_attempts": N_("user_failed_attempts"),
                 "locked_until": N_("user_locked_until"), "last_login": N_("user_last_login"),
                 "created_at": N_("user_created_at"), "sso_subject": N_("user_sso_subject")}
_AUDIT_COLUMNS = {"at": N_("audit_at"), "username": N_("username"), "role": N_("role"),
                  "action": N_("audit_action"), "kind": N_("kind"), "record_id": N_("audit_record"),
                  "detail": N_("audit_detail")}


def _users_table(users: pd.DataFrame) -> pd.DataFrame:
    """The user list with its headers and roles in the chosen language (no password hashes, no internal id)."""
    shown = users.assign(role=users["role"].map(lambda k: _ui.label("role", k)),
                         organisation=users["organisation"].map(lambda k: _ui.label("party", k) if k else ""))
    cols = [c for c in _USER_COLUMNS if c in shown]
    return shown[cols].rename(columns={c: _ui.t(_USER_COLUMNS[c]) for c in cols})


def _thresholds_table(thresholds: dict[str, dict[str, float]]) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """The thresholds per indicator (rows) and level (columns), named in the chosen language, and the way back
    from those names to the keys the core saves."""
    names = {k: i.label(_ui.lang()) for i in lagesbild.INDICATORS if (k := i.key) in thresholds}
    frame = pd.DataFrame(thresholds).T.loc[list(names)]
    levels = {c: _ui.label("area_level", c) for c in frame.columns}
    table = frame.rename(index=names, columns=levels)
    return table, {"indicator": {v: k for k, v in names.items()}, "level": levels}


def _retention_table(result: dict[str, dict[str, object]], *, done: bool) -> pd.DataFrame:
    """What ``gallra`` removes (or removed) per kind, headed in the chosen language."""
    frame = pd.DataFrame(result).T
    frame["cutoff"] = frame["cutoff"].map(lambda v: str(v)[:16].replace("T", " "))  # local time, to the minute
    columns = {"cutoff": _ui.t("retention_cutoff"), "deleted": _ui.t("retention_deleted" if done else
                                                                      "retention_to_delete"),
               "aggregated_cells": _ui.t("retention_aggregated")}
    return frame.rename(index=lambda k: _ui.t(f"retention_kind_{k}"), columns=columns)

_AUDIT_KIND_IDS = (N_("audit_kind_user"), N_("audit_kind_effect"), N_("audit_kind_est_decision"),
                   N_("audit_kind_est_report"), N_("audit_kind_hotspots"), N_("audit_kind_lagesbild"),
                   N_("audit_kind_map"), N_("audit_kind_trygghetsmatning"), N_("audit_kind_setting"),
                   N_("audit_kind_public_report"), N_("audit_kind_api_key"))
# The audit log's events with a text (audit_<action>); an event without one shows its key.
_AUDIT_IDS = (N_("audit_api_key_add"), N_("audit_api_key_revoke"), N_("audit_create"), N_("audit_dates"),
              N_("audit_demo_actions"), N_("audit_demo_history"), N_("audit_est_decision"),
              N_("audit_est_decision_followup"), N_("audit_est_report_import"), N_("audit_est_report_submit"),
              N_("audit_export"), N_("audit_followup"), N_("audit_gallra"), N_("audit_gallra_public"),
              N_("audit_import"), N_("audit_insert"), N_("audit_lagesbild"), N_("audit_locked"),
              N_("audit_login_failed"), N_("audit_login_ok"), N_("audit_moderate"), N_("audit_partner_report"),
              N_("audit_progress"), N_("audit_public_report"), N_("audit_report"), N_("audit_routing"),
              N_("audit_routing_defaults"), N_("audit_routing_delete"), N_("audit_setting"), N_("audit_status"),
              N_("audit_support"), N_("audit_unsubscribe"), N_("audit_user_add"), N_("audit_user_update"),
              N_("audit_password_set"), N_("audit_view_aggregate"), N_("audit_view_restricted"),
              N_("audit_walk_invite"), N_("audit_update"), N_("audit_delete"))


def _audit_label(action: str) -> str:
    msgid = f"audit_{action}"
    return _ui.t(msgid) if i18n.has(msgid, _ui.lang()) else action


def _audit_kind(kind: object) -> str:
    if not isinstance(kind, str) or not kind:
        return ""
    if kind in schema.RECORD_KIND:
        return _ui.label("record_kind", kind)
    msgid = f"audit_kind_{kind}"
    return _ui.t(msgid) if i18n.has(msgid, _ui.lang()) else kind


def _audit_table(log: pd.DataFrame) -> pd.DataFrame:
    shown = log.assign(action=log["action"].map(_audit_label), kind=log["kind"].map(_audit_kind),
                       role=log["role"].map(lambda k: _ui.label("role", k) if k else ""))
    cols = [c for c in _AUDIT_COLUMNS if c in shown]
    return shown[cols].rename(columns={c: _ui.t(_AUDIT_COLUMNS[c]) for c in cols})


_RUNTIME_IDS = (N_("retention_kind_sighting"), N_("retention_kind_nightwalk"), N_("retention_kind_incident"),
                N_("retention_kind_audit"))


with _ui.guard():
    store = _ui.store()
    tabs = st.tabs([_ui.t(k) for k in ("users", "areas", "routing", "thresholds", "retention", "audit_log",
                                       "demo_data", "adm_public")])
    with tabs[0]:
        users = store.users()
        _ui.table(_users_table(users), hide_index=True, width="stretch")
        with st.form("add_user", clear_on_submit=True):
            st.markdown(f"**{_ui.t('add_user')}**")
            c1, c2, c3 = st.columns(3)
            username = c1.text_input(_ui.t("username"))
            role = c2.selectbox(_ui.t("role"), schema.keys("role"), format_func=lambda k: _ui.label("role", k))
            org = c3.selectbox(_ui.t("organisation"), [None, *schema.keys("party")],
                               format_func=lambda k: "–" if k is None else _ui.label("party", k))
            password = st.text_input(_ui.t("password"), type="password", autocomplete="new-password")
            if st.form_submit_button(_ui.t("add_user"), type="primary"):
                auth.create_user(store, username, role, password, organisation=org, actor=viewer)
                st.success(_ui.t("user_added", u=_ui.plain(username)))
        if not users.empty:
            _change_user(store, users, viewer)
    with tabs[1]:
        areas = _ui.areas()
        _ui.table(pd.DataFrame({"nr": areas["id"], _ui.t("areas"): areas["name"],
                                   "": areas["locality"].map(lambda k: _ui.label("locality", k)),
                                   _ui.t("area_source"): areas["source"].map(lambda k: _ui.label("area_source", k))}),
                     hide_index=True, width="stretch")
        st.markdown(f"**{_ui.t('areas_import')}**")
        source = st.selectbox(_ui.t("area_source"), ["regso", "deso", "import"],
                              format_func=lambda k: _ui.label("area_source", k))
        _importer.import_flow("area", f"adm_area_{source}", defaults={"source": source})
    with tabs[2]:
        routing = store.routing_table()
        names = _ui.area_names()
        _ui.table(pd.DataFrame({
            _ui.t("category"): routing["category"].map(
                lambda k: _ui.t("any") if pd.isna(k) else _ui.label("category", k)),
            _ui.t("walk_area"): routing["area_id"].map(lambda a: _ui.t("any") if pd.isna(a) else names.get(int(a), a)),
            _ui.t("responsible"): routing["party"].map(lambda k: _ui.label("party", k))}), hide_index=True,
            width="stretch")
        with st.form("route"):
            c1, c2, c3 = st.columns(3)
            category = c1.selectbox(_ui.t("category"), [ANY, *schema.keys("category")],
                                    format_func=lambda k: _ui.t("any") if k == ANY else _ui.label("category", k))
            area = c2.selectbox(_ui.t("walk_area"), [ANY, *names],
                                format_func=lambda k: _ui.t("any") if k == ANY else names[k])
            party = c3.selectbox(_ui.t("responsible"), schema.keys("party"),
                                 format_func=lambda k: _ui.label("party", k))
            save, delete = st.columns(2)
            key = (None if category == ANY else category, area if isinstance(area, int) else None)  # else ANY
            if save.form_submit_button(_ui.t("apply"), type="primary"):
                action_service.set_route(store, *key, party, actor=viewer)
                st.success(_ui.t("route_saved"))
            if delete.form_submit_button(_ui.t("route_delete")):
                action_service.delete_route(store, *key, actor=viewer)
                st.success(_ui.t("route_saved"))
        st.caption(_ui.t("routing_defaults_help"))
        if st.button(_ui.t("routing_restore"), key="routing_restore"):
            n = action_service.seed_default_routing(store, viewer, restore=True)
            st.success(_ui.t("routing_restored", n=n))
    with tabs[3]:
        current, keys = _thresholds_table(lagesbild.thresholds_from_store(store))
        edited = st.data_editor(current, key="thresholds", width="stretch")
        if st.button(_ui.t("apply"), key="save_thresholds", type="primary"):
            levels = {v: k for k, v in keys["level"].items()}
            values = {keys["indicator"][name]: {levels[c]: float(x) for c, x in row.items()}
                      for name, row in edited.T.to_dict().items()}
            lagesbild.save_thresholds(store, values, actor=viewer)
            st.success(_ui.t("setting_saved"))
    with tabs[4]:
        st.caption(_ui.t("env_settings"))
        _ui.table(pd.DataFrame([{_ui.t("setting_env"): s.env, _ui.t("setting_value"): settings.get(s.name),
                                    _ui.t("setting_help"): _ui.t(f"setting_help_{s.name}")}
                                   for s in settings.SETTINGS if s.name in _SETTING_HELP_IDS]),
                     hide_index=True, width="stretch")
        _ui.table(_retention_table(privacy.gallra(store, dry_run=True), done=False), width="stretch")
        if st.button(_ui.t("run_gallra"), key="gallra", type="primary"):
            _ui.table(_retention_table(privacy.gallra(store), done=True), width="stretch")
    with tabs[5]:
        log = store.audit_log(limit=2000)
        actions = st.multiselect(_ui.t("audit_action"), sorted(log["action"].dropna().unique()) if not log.empty
                                 else [], format_func=_audit_label, placeholder=_ui.t("choose"))
        _ui.table(_audit_table(log[log["action"].isin(actions)] if actions else log), hide_index=True,
                     width="stretch")
    with tabs[6]:
        st.caption(_ui.t("demo_explain"))
        c1, c2 = st.columns(2)
        size = c1.selectbox(_ui.t("demo_size"), [None, 10_000, 100_000, 1_000_000],
                            format_func=lambda k: _ui.t("demo_season") if k is None else f"{k:,}".replace(",", " "))
        seed = c2.number_input(_ui.t("demo_seed"), min_value=1, max_value=2**31 - 1, value=20261123, step=1)
        if st.button(_ui.t("demo_fill"), key="demo_fill", type="primary", icon=":material/science:"):
            bar = st.progress(0.0, text=_ui.t("demo_fill"))

            def advance(share: float, what: str) -> None:
                bar.progress(min(max(share, 0.0), 1.0), text=what)

            summary = demo.fill(store, seed=int(seed), size=size, progress=advance)
            bar.empty()
            st.success(_ui.t("demo_done", n=summary.total, k=sum(summary.already_present.values())))
    with tabs[7]:  # issue 16: API keys, parties' e-mail, the help page's content, the outbox
        from app_pages import _admin_public

        _admin_public.section(store, viewer)
