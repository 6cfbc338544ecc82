"""Position picking for the report page: the phone's GPS through the browser (a small inline component,
no extra dependency), a photo's EXIF GPS, a place from a list ("Kan du inte använda kartan?", for anyone who
cannot use the map: the walk's area, its findings, every area; ``trygghetskarta.places``) or a tap on a small
map that opens on the walk's area. Shows the chosen point and accuracy."""

from __future__ import annotations

import html
from typing import Any

import folium
import streamlit as st

from app_pages import _assets, _ui
from trygghetskarta import maps, places, schema

Bounds = tuple[float, float, float, float]  # (min lon, min lat, max lon, max lat) the tap map opens on
CHOSEN = {"color": "#111111", "fill_color": "#ffffff"}  # the chosen point: a black and white ring, no category's

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


def _base_map(lang: str, bounds: Bounds | None = None) -> folium.Map:
    """The municipality and its areas, framed on ``bounds`` (the walk's area) when given: nothing that changes
    while a report is made, so the same walk gives the same map every run; its libraries come from the app,
    not a CDN."""
    m = maps.build_map(municipality=_ui.municipality(), areas=_ui.areas(), layers=("areas",), lang=lang)
    if bounds is not None:
        minx, miny, maxx, maxy = bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])  # once, as the map is drawn: no later move to race a tap
    return _assets.local(m)


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


def _place_label(place: places.Place) -> str:
    if place.kind == "finding":
        text = place.detail[:40] + ("…" if len(place.detail) > 40 else "")
        return _ui.t("place_finding", id=place.ref, category=_ui.label("category", place.name),
                     text=f" – {text}" if text else "")
    return _ui.t("place_walk_area" if place.in_walk else "place_area", name=place.name, acc=int(place.accuracy_m or 0))


def _choose_place(prefix: str, nonce: int, choices: list[places.Place]) -> places.Place | None:
    """"Kan du inte använda kartan?": a search over the places and a list of them; the chosen place or None."""
    with st.expander(_ui.t("no_map"), icon=":material/list_alt:"):
        st.caption(_ui.t("no_map_intro"))
        query = st.text_input(_ui.t("place_search"), key=f"{prefix}_place_q_{nonce}")
        labels = {p.key: _place_label(p) for p in choices}
        found = places.search(choices, query, [labels[p.key] for p in choices])
        if not found:
            st.caption(_ui.t("place_none"))
        by_key = {p.key: p for p in choices}
        key = st.selectbox(_ui.t("place_choose"), [p.key for p in found], index=None, placeholder=_ui.t("choose"),
                           format_func=labels.__getitem__, key=f"{prefix}_place_{nonce}",
                           on_change=lambda: st.session_state.__setitem__(f"{prefix}_latest", "place"))
    return by_key.get(key) if key else None


def _order(prefix: str, sources: dict[str, tuple[float, float, float | None]]) -> list[str]:
    """Which source the position comes from, best first: GPS, the photo, a tap, a listed place; the latest
    deliberate choice (a new tap on the map, a place from the list) wins."""
    order: list[str] = [s for s in ("gps", "exif", "tap", "place") if s in sources]
    latest = st.session_state.get(f"{prefix}_latest")
    if latest in sources:
        order = [latest, *[s for s in order if s != latest]]
    return order


