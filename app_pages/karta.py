"""Karta: findings, partner incidents, walks and field sightings over the municipality and its areas,
with filters (period, category, source, status, day/night, area) and analysis layers."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from app_pages import _ui
from trygghetskarta import access, maps, schema, settings

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
        categories = c2.multiselect(_ui.t("categories"), schema.keys("category"),
                                    format_func=lambda k: _ui.label("category", k))
        statuses = c2.multiselect(_ui.t("statuses"), schema.keys("status"),
                                  format_func=lambda k: _ui.label("status", k))
        sources = c3.multiselect(_ui.t("sources"), schema.keys("incident_source"),
                                 format_func=lambda k: _ui.label("incident_source", k),
                                 disabled=may["incident"] == "none")
        chosen_areas = c3.multiselect(_ui.t("areas"), list(area_names), format_func=area_names.get)
        default_layers = ["areas", "findings", "incidents", "walks", "sightings", "heat"]
        layers = st.pills(_ui.t("layers"), list(maps.LAYER_KEYS), selection_mode="multi", default=default_layers,
                          format_func=lambda k: _ui.t(f"layer_{k}"))
    start, end = (period[0], period[-1]) if isinstance(period, tuple) and period else (None, None)
    filters = maps.MapFilters(start=start, end=end, light=light or None,
                              area_ids=tuple(chosen_areas) if chosen_areas else None)

    def _frame(kind: str, **store_filters: object):
        if may[kind] in ("none", "aggregate"):
            return None
        columns = ("category", "status", "severity", "positive", "type", "source", "precision", "area_id",
                   "walk_id", "owner_org", "responsible", "description", "title", "group_size", "age_band")
        frame = _ui.points(kind, viewer, start, end, columns=columns, **store_filters)
        return maps.filter_frame(frame, kind, filters)

    findings = _frame("finding", categories=categories or None, statuses=statuses or None,
                      area_ids=chosen_areas or None)
    incidents = _frame("incident", sources=sources or None, area_ids=chosen_areas or None)
    sightings = _frame("sighting", area_ids=chosen_areas or None)
    walks = None
    if may["walk"] != "none":
        walks = _ui.read("walk", viewer, start, end)
        if chosen_areas:
            walks = walks[walks["area_id"].isin(chosen_areas)]
    areas = _ui.areas()
    m = maps.build_map(municipality=_ui.municipality(), areas=areas, findings=findings, incidents=incidents,
                       walks=walks, sightings=sightings, layers=tuple(layers or ("areas",)), lang=lang)
    sizes = {name: 0 if f is None else len(f) for name, f in
             (("findings", findings), ("incidents", incidents), ("sightings", sightings))}
    _ui.show_map(m, height=620, n_points=sum(sizes.values()))
    note = " " + _ui.t("demo_note") if store.get_meta("demo") else ""
    st.caption(_ui.t("shown", **sizes) + note)

    if may["sighting"] == "aggregate":
        try:
            from trygghetskarta import privacy
        except ImportError:
            _ui.not_yet(6)
        else:
            totals = privacy.sighting_area_totals(store, viewer, start=start, end=end)
            st.subheader(_ui.t("sighting_totals", k=settings.get("privacy_k")))
            st.dataframe(totals, hide_index=True)
