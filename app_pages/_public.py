"""Shared parts of the public pages (no login): the resident's language (Swedish, English, Arabic written
right to left, Somali), the links between the public pages, the client's address for the rate limits, and the
place picker (a tap on the map or the phone's position). Texts come from ``trygghetskarta.public_texts``."""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

import folium
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from app_pages import _position
from trygghetskarta import public, public_texts
from trygghetskarta.public_texts import LANGUAGE_NAMES, PUBLIC_LANGUAGES, RTL_LANGUAGES

# (page key, text key, icon): the public pages, reachable without an account (app.py registers them).
PUBLIC_PAGES: tuple[tuple[str, str, str], ...] = (
    ("anmal", "nav_report", ":material/add_location_alt:"),
    ("status", "nav_status", ":material/manage_search:"),
    ("publik_karta", "nav_map", ":material/map:"),
    ("hjalp", "nav_help", ":material/support:"),
)
_STYLE = """<style>
.block-container { max-width: 760px; padding-left: .75rem; padding-right: .75rem; }
[data-testid="stCode"] { direction: ltr; text-align: left; }
.st-key-tk_hp { position: absolute !important; left: -10000px !important; width: 1px !important;
                height: 1px !important; overflow: hidden !important; }
</style>"""


def lang() -> str:
    """The resident's language: the one picked on a public page, else the link's ``lang``, else Swedish."""
    chosen = st.session_state.get("pub_lang")
    if chosen in PUBLIC_LANGUAGES:
        return str(chosen)
    asked = st.query_params.get("lang")
    return asked if asked in PUBLIC_LANGUAGES else "sv"


def t(key: str, **values: object) -> str:
    return public_texts.text(key, lang(), **values)


def frame(page_key: str) -> str:
    """The top of a public page: the language choice, the direction of the text (right to left for Arabic) and
    the links to the other public pages. Returns the language."""
    if st.session_state.get("pub_lang") not in PUBLIC_LANGUAGES:
        st.session_state["pub_lang"] = lang()
    st.html(_STYLE)
    st.segmented_control(public_texts.text("language", lang()), options=list(PUBLIC_LANGUAGES), key="pub_lang",
                         format_func=lambda k: LANGUAGE_NAMES[k], label_visibility="collapsed")
    current = lang()
    direction = "rtl" if current in RTL_LANGUAGES else "ltr"
    # The page content (not Streamlit's frame) takes the language's direction and language tag.
    st.html(f"""<script>
      (function() {{ const main = document.querySelector('[data-testid="stMain"]');
        if (main) {{ main.setAttribute('dir', {json.dumps(direction)});
                     main.setAttribute('lang', {json.dumps(current)}); }}
      }})();</script>
      <style>[data-testid="stMain"] {{ direction: {direction}; }}
      [data-testid="stMain"] .stMarkdown, [data-testid="stMain"] label {{ text-align: start; }}</style>""",
            unsafe_allow_javascript=True)
    links = st.columns(len(PUBLIC_PAGES))
    for column, (key, text_key, icon) in zip(links, PUBLIC_PAGES, strict=True):
        if key != page_key:
            try:
                column.page_link(f"app_pages/{key}.py", label=t(text_key), icon=icon)
            except StreamlitPageNotFoundError:  # the page run on its own (tests): a plain relative link
                column.markdown(f"[{t(text_key)}](./{key}?{urlencode({'lang': current})})")
    accessibility_link()
    return current


def accessibility_link() -> None:
    """The link to the accessibility statement (in Swedish or English; lag 2018:1937 wants it easy to find)."""
    label = t("nav_accessibility")
    try:
        st.page_link("app_pages/tillganglighet.py", label=label, icon=":material/accessibility:")
    except StreamlitPageNotFoundError:  # the page run on its own (tests): a plain relative link
        st.markdown(f"[{label}](./tillganglighet?{urlencode({'lang': 'en' if lang() == 'en' else 'sv'})})")


def client_address() -> str:
    """The client's address as the rate limits count it (the connecting address; ``X-Forwarded-For`` only
    from a trusted proxy, setting ``trusted_proxies``)."""
    # Streamlit gives None for a connection from localhost (a reverse proxy on the same host, or a developer)
    peer = getattr(st.context, "ip_address", None) or "127.0.0.1"
    forwarded = None
    try:
        forwarded = st.context.headers.get("X-Forwarded-For")
    except (AttributeError, RuntimeError):
        forwarded = None
    return public.client_address(peer, forwarded)


def pick_place(prefix: str, map_lang: str) -> tuple[float, float] | None:
    """A place from the phone's position or a tap on the map; None until one is chosen."""
    from streamlit_folium import st_folium

    state = st.session_state
    nonce = state.get(f"{prefix}_nonce", 0)
    st.caption(t("tap_map"))
    gps = _position._gps_component()(
        data={"label": t("use_gps"), "waiting": t("gps_waiting"), "failed": t("gps_failed"),
              "unavailable": t("gps_unavailable")}, key=f"{prefix}_gps_{nonce}", on_position_change=lambda: None)
    position = getattr(gps, "position", None) if gps is not None else None
    if isinstance(position, dict) and "lat" in position and position.get("at") != state.get(f"{prefix}_gps_at"):
        state[f"{prefix}_gps_at"] = position.get("at")
        state[f"{prefix}_place"] = (float(position["lon"]), float(position["lat"]))
    chosen = state.get(f"{prefix}_place")
    m = _position._base_map(map_lang)
    layer = folium.FeatureGroup(name="plats")
    if chosen:
        folium.CircleMarker([chosen[1], chosen[0]], radius=10, color="#d63e2a", weight=3, fill=True,
                            fill_opacity=0.5, tooltip=html.escape(t("place"))).add_to(layer)
    key = f"{prefix}_map_{nonce}"
    out = st_folium(m, height=300, use_container_width=True, returned_objects=["last_clicked"],
                    key=key, feature_group_to_add=layer,
                    center=(chosen[1], chosen[0]) if chosen else None, zoom=16 if chosen else None)
    clicked = _position.new_click(out, key, f"{prefix}_tap_raw")
    if clicked:
        state[f"{prefix}_place"] = clicked
        st.rerun()
    if chosen:
        st.success(t("place_chosen", pos=f"{chosen[1]:.5f}, {chosen[0]:.5f}"))
    return chosen


def reset_place(prefix: str) -> None:
    for suffix in ("_place", "_tap_raw", "_gps_at"):
        st.session_state.pop(prefix + suffix, None)
    st.session_state[f"{prefix}_nonce"] = st.session_state.get(f"{prefix}_nonce", 0) + 1