def pick(prefix: str, *, photo_position: tuple[float, float] | None = None, findings: Any = None,
         height: int = 300, bounds: Bounds | None = None,
         choices: list[places.Place] | None = None) -> tuple[float, float, float | None, str] | None:
    """The chosen (lon, lat, accuracy_m, source) or None. Preference: GPS, then the photo, then a tap, then a
    place from the list; a new tap or a newly chosen place is a deliberate correction and wins. ``bounds``:
    what the map opens on (the walk's area); ``choices``: the places of "Kan du inte använda kartan?"."""
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
    place = _choose_place(prefix, nonce, choices) if choices else None
    if place is not None:
        sources["place"] = (place.lon, place.lat, place.accuracy_m)
    order = _order(prefix, sources)
    chosen = (*sources[order[0]], order[0]) if order else None
    # The base map stays the same between reruns (so a tap is never lost to a re-render); the walk's findings
    # and the chosen point travel as a feature group that streamlit-folium swaps in place.
    m = _base_map(_ui.lang(), bounds)
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
        folium.CircleMarker([chosen[1], chosen[0]], radius=11, weight=4, fill=True, fill_opacity=0.6,
                            tooltip=html.escape(_ui.t("position")), **CHOSEN).add_to(layer)
    st.caption(_ui.t("tap_map"))
    from streamlit_folium import st_folium

    # The chosen point's view travels through center/zoom (streamlit-folium moves the map, it does not rebuild
    # it); before a choice nothing moves the map after it is drawn on the walk's area, so no move races a tap.
    key = _map_key(prefix, "map", "linemap")
    out = st_folium(m, height=height, use_container_width=True, returned_objects=["last_clicked"],
                    key=key, feature_group_to_add=layer,
                    center=(chosen[1], chosen[0]) if chosen else None, zoom=16 if chosen else None)
    clicked = new_click(out, key, f"{prefix}_tap_raw")
    if clicked:
        state[f"{prefix}_tap"] = clicked
        state[f"{prefix}_tap_new"] = True
        state[f"{prefix}_latest"] = "tap"
        st.rerun()
    if chosen is None:
        st.info(_ui.t("pos_missing"))
        return None
    lon, lat, acc, source = chosen
    if source == "gps":
        st.success(_ui.t("pos_gps", lat=lat, lon=lon, acc=acc or 0))
    elif source == "place" and place is not None:
        st.success(_ui.t("pos_place", place=_ui.plain(_place_label(place)), lat=lat, lon=lon))
    else:
        st.success(_ui.t(f"pos_{source}", lat=lat, lon=lon))
    return chosen


def pick_line(prefix: str, *, findings: Any = None, height: int = 300,
              bounds: Bounds | None = None) -> list[tuple[float, float]] | None:
    """A stretch (e.g. a dark path) drawn by tapping its points on the map one after another; the chosen
    (lon, lat) points in order, or None until there are two. "Ångra" removes the last point, "Rensa" all."""
    st.markdown(f"**{_ui.t('line_position')}**")
    state = st.session_state
    points: list[tuple[float, float]] = list(state.get(f"{prefix}_line", []))
    m = _base_map(_ui.lang(), bounds)
    layer = folium.FeatureGroup(name=_ui.t("line_position"))
    if findings is not None and len(findings):
        for row in findings.itertuples():
            folium.CircleMarker([row.lat, row.lon], radius=5, color="#333333", weight=1, fill=True,
                                fill_color="#9e9e9e", fill_opacity=0.8).add_to(layer)
    if len(points) >= 2:
        folium.PolyLine([[la, lo] for lo, la in points], color=CHOSEN["color"], weight=6, opacity=0.85).add_to(layer)
    for lo, la in points:
        folium.CircleMarker([la, lo], radius=6, weight=2, fill=True, fill_opacity=0.9, **CHOSEN).add_to(layer)
    st.caption(_ui.t("tap_line"))
    from streamlit_folium import st_folium

    last = points[-1] if points else None
    key = _map_key(prefix, "linemap", "map")
    out = st_folium(m, height=height, use_container_width=True, returned_objects=["last_clicked"],
                    key=key, feature_group_to_add=layer,
                    center=(last[1], last[0]) if last else None, zoom=17 if last else None)
    clicked = new_click(out, key, f"{prefix}_line_raw")
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


def new_click(out: Any, key: str, raw_key: str) -> tuple[float, float] | None:
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
    for suffix in ("_tap", "_tap_raw", "_tap_new", "_latest", "_line", "_line_raw"):
        st.session_state.pop(prefix + suffix, None)
    st.session_state[f"{prefix}_nonce"] = st.session_state.get(f"{prefix}_nonce", 0) + 1
