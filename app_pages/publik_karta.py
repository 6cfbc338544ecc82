"""Vad har gjorts: the public map of approved residents' reports and ``publik`` walk findings with their
status, as Luleå publishes after each walk (issue 16). Positions are coarsened (``privacy.public_positions``);
nothing from ``partner`` or ``begransad`` records, and a resident's report only after a planner approved it."""

from __future__ import annotations

import html

import folium
import pandas as pd
import streamlit as st

from app_pages import _public, _ui
from trygghetskarta import analysis, maps, public, schema, settings
from trygghetskarta.i18n import N_

lang = _public.frame("publik_karta")
t = _public.t
st.title(t("map_title"))
st.caption(t("map_intro", m=float(settings.get("public_position_m"))))

# open: orange, fixed: green, will not be fixed: grey (one colour per line of the legend)
_GROUP_COLOUR = {N_("status_open"): "#e67e22", N_("status_fixed"): "#2e7d32", N_("status_not_fixed"): "#757575"}
_GROUP = {**dict.fromkeys(schema.OPEN_STATUSES, "status_open"), "atgardad": "status_fixed",
          "verifierad": "status_fixed", "ej_atgardas": "status_not_fixed"}
_COLOUR = {status: _GROUP_COLOUR[group] for status, group in _GROUP.items()}

with _ui.guard():
    points = public.public_map_frame(_ui.store(), lang)
    map_lang = "en" if lang == "en" else "sv"
    m = maps.build_map(municipality=_ui.municipality(), areas=_ui.areas(), layers=("areas",), lang=map_lang)
    layer = folium.FeatureGroup(name=t("map_title"))
    for row in points.itertuples():
        label = f"{row.category_label} · {row.status_label}"
        folium.CircleMarker([float(row.lat), float(row.lon)], radius=8, color="#333333", weight=1, fill=True,
                            fill_color=_COLOUR.get(str(row.status), "#e67e22"), fill_opacity=0.9,
                            tooltip=html.escape(label), popup=folium.Popup(html.escape(label), max_width=260)
                            ).add_to(layer)
    layer.add_to(m)
    shown = {_GROUP.get(str(s), "status_open") for s in points["status"]}
    minx, miny, maxx, maxy = (float(v) for v in _ui.municipality().total_bounds)
    maps.add_legend(m, [maps.LegendItem(t("map_legend_status"), colour, t(group), "circle")
                        for group, colour in _GROUP_COLOUR.items() if group in shown], map_lang,
                    (minx, miny, maxx, maxy))
    for key, child in list(m._children.items()):  # the layer control lists the layers rendered before it
        if isinstance(child, folium.LayerControl):
            m._children.move_to_end(key)
    _ui.show_map(m, height=480)
    if points.empty:
        st.info(t("map_none"))
    else:
        st.caption(t("map_count", n=len(points)))
        # the map's places outside the map (issue 14): an HTML table a screen reader reads row by row
        areas = _ui.areas()
        names = dict(zip(areas["id"].astype(int), areas["name"].astype(str), strict=True))
        area = analysis.area_ids_from_points(points, areas).map(lambda a: names.get(int(a), "") if pd.notna(a)
                                                                 else "")
        table = pd.DataFrame({t("col_category"): points["category_label"], t("col_status"): points["status_label"],
                              t("col_reported"): pd.to_datetime(points["reported_at"], utc=True)
                              .dt.tz_convert("Europe/Stockholm").dt.strftime("%Y-%m-%d"),
                              t("col_area"): area.to_numpy()})
        with st.expander(t("map_list", n=len(points)), icon=":material/list:"):
            st.table(table.map(_ui.plain), hide_index=True, alt=t("map_title"))
