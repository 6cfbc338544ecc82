"""The map libraries (Leaflet and the plugins folium links to) served by the app itself, so a phone on the
report page loads nothing from a CDN: the bundled copies (folium-offline, pinned) are written once to
``<data dir>/web-assets`` and served by Streamlit's component file route with their proper content types.
Both maps use them: the tap map (streamlit-folium loads libraries by URL) and the planners' map
(``_ui.show_map``, an ``st.iframe`` document whose links resolve against the app). The browser caches them, so
a rerun sends only the map itself."""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from trygghetskarta import mapview, settings


@st.cache_resource(show_spinner=False)
def _served() -> tuple[str, dict[tuple[str, str], str]]:
    """The URL prefix of the served folder and (library URL, kind) -> file name."""
    folder = settings.data_dir() / "web-assets"
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "index.html"
    if not index.exists():
        index.write_text("<!doctype html><title>trygghetskarta map libraries</title>\n", encoding="utf-8")
    names: dict[tuple[str, str], str] = {}
    for url, body in mapview.bundled_assets().items():
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:20]
        for kind in ("js", "css"):
            name = f"{digest}.{kind}"
            path = folder / name
            data = body.encode("utf-8")
            if not path.exists() or path.stat().st_size != len(data):
                tmp = path.with_suffix(f".{kind}.tmp")
                tmp.write_bytes(data)
                tmp.replace(path)  # atomic: two app processes may start together
            names[(url, kind)] = name
    component = components.declare_component("map_libraries", path=str(folder))
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return ("/" + base if base else "") + f"/component/{component.name}/", names


def local(m: Any) -> Any:
    """``m`` with its library links pointing at the app's own copies (links without a copy are kept)."""
    prefix, names = _served()

    def url_for(url: str, kind: str) -> str | None:
        name = names.get((url, kind))
        return prefix + name if name else None

    return mapview.relink_assets(m, url_for)
