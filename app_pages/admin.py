"""Admin: users and roles, areas (import official RegSO/DeSO polygons), routing of categories to responsible
parties, lägesbild thresholds, retention (gallring), the audit log and demo data for training installations."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _importer, _ui
from trygghetskarta import actions as action_service
from trygghetskarta import auth, demo, lagesbild, privacy, schema, settings
from trygghetskarta.access import Viewer
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

with _ui.guard():
    store = _ui.store()
    tabs = st.tabs([_ui.t(k) for k in ("users", "areas", "routing", "thresholds", "retention", "audit_log",
                                       "demo_data", "adm_public")])
    with tabs[0]:
        users = store.users()
        st.dataframe(users.assign(role=users["role"].map(lambda k: _ui.label("role", k))), hide_index=True,
                     width="stretch")
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
        st.dataframe(pd.DataFrame({"nr": areas["id"], _ui.t("areas"): areas["name"],
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
        st.dataframe(pd.DataFrame({
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
        current = pd.DataFrame(lagesbild.thresholds_from_store(store)).T
        edited = st.data_editor(current, key="thresholds", width="stretch")
        if st.button(_ui.t("apply"), key="save_thresholds", type="primary"):
            lagesbild.save_thresholds(store, {k: dict(v) for k, v in edited.T.to_dict().items()}, actor=viewer)
            st.success(_ui.t("setting_saved"))
    with tabs[4]:
        st.caption(_ui.t("env_settings"))
        st.dataframe(pd.DataFrame([{"": s.env, "=": settings.get(s.name), "?": s.help} for s in settings.SETTINGS
                                   if s.name.startswith(("retention_", "lockout_", "session_", "privacy_",
                                                         "duplicate_"))]), hide_index=True, width="stretch")
        st.dataframe(pd.DataFrame(privacy.gallra(store, dry_run=True)).T, width="stretch")
        if st.button(_ui.t("run_gallra"), key="gallra", type="primary"):
            st.dataframe(pd.DataFrame(privacy.gallra(store)).T, width="stretch")
    with tabs[5]:
        log = store.audit_log(limit=2000)
        actions = st.multiselect("action", sorted(log["action"].dropna().unique()) if not log.empty else [],
                                 placeholder=_ui.t("choose"))
        st.dataframe(log[log["action"].isin(actions)] if actions else log, hide_index=True, width="stretch")
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
