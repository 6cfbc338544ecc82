"""Karta: findings, partner incidents, walks and field sightings over the municipality and its areas,
with filters (period, category, source, status, day/night, area) and analysis layers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import access, maps, mapview, schema, settings

viewer = _ui.require("karta")
_ui.header("karta")
lang = _ui.lang()

with _ui.guard():
    store = _ui.store()
    today = _ui.today()
    may = {kind: access.policy(viewer, kind).mode for kind in ("finding", "incident", "sighting", "walk")}
    area_names = _ui.area_names()
    with st.expander(_ui.t("filters"), expanded=True, icon=":material/filter_alt:"):
        c1, c2, c3 = st.columns(3)
        period = c1.date_input(_ui.t("period"), value=(today - dt.timedelta(days=365), today), format="YYYY-MM-DD")
        light = c1.segmented_control(_ui.t("light"), ["dag", "natt"], format_func=lambda k: _ui.t(f"light_{k}"),
                                     key="karta_light")
        categories = c2.multiselect(_ui.t("categories_scope"), schema.keys("category"),
                                    format_func=lambda k: _ui.label("category", k), placeholder=_ui.t("choose"),
                                    help=_ui.t("categories_help"))
        statuses = c2.multiselect(_ui.t("statuses_scope"), schema.keys("status"),
                                  format_func=lambda k: _ui.label("status", k), placeholder=_ui.t("choose"),
                                  help=_ui.t("statuses_help"))
        # only for a role that sees partner incidents (a disabled filter was faint text to no purpose)
        sources = c3.multiselect(_ui.t("sources"), schema.keys("incident_source"),
                                 format_func=lambda k: _ui.label("incident_source", k),
                                 placeholder=_ui.t("choose")) if may["incident"] != "none" else []
        chosen_areas = c3.multiselect(_ui.t("areas"), list(area_names), format_func=area_names.__getitem__,
                                      placeholder=_ui.t("choose"))
        default_layers = ["areas", "findings", "incidents", "walks", "sightings", "heat"]
        layers = st.pills(_ui.t("layers"), list(maps.LAYER_KEYS), selection_mode="multi", default=default_layers,
                          format_func=lambda k: _ui.t(f"layer_{k}"))
        # Gi* on a walk's few dozen findings over-flags on 100 m cells; 250 m with FDR is the safer default.
        g1, g2 = st.columns(2)
        cell_m = g1.select_slider(_ui.t("cell_m"), [100, 250, 500, 1000], value=250)
        fdr = g2.toggle(_ui.t("fdr"), value=True, help=_ui.t("fdr_help"))
    start, end = (period[0], period[-1]) if isinstance(period, tuple) and period else (None, None)
    filters = maps.MapFilters(start=start, end=end, light=light or None,
                              categories=tuple(categories) or None, statuses=tuple(statuses) or None,
                              sources=tuple(sources) or None, area_ids=tuple(chosen_areas) or None)
    data = _ui.map_data(viewer, filters)
    chosen_layers = tuple(layers or ("areas",))
    emerging = _ui.emerging(viewer, cell_m) if "emerging" in chosen_layers else None
    m = mapview.map_for(data, _ui.areas(), layers=chosen_layers, lang=lang, grid_cell_m=cell_m, fdr=fdr,
                        emerging=emerging)
    if "gistar" in chosen_layers:  # the hot spots explained in plain words beside the map (below it on a phone)
        map_column, side = st.columns([3, 1])
        with map_column:
            _ui.show_map(m, height=620)
        with side:
            st.markdown(f"**{_ui.t('hotspot_title')}**")
            what = _ui.t("hotspot_what_both" if data.incidents is not None else "hotspot_what_findings")
            st.markdown(_ui.t("hotspot_explain", cell=cell_m, what=what))
            st.caption(_ui.t("hotspot_fdr_on" if fdr else "hotspot_fdr_off") + " " + _ui.t("hotspot_zoom"))
    else:
        _ui.show_map(m, height=620)
    # How far the hot spots can be trusted (#17): the last six months' hot spots tested on the month after each
    method = "gistar" if "gistar" in chosen_layers else ("kde" if "heat" in chosen_layers else "count")
    trust = _ui.hotspot_trust(viewer, method, cell_m)
    st.info(_ui.plain(trust["sentence"]), icon=":material/target:")
    if emerging is not None:
        st.caption(_ui.t("emerging_note"))
    sizes = data.sizes
    note = " " + _ui.t("demo_note") if store.get_meta("demo") else ""
    st.caption(_ui.t("shown", **sizes) + note)
    st.caption(_ui.t("legend_note"))
    _ui.marker_list(maps.marker_table(findings=data.findings, incidents=data.incidents, sightings=data.sightings,
                                      areas=_ui.areas(), layers=chosen_layers, lang=lang))

    if data.sighting_areas is not None:  # partners: published area sums over whole ISO weeks (mapview.map_data)
        st.subheader(_ui.t("sighting_totals", k=settings.get("privacy_k")))
        for line in data.notes(lang):
            st.caption(line)
        totals = data.sighting_areas
        st.dataframe(pd.DataFrame({_ui.t("areas"): totals["area"], _ui.t("sighting_count"): totals["count_display"]}),
                     hide_index=True)

    with st.expander(_ui.t("trust_title"), icon=":material/query_stats:"):
        st.caption(_ui.t("trust_help"))
        summary = list(trust["summary"])
        if summary:
            from trygghetskarta.hotspot_service import method_label

            table = pd.DataFrame(summary)
            table = pd.DataFrame({
                _ui.t("trust_table"): [f"{round(100 * s)} %" for s in table["share"]],
                _ui.t("trust_method"): [method_label(method, lang) if m == "method" else _ui.t("trust_naive")
                                        for m in table["model"]],
                "PAI": table["pai"].round(1), "RRI": table["rri"].round(2),
                _ui.t("trust_hits"): [f"{h}/{e}" for h, e in zip(table["hits"], table["events"], strict=True)],
            })
            st.dataframe(table, hide_index=True)
            # month by month at 5 % of the area: has the map been right before?
            rolled = pd.DataFrame(trust["rolled"])
            rolled = rolled[rolled["share"] == max(trust["shares"])]
            by_month = rolled.pivot_table(index="period", columns="model", values="hit_rate").reset_index()
            st.caption(_ui.t("trust_rolled", share=round(100 * max(trust["shares"]))))
            def pct(col: str) -> list[str]:
                return [f"{round(100 * v)} %" if pd.notna(v) else "–" for v in by_month.get(col, [])]

            st.dataframe(pd.DataFrame({_ui.t("trust_month"): by_month["period"].str[:7],
                                       method_label(method, lang): pct("method"), _ui.t("trust_naive"): pct("naive")}),
                         hide_index=True)
