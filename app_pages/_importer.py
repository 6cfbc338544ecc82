"""Upload → preview (CRS detected, accepted and rejected rows) → confirm, shared by Import/export and Admin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import area_import, ingest
from trygghetskarta.ingest import uploads


def preview_upload(state_key: str, upload: Any, preview: Callable[[Path, str], Any]) -> None:
    """Save ``upload`` (an earlier pending one under ``state_key`` is removed), run ``preview(saved path, the
    user's file name)`` and keep ``(path, name, preview's result)`` under ``state_key`` until the user confirms;
    a preview that fails removes the file again. Every upload page previews this way, so no unconfirmed file is
    left behind."""
    state = st.session_state
    old = state.pop(state_key, None)
    if old:
        uploads.discard(old[0])
    path = uploads.save(upload.name, upload.getvalue())
    try:
        result = preview(path, upload.name)
    except Exception:
        uploads.discard(path)
        raise
    state[state_key] = (str(path), upload.name, result)


def import_flow(kind: str, key: str, defaults: dict[str, object] | None = None) -> None:
    """The whole import flow for ``kind``; nothing is written before the user confirms the preview."""
    v = _ui.viewer()
    uploads.remove_stale()
    upload = st.file_uploader(_ui.t("file"), key=f"{key}_file",
                              type=["csv", "txt", "tsv", "xlsx", "geojson", "topojson", "json", "gpkg", "zip", "kml",
                                    "kmz", "gpx"])
    crs = st.text_input(_ui.t("crs_override"), key=f"{key}_crs", placeholder="EPSG:3006").strip() or None
    state = st.session_state
    if upload is not None and st.button(_ui.t("preview"), key=f"{key}_preview", icon=":material/preview:"):
        with st.spinner():
            preview_upload(f"{key}_plan", upload,
                           lambda saved, _name: (crs, ingest.read_file(saved, kind, crs=crs, defaults=defaults)))
        plan = state[f"{key}_plan"][2][1]
        state[f"{key}_impact"] = (area_import.impact(_ui.store(), plan, ingest.municipality().geom_3006)
                                  if kind == "area" else None)
    pending: Any = state.get(f"{key}_plan")
    if not pending:
        return
    path, name, (crs, plan) = pending
    st.markdown(f"**{_ui.plain(name)}**")
    st.info(_ui.t("detected_crs", crs=_ui.plain(plan.detected_crs or "–")) + f" — {_ui.plain(plan.crs_note)}")
    for warning in plan.warnings:
        st.warning(_ui.plain(warning))
    c1, c2 = st.columns(2)
    c1.metric(_ui.t("accepted_rows", n="").rstrip(": "), len(plan.accepted))
    c2.metric(_ui.t("rejected_rows", n="").rstrip(": "), plan.rejected_rows)
    if len(plan.accepted):
        st.dataframe(pd.DataFrame(plan.accepted.drop(columns="geometry")).head(200), hide_index=True, width="stretch")
    if len(plan.rejected):
        st.dataframe(plan.rejected.head(500), hide_index=True, width="stretch")
        st.download_button(_ui.t("rejection_report"), plan.report_csv(),
                           file_name=f"avvisade_{Path(name).stem}.csv", mime="text/csv", key=f"{key}_rej")
    confirmed = True
    impact = state.get(f"{key}_impact")
    if impact is not None:
        st.markdown(f"**{_ui.t('area_impact')}**")
        st.text("\n".join(impact.lines(_ui.lang())))
        if impact.needs_confirmation:
            confirmed = st.checkbox(_ui.t("area_impact_confirm"), key=f"{key}_impact_ok")
    if st.button(_ui.t("confirm_import"), type="primary", key=f"{key}_confirm",
                 disabled=not len(plan.accepted) or not confirmed):
        bar = st.progress(0.0)

        def advance(share: float, what: str) -> None:
            bar.progress(min(max(share, 0.0), 1.0), text=what)

        result = ingest.import_file(_ui.store(), path, kind, crs=crs, defaults=defaults, actor=v, plan=plan,
                                    progress=advance)
        uploads.discard(path)
        state.pop(f"{key}_plan", None)
        state.pop(f"{key}_impact", None)
        st.success(_ui.plain(result.summary_line()))
