"""Position picking for the report page: the phone's GPS through the browser (a small inline component,
no extra dependency), a photo's EXIF GPS, or a tap on a small map. Shows the chosen point and accuracy."""

from __future__ import annotations

import html
from typing import Any

import folium
import streamlit as st

from app_pages import _assets, _ui
from trygghetskarta import maps, schema

_GPS_HTML = '<button class="tk-gps" type="button"></button><div class="tk-gps-status"></div>'
_GPS_CSS = """
.tk-gps { width: 100%; min-height: 3rem; font-size: 1.05rem; border-radius: .5rem; cursor: pointer;
          border: 1px solid var(--st-primary-color); background: var(--st-secondary-background-color);
          color: var(--st-text-color); }
.tk-gps-status { font-size: .85rem; margin-top: .25rem; color: var(--st-text-color); }
"""
_GPS_JS = """
export default function(component) {
  const { setStateValue, parentElement, data } = component;
  const button = parentElement.querySelector('.tk-gps');
  const status = parentElement.querySelector('.tk-gps-status');
  button.textContent = data.label;
  button.onclick = () => {
    if (!navigator.geolocation) { status.textContent = data.unavailable; return; }
    status.textContent = data.waiting;
    navigator.geolocation.getCurrentPosition(
      (pos) => { status.textContent = '';
                 setStateValue('position', {lat: pos.coords.latitude, lon: pos.coords.longitude,
                                            accuracy: pos.coords.accuracy, at: Date.now()}); },
      (err) => { status.textContent = data.failed + ' (' + err.message + ')'; },
      {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
  };
}
"""


def _base_map(lang: str) -> folium.Map:
    """The municipality and its areas, nothing that changes while a report is made; its libraries come from
    the app, not a CDN."""
    return _assets.local(maps.build_map(municipality=_ui.municipality(), areas=_ui.areas(), layers=("areas",),
                                        lang=lang))


@st.cache_resource(show_spinner=False)
def _gps_component() -> Any:
    return st.components.v2.component("trygghetskarta_gps", html=_GPS_HTML, css=_GPS_CSS, js=_GPS_JS)


def _gps(key: str) -> dict[str, float] | None:
    texts = {"sv": ("Använd min position (GPS)", "Hämtar position …", "Positionen kunde inte hämtas",
                    "Webbläsaren kan inte ge position"),
             "en": ("Use my position (GPS)", "Getting position …", "Could not get the position",
                    "The browser cannot give a position")}[_ui.lang()]
    result = _gps_component()(data=dict(zip(("label", "waiting", "failed", "unavailable"), texts, strict=True)),
                              key=key, on_position_change=lambda: None)
    position = getattr(result, "position", None) if result is not None else None
    return position if isinstance(position, dict) and "lat" in position else None


def pick(prefix: str, *, photo_position: tuple[float, float] | None = None, findings: Any = None,
         height: int = 300) -> tuple[float, float, float | None, str] | None:
    """The chosen (lon, lat, accuracy_m, source) or None. Preference: GPS, then the photo, then a tap;
    a new tap on the map is a deliberate correction and wins."""
    st.markdown(f"**{_ui.t('position')}**")
    state = st.session_state
    nonce = state.get(f"{prefix}_nonce", 0)  # a new report gets fresh GPS and map widgets
    gps = _gps(f"{prefix}_gps_{nonce}")
    sources: dict[str, tuple[float, float, float | None]] = {}
    if gps:
        sources["gps"] = (float(gps["lon"]), float(gps["lat"]), float(gps.get("accuracy") or 0) or None)
    if photo_position:
        sources["exif"] = (photo_position[0], photo_position[1], None)
    tap = state.get(f"{prefix}_tap")
    if tap:
        sources["tap"] = (tap[0], tap[1], None)
    order = [s for s in ("gps", "exif", "tap") if s in sources]
    if state.get(f"{prefix}_tap_new") and "tap" in sources:
        order = ["tap", *[s for s in order if s != "tap"]]
    chosen = (*sources[order[0]], order[0]) if order else None
    # The base map stays the same between reruns (so a tap is never lost to a re-render); the walk's findings
    # and the chosen point travel as a feature group that streamlit-folium swaps in place.
    m = _base_map(_ui.lang())
    layer = folium.FeatureGroup(name=_ui.t("position"))
    if findings is not None and len(findings):
        for row in findings.itertuples():
            category = schema.CATEGORY.get(str(row.category))
            key = category.color if isinstance(category, schema.Category) else "gray"
            colour = maps.MARKER_HEX.get(key, "#575757")
            folium.CircleMarker([row.lat, row.lon], radius=6, color="#333333", weight=1, fill=True,
                                fill_color=colour, fill_opacity=0.9,
                                tooltip=html.escape(_ui.label("category", row.category))).add_to(layer)
    if chosen:
        folium.CircleMarker([chosen[1], chosen[0]], radius=10, color="#d63e2a", weight=3, fill=True,
                            fill_opacity=0.5, tooltip=html.escape(_ui.t("position"))).add_to(layer)
    st.caption(_ui.t("tap_map"))
    from streamlit_folium import st_folium

    key = _map_key(prefix, "map", "line")
    out = st_folium(m, height=height, use_container_width=True, returned_objects=["last_clicked"],
                    key=key, feature_group_to_add=layer,
                    center=(chosen[1], chosen[0]) if chosen else None, zoom=16 if chosen else None)
    clicked = _new_click(out, key, f"{prefix}_tap_raw")
    if clicked:
        state[f"{prefix}_tap"] = clicked
        state[f"{prefix}_tap_new"] = True
        st.rerun()
    if chosen is None:
        st.info(_ui.t("pos_missing"))
        return None
    lon, lat, acc, source = chosen
    if source == "gps":
        st.success(_ui.t("pos_gps", lat=lat, lon=lon, acc=acc or 0))
    else:
        st.success(_ui.t(f"pos_{source}", lat=lat, lon=lon))
    return chosen


def pick_line(prefix: str, *, findings: Any = None, height: int = 300) -> list[tuple[float, float]] | None:
    """A stretch (e.g. a dark path) drawn by tapping its points on the map one after another; the chosen
    (lon, lat) points in order, or None until there are two. "Ångra" removes the last point, "Rensa" all."""
    st.markdown(f"**{_ui.t('line_position')}**")
    state = st.session_state
    points: list[tuple[float, float]] = list(state.get(f"{prefix}_line", []))
    m = _base_map(_ui.lang())
    layer = folium.FeatureGroup(name=_ui.t("line_position"))
    if findings is not None and len(findings):
        for row in findings.itertuples():
            folium.CircleMarker([row.lat, row.lon], radius=5, color="#333333", weight=1, fill=True,
                                fill_color="#9e9e9e", fill_opacity=0.8).add_to(layer)
    if len(points) >= 2:
        folium.PolyLine([[la, lo] for lo, la in points], color="#d63e2a", weight=6, opacity=0.85).add_to(layer)
    for lo, la in points:
        folium.CircleMarker([la, lo], radius=6, color="#d63e2a", weight=2, fill=True, fill_opacity=0.9).add_to(layer)
    st.caption(_ui.t("tap_line"))
    from streamlit_folium import st_folium

    last = points[-1] if points else None
    key = _map_key(prefix, "linemap", "map")
    out = st_folium(m, height=height, use_container_width=True, returned_objects=["last_clicked"],
                    key=key, feature_group_to_add=layer,
                    center=(last[1], last[0]) if last else None, zoom=17 if last else None)
    clicked = _new_click(out, key, f"{prefix}_line_raw")
    if clicked:
        state[f"{prefix}_line"] = [*points, clicked]
        st.rerun()
    c1, c2 = st.columns(2)
    if c1.button(_ui.t("line_undo"), key=f"{prefix}_line_undo", width="stretch", disabled=not points):
        state[f"{prefix}_line"] = points[:-1]
        _fresh_map(prefix, "linemap")  # the map's last tap is forgotten: the same spot can be tapped again
        st.rerun()
    if c2.button(_ui.t("line_clear"), key=f"{prefix}_line_clear", width="stretch", disabled=not points):
        state[f"{prefix}_line"] = []
        _fresh_map(prefix, "linemap")
        st.rerun()
    if len(points) < 2:
        st.info(_ui.t("line_missing", n=len(points)))
        return None
    st.success(_ui.t("line_chosen", n=len(points)))
    return points


def _fresh_map(prefix: str, kind: str) -> None:
    """Give the ``kind`` map a new widget key on its next draw: a new component without the last tap, which
    streamlit-folium would otherwise keep returning (so an undone point could not be tapped again)."""
    state = st.session_state
    state[f"{prefix}_{kind}_gen"] = state.get(f"{prefix}_{kind}_gen", 0) + 1


def _map_key(prefix: str, kind: str, other: str) -> str:
    """The widget key of the ``kind`` tap map now; the ``other`` map, not drawn in this run, gets a fresh key for
    when it is shown again (the point map and the stretch map take turns)."""
    state = st.session_state
    _fresh_map(prefix, other)
    return f"{prefix}_{kind}_{state.get(f'{prefix}_nonce', 0)}_{state.get(f'{prefix}_{kind}_gen', 0)}"


def _new_click(out: Any, key: str, raw_key: str) -> tuple[float, float] | None:
    """The (lon, lat) of a tap on the map ``key`` not yet taken, or None. streamlit-folium returns the last tap
    on every rerun; a tap is new when it differs from the last one taken on this same map."""
    clicked = (out or {}).get("last_clicked")
    if not clicked:
        return None
    raw = (key, clicked.get("lng"), clicked.get("lat"))
    if raw == st.session_state.get(raw_key):
        return None
    st.session_state[raw_key] = raw
    return float(clicked["lng"]), float(clicked["lat"])


def reset(prefix: str) -> None:
    """Forget the chosen point (and drawn stretch) for the next report."""
    for suffix in ("_tap", "_tap_raw", "_tap_new", "_line", "_line_raw"):
        st.session_state.pop(prefix + suffix, None)
    st.session_state[f"{prefix}_nonce"] = st.session_state.get(f"{prefix}_nonce", 0) + 1
